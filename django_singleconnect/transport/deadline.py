"""
A total deadline for each call to Single Connect.

requests' read timeout bounds each wait for a byte, not the whole answer: a server that
drips a byte every few seconds could hold a worker for ever. One watchdog thread per process
keeps the deadlines of the calls under way and, when one passes, shuts the call's socket
down, which ends whatever read is waiting on it.

A call may also have a checkpoint before its deadline: there the watchdog asks whether the
call may go on, and cuts it short when not (the call limit's slow calls, in client.py).
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

#: When (time.monotonic) to ask, and what: True lets the call go on to its deadline.
Checkpoint = tuple[float, Callable[[], bool]]


class Call:
    """One call's deadline, and the connection it runs on once it has one."""

    def __init__(self, deadline: float, checkpoint: Checkpoint | None = None) -> None:
        self.deadline = deadline
        self.expired = False
        #: Expired at the checkpoint, not at the deadline.
        self.cut = False
        self.done = False
        # A checkpoint at or past the deadline would only delay it.
        self._checkpoint = checkpoint if checkpoint and checkpoint[0] < deadline else None
        self._connection: Any = None
        self._lock = threading.Lock()

    @property
    def due(self) -> float:
        """When the watchdog is to look at this call next."""
        return self.deadline if self._checkpoint is None else self._checkpoint[0]

    def reached(self) -> bool:
        """The watchdog's turn at ``due``: True when the call goes on to its deadline."""
        checkpoint, self._checkpoint = self._checkpoint, None
        if checkpoint is not None:
            if self.done or checkpoint[1]():
                return not self.done
            with self._lock:
                self.cut = not self.done
        self.expire()
        return False

    def watch(self, connection: Any) -> None:
        with self._lock:
            self._connection = connection
            expired = self.expired
        if expired:
            _shut(connection)

    def expire(self) -> None:
        with self._lock:
            if self.done:
                return
            self.expired = True
            connection = self._connection
        if connection is not None:
            _shut(connection)


def _shut(connection: Any) -> None:
    sock = getattr(connection, "sock", None)
    if isinstance(sock, socket.socket):
        with contextlib.suppress(OSError):
            # The socket's own shutdown, not SSLSocket.shutdown(): that one also drops the TLS
            # state under the read in the other thread, which may then fail with a ValueError
            # or read the encrypted bytes as they are.
            socket.socket.shutdown(sock, socket.SHUT_RDWR)


class Watchdog:
    def __init__(self) -> None:
        self._order = itertools.count()
        self.start_over()

    def start_over(self) -> None:
        """
        Forget every deadline and the thread. For a forked worker: it inherits none of its
        parent's threads, and the lock may have been held by one of them at the fork.
        """
        self._condition = threading.Condition()
        self._heap: list[tuple[float, int, Call]] = []
        self._thread: threading.Thread | None = None

    def add(self, call: Call) -> None:
        with self._condition:
            if self._thread is None:  # the first call in this process
                self._thread = threading.Thread(
                    target=self._run, name="singleconnect-deadline", daemon=True
                )
                self._thread.start()
            heapq.heappush(self._heap, (call.due, next(self._order), call))
            if self._heap[0][2] is call:
                self._condition.notify()

    def _run(self) -> None:
        while True:
            with self._condition:
                while not self._heap:
                    self._condition.wait()
                deadline, _, call = self._heap[0]
                if call.done:
                    heapq.heappop(self._heap)
                    continue
                wait = deadline - time.monotonic()
                if wait > 0:
                    self._condition.wait(wait)
                    continue
                heapq.heappop(self._heap)
            if call.reached():
                self.add(call)


_watchdog = Watchdog()
_current = threading.local()
if hasattr(os, "register_at_fork"):  # not on Windows, which has no fork
    os.register_at_fork(after_in_child=_watchdog.start_over)


@contextlib.contextmanager
def deadline(seconds: float, checkpoint: Checkpoint | None = None) -> Iterator[Call]:
    """
    Run the block under a deadline; its connection is shut when the deadline passes, or at
    the checkpoint, when its question is answered False.
    """
    call = Call(time.monotonic() + seconds, checkpoint)
    _watchdog.add(call)
    _current.call = call
    try:
        yield call
    finally:
        _current.call = None
        with call._lock:
            call.done = True


def _watch_current(connection: Any) -> None:
    call: Call | None = getattr(_current, "call", None)
    if call is not None:
        call.watch(connection)


class _WatchedHTTPConnection(HTTPConnection):
    def getresponse(self, *args: Any, **kwargs: Any) -> Any:
        _watch_current(self)
        return super().getresponse(*args, **kwargs)


class _WatchedHTTPSConnection(HTTPSConnection):
    def getresponse(self, *args: Any, **kwargs: Any) -> Any:
        _watch_current(self)
        return super().getresponse(*args, **kwargs)


class WatchedHTTPConnectionPool(HTTPConnectionPool):
    ConnectionCls = _WatchedHTTPConnection


class WatchedHTTPSConnectionPool(HTTPSConnectionPool):
    ConnectionCls = _WatchedHTTPSConnection


#: For a urllib3 PoolManager's ``pool_classes_by_scheme``.
POOL_CLASSES = {"http": WatchedHTTPConnectionPool, "https": WatchedHTTPSConnectionPool}
