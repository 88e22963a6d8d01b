"""
A circuit breaker around Single Connect, shared by every worker through Django's cache.

After ``SINGLECONNECT_CIRCUIT_FAILURES`` service failures in a row, Single Connect is left
alone for ``SINGLECONNECT_CIRCUIT_RESET_SECONDS``: the code page answers 503 at once instead
of making every user wait for a timeout. Then one trial call decides whether it closes again.

Only Single Connect's own failures count (no answer, a timeout, TLS, a 5xx, an undocumented
page); the client never reports a 4xx here, which is about one request and so one user.
Failures are counted in windows of :func:`window_seconds`: a failure always counts for at
least one window and never for more than two, so a trickle of failures spread over hours
never opens the circuit.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from django.core.cache import BaseCache

from . import signals

logger = logging.getLogger("django_singleconnect")

FAILURES_KEY = "django_singleconnect:circuit:failures"  # + ":" + the window's number
OPEN_UNTIL_KEY = "django_singleconnect:circuit:open_until"
TRIAL_KEY = "django_singleconnect:circuit:trial"


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

    def allow(self) -> bool:
        """Whether a call may go to Single Connect now."""
        open_until: float | None = self.cache.get(OPEN_UNTIL_KEY)
        if open_until is None:
            return True
        if time.time() < open_until:
            return False
        # Half open: the first worker to ask makes the one trial call.
        return bool(self.cache.add(TRIAL_KEY, True, timeout=self.trial_seconds))

    def _failure_keys(self) -> tuple[str, str]:
        """The keys of this window's failures and the last window's."""
        window = int(time.time() // window_seconds(self.reset_seconds))
        return f"{FAILURES_KEY}:{window}", f"{FAILURES_KEY}:{window - 1}"

    def counted(self) -> int:
        """The failures that count toward opening the circuit now."""
        return sum(self.cache.get_many(list(self._failure_keys())).values())

    def succeeded(self) -> None:
        """Single Connect gave a documented answer."""
        keys = [*self._failure_keys(), OPEN_UNTIL_KEY]
        values = self.cache.get_many(keys)
        if not values:
            return
        self.cache.delete_many([*keys, TRIAL_KEY])
        if OPEN_UNTIL_KEY in values:
            logger.warning("Single Connect answers again: circuit closed")
            signals.circuit_closed.send(sender=Breaker)

    def answered_for_one(self) -> None:
        """
        Single Connect answered one request with a 4xx: neither its failure nor a success.

        The count is left alone, so that no user can open (or close) the circuit for the
        others; a trial call that got such an answer lets the next call be the trial.
        """
        self.cache.delete(TRIAL_KEY)

    def failed(self) -> None:
        """Single Connect gave no clear answer."""
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
        trial_failed = self.cache.get(TRIAL_KEY) is not None
        if count < self.failures and not trial_failed:
            return
        self.cache.set(OPEN_UNTIL_KEY, time.time() + self.reset_seconds, timeout=None)
        self.cache.delete(TRIAL_KEY)
        if count == self.failures or trial_failed:
            logger.warning(
                "Single Connect failed %d times in a row: circuit open, no calls for %g s",
                count,
                self.reset_seconds,
            )
            signals.circuit_opened.send(
                sender=Breaker, failures=count, reset_seconds=self.reset_seconds
            )
