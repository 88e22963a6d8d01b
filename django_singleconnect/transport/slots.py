"""The call limit of a process: how many calls to Single Connect may be slow at once."""

from __future__ import annotations

import contextlib
import itertools
import threading
import time
from collections.abc import Iterator


class CallSlots:
    """
    The calls this process has under way, and the two limits on them.

    What ties up a site when Single Connect hangs is threads held by calls that do not end,
    not calls as such. So SINGLECONNECT_MAX_SLOW_CALLS bounds the calls under way for longer
    than SINGLECONNECT_SLOW_CALL_SECONDS: while Single Connect answers within that, a burst
    of logins calls it from every thread; when it hangs, the first calls to grow slow keep
    their slots until their deadline, any other call is cut short when it grows slow, and a
    new call gives up at once while the slow slots are held. Every thread past the limit is
    free again after SINGLECONNECT_SLOW_CALL_SECONDS.

    SINGLECONNECT_MAX_CONCURRENT_CALLS (off by default) bounds all calls: a call past it
    waits for a free slot until SINGLECONNECT_SLOT_WAIT_SECONDS after the latest call under
    way started, then gives up.
    """

    def __init__(self) -> None:
        self._freed = threading.Condition()
        #: When each call under way started (time.monotonic).
        self._started: dict[int, float] = {}
        #: The calls under way that went on past the slow bound.
        self._slow: set[int] = set()
        self._tickets = itertools.count()

    @property
    def in_use(self) -> int:
        return len(self._started)

    @property
    def slow(self) -> int:
        return len(self._slow)

    @contextlib.contextmanager
    def slot(
        self, limit: int | None, wait: float, slow_limit: int | None = None
    ) -> Iterator[int | None]:
        """
        Yields the call's ticket, or None when it may not go: the slow slots are held, or
        no slot of ``limit`` freed in time. With neither limit, -1: nothing is counted.
        """
        if limit is None and slow_limit is None:
            yield -1
            return
        ticket = next(self._tickets)
        with self._freed:
            if slow_limit is None or len(self._slow) < slow_limit:
                while limit is not None and len(self._started) >= limit:
                    remaining = max(self._started.values()) + wait - time.monotonic()
                    if remaining <= 0:
                        break
                    self._freed.wait(remaining)
                else:
                    self._started[ticket] = time.monotonic()
        granted = ticket in self._started
        try:
            yield ticket if granted else None
        finally:
            if granted:
                with self._freed:
                    del self._started[ticket]
                    self._slow.discard(ticket)
                    self._freed.notify()

    def may_go_on(self, ticket: int, slow_limit: int) -> bool:
        """A call grew slow: whether it takes a slow slot and goes on, or is cut short."""
        with self._freed:
            if ticket not in self._started:
                return True  # it ended meanwhile
            if len(self._slow) < slow_limit:
                self._slow.add(ticket)
                return True
            return False

    def start_over(self) -> None:
        self._freed = threading.Condition()
        self._started = {}
        self._slow = set()


call_slots = CallSlots()
