"""
A circuit breaker around each Single Connect node, shared by every worker through Django's
cache: a dead node is skipped at once by every worker, and the next node is asked instead.

After ``SINGLECONNECT_CIRCUIT_FAILURES`` service failures in a row, Single Connect is left
alone for ``SINGLECONNECT_CIRCUIT_RESET_SECONDS``: the code page answers 503 at once instead
of making every user wait for a timeout. Then one trial call decides whether it closes again.

Only Single Connect's own failures count (no answer, a timeout, TLS, a 5xx, an undocumented
page); the client never reports a 4xx here, which is about one request and so one user.
Failures are counted in windows of :func:`window_seconds`: a failure always counts for at
least one window and never for more than two, so a trickle of failures spread over hours
never opens the circuit. And no one user opens it: the failures that open it come from at
least two Single Connect usernames (or from a call made for no user), so a username whose
calls Single Connect fails (bad data of one user, or a guesser's) does not take the step
away from the others; that user's own attempts and codes are capped by their lockout and
their code budget.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from django.core.cache import BaseCache

from .. import signals
from ..logs import fields

logger = logging.getLogger("django_singleconnect")

# Each + ":" + the node, when the breaker has one; the failures' key + ":" + the window.
FAILURES_KEY = "django_singleconnect:circuit:failures"
OPEN_UNTIL_KEY = "django_singleconnect:circuit:open_until"
TRIAL_KEY = "django_singleconnect:circuit:trial"


def node_key(key: str, node: str) -> str:
    """``key`` for one node's breaker ("" for a breaker of no particular node)."""
    return f"{key}:{node.lower()}" if node else key


def window_seconds(reset_seconds: float) -> float:
    """How long a failure counts toward opening the circuit: a minute, or two resets."""
    return max(60.0, 2 * reset_seconds)


@dataclass(frozen=True)
class Breaker:
    cache: BaseCache
    failures: int
    reset_seconds: float
    #: How long one trial call may take before another worker may try.
    trial_seconds: float
    #: The node (``host`` or ``host:port``) whose calls this breaker counts.
    node: str = ""

    @property
    def open_until_key(self) -> str:
        return node_key(OPEN_UNTIL_KEY, self.node)

    @property
    def trial_key(self) -> str:
        return node_key(TRIAL_KEY, self.node)

    def allow(self) -> bool:
        """Whether a call may go to this node now."""
        open_until: float | None = self.cache.get(self.open_until_key)
        if open_until is None:
            return True
        if time.time() < open_until:
            return False
        # Half open: the first worker to ask makes the one trial call.
        return bool(self.cache.add(self.trial_key, True, timeout=self.trial_seconds))

    def _several_users(self, username: str, current: str, last: str) -> bool:
        """Whether this window's failures (or the last one's) came from two users or more."""
        if not username:
            return True  # a call for no particular user: the node's failure, plainly
        timeout = 2 * window_seconds(self.reset_seconds) + 1
        first, several = f"{current}:first", f"{current}:several"
        if not self.cache.add(first, username, timeout=timeout) and self.cache.get(first) not in (
            username,
            None,
        ):
            self.cache.set(several, True, timeout=timeout)
        found = self.cache.get_many([several, f"{last}:several"])
        if found:
            return True
        # The last window's first user, if another, makes two as well.
        before = self.cache.get(f"{last}:first")
        return before is not None and before != username

    def _failure_keys(self) -> tuple[str, str]:
        """The keys of this window's failures and the last window's."""
        window = int(time.time() // window_seconds(self.reset_seconds))
        prefix = node_key(FAILURES_KEY, self.node)
        return f"{prefix}:{window}", f"{prefix}:{window - 1}"

    def counted(self) -> int:
        """The failures that count toward opening the circuit now."""
        return sum(self.cache.get_many(list(self._failure_keys())).values())

    def succeeded(self) -> None:
        """Single Connect gave a documented answer."""
        keys = [*self._failure_keys(), self.open_until_key]
        values = self.cache.get_many(keys)
        if not values:
            return
        self.cache.delete_many([*keys, self.trial_key])
        if self.open_until_key in values:
            logger.warning(
                "Single Connect node %s answers again: circuit closed",
                self.node,
                extra=fields("circuit_closed", node=self.node, outcome="closed"),
            )
            signals.circuit_closed.send(sender=Breaker, node=self.node)

    def answered_for_one(self) -> None:
        """
        Single Connect answered one request with a 4xx: neither its failure nor a success.

        The count is left alone, so that no user can open (or close) the circuit for the
        others; a trial call that got such an answer lets the next call be the trial.
        """
        self.cache.delete(self.trial_key)

    def failed(self, username: str = "") -> None:
        """Single Connect gave no clear answer to a call for ``username``."""
        current, last = self._failure_keys()
        # Each key outlives its own window and the next, when it is read as "the last one".
        timeout = 2 * window_seconds(self.reset_seconds) + 1
        self.cache.add(current, 0, timeout=timeout)
        try:
            count = self.cache.incr(current)
        except ValueError:  # expired or evicted between add and incr
            count = 1
            self.cache.set(current, count, timeout=timeout)
        count += self.cache.get(last) or 0
        trial_failed = self.cache.get(self.trial_key) is not None
        # CIRCUIT_FAILURES = 1 asks to open at the first failure, whoever's it is.
        several = self.failures <= 1 or self._several_users(username, current, last)
        if (count < self.failures or not several) and not trial_failed:
            return
        was_open = self.cache.get(self.open_until_key) is not None
        self.cache.set(self.open_until_key, time.time() + self.reset_seconds, timeout=None)
        self.cache.delete(self.trial_key)
        if not was_open or trial_failed:
            logger.warning(
                "Single Connect node %s failed %d times in a row: circuit open, no calls for %g s",
                self.node,
                count,
                self.reset_seconds,
                extra=fields("circuit_opened", node=self.node, outcome="opened"),
            )
            signals.circuit_opened.send(
                sender=Breaker, node=self.node, failures=count, reset_seconds=self.reset_seconds
            )
