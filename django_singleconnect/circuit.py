"""
A circuit breaker around Single Connect, shared by every worker through Django's cache.

After ``SINGLECONNECT_CIRCUIT_FAILURES`` service failures in a row, Single Connect is left
alone for ``SINGLECONNECT_CIRCUIT_RESET_SECONDS``: the code page answers 503 at once instead
of making every user wait for a timeout. Then one trial call decides whether it closes again.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from django.core.cache import BaseCache

from . import signals

logger = logging.getLogger("django_singleconnect")

FAILURES_KEY = "django_singleconnect:circuit:failures"
OPEN_UNTIL_KEY = "django_singleconnect:circuit:open_until"
TRIAL_KEY = "django_singleconnect:circuit:trial"


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

    def succeeded(self) -> None:
        """Single Connect gave a documented answer."""
        values = self.cache.get_many([FAILURES_KEY, OPEN_UNTIL_KEY])
        if not values:
            return
        self.cache.delete_many([FAILURES_KEY, OPEN_UNTIL_KEY, TRIAL_KEY])
        if OPEN_UNTIL_KEY in values:
            logger.warning("Single Connect answers again: circuit closed")
            signals.circuit_closed.send(sender=Breaker)

    def failed(self) -> None:
        """Single Connect gave no clear answer."""
        self.cache.add(FAILURES_KEY, 0, timeout=None)
        try:
            count = self.cache.incr(FAILURES_KEY)
        except ValueError:  # expired or evicted between add and incr
            count = 1
            self.cache.set(FAILURES_KEY, count, timeout=None)
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
