"""The total deadline of a call, and the cap on an answer's length, over real sockets."""

from __future__ import annotations

import importlib.util
import logging
import os
import signal
import socket
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from urllib3 import HTTPResponse

from django_singleconnect.client import MAX_RESPONSE_BYTES, SingleConnectClient
from django_singleconnect.conf import Settings
from django_singleconnect.exceptions import (
    SingleConnectTimeout,
    SingleConnectUnexpectedResponse,
)
from django_singleconnect.simulator import Simulator
from django_singleconnect.transport import deadline
from django_singleconnect.transport.deadline import Call, Watchdog, WatchedHTTPConnectionPool
from tests.helpers import DripServer, ask, client_for

# The client reads the admin's values (the database, or the cache once warm).
pytestmark = pytest.mark.django_db


def warnings_of(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        record.getMessage()
        for record in caplog.records
        if record.name == "django_singleconnect" and record.levelno == logging.WARNING
    ]


# -- drip: every byte in time, the whole answer not --------------------------------------------


@pytest.mark.parametrize("endpoint", ["otpstatus", "otpvalid"])
def test_a_dripped_answer_is_cut_at_the_deadline(
    server: Simulator, caplog: pytest.LogCaptureFixture, endpoint: str
) -> None:
    # 0.2 s a byte is well within the 0.5 s read timeout: only the total deadline can stop it.
    # Unchecked, the 67-byte answer would take some 13 s.
    server.set_fault("drip", seconds=0.2)
    client = client_for(server, timeout=(0.5, 0.5))
    started = time.monotonic()
    with pytest.raises(SingleConnectTimeout):
        ask(client, endpoint)
    elapsed = time.monotonic() - started
    assert 0.9 < elapsed < 3, elapsed  # connect + read = 1 s, and some slack
    assert server.call_count(endpoint) == 1
    (message,) = warnings_of(caplog)
    assert f"{endpoint} for 'alice': timeout" in message


@pytest.mark.parametrize("endpoint", ["otpstatus", "otpvalid"])
def test_an_answer_cut_in_its_headers_is_no_answer(endpoint: str) -> None:
    """
    Cut in its headers, an answer has its "200 OK" but no Content-Length. http.client reads
    the end of the stream there as the end of the headers, and then an empty body: without a
    check, otpvalid would come back "valid".
    """
    server = DripServer(
        b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nX-Padding: ", b"a", interval=0.05
    )
    try:
        client = SingleConnectClient(hostname=server.hostname, scheme="http", timeout=(0.2, 0.2))
        with pytest.raises(SingleConnectTimeout):
            ask(client, endpoint)
    finally:
        server.close()


def test_the_pooled_connection_works_after_a_cut(server: Simulator) -> None:
    client = client_for(server, timeout=(0.2, 0.2))
    assert client.otp_status("alice", "192.0.2.1") is True
    server.set_fault("drip", seconds=0.05)
    with pytest.raises(SingleConnectTimeout):
        client.otp_status("alice", "192.0.2.1")
    server.set_fault(None)
    # The cut connection is not handed out again: the next calls get a new one, and keep it.
    assert client.otp_status("alice", "192.0.2.1") is True
    code = server.current_code("alice")
    assert code is not None
    assert client_for(server, timeout=(0.2, 0.2)).otp_valid("alice", code) is True
    assert server.connections == 2


def test_the_watchdog_leaves_finished_calls_alone(server: Simulator) -> None:
    client = client_for(server, timeout=(0.1, 0.1))
    assert client.otp_status("alice", "192.0.2.1") is True
    time.sleep(0.4)  # twice the deadline of the call above
    assert client.otp_status("alice", "192.0.2.1") is True
    assert server.call_count() == 2
    assert server.connections == 1


def test_an_answer_just_in_time_is_read(server: Simulator) -> None:
    server.set_fault("latency", seconds=0.1)
    assert client_for(server, timeout=(0.5, 0.5)).otp_status("alice", "192.0.2.1") is True


@pytest.mark.singleconnect_any_host  # sc.invalid, through a proxy on loopback
def test_the_deadline_holds_through_a_proxy(server: Simulator) -> None:
    # The simulator answers a proxy's absolute-form request line as its own.
    client = SingleConnectClient(
        hostname="sc.invalid", scheme="http", proxies={"http": server.url}, timeout=(0.2, 0.2)
    )
    assert client.otp_status("alice", "192.0.2.1") is True
    server.set_fault("drip", seconds=0.05)
    started = time.monotonic()
    with pytest.raises(SingleConnectTimeout):
        client.otp_status("alice", "192.0.2.1")
    assert time.monotonic() - started < 1.5


# -- endless: the length cap ------------------------------------------------------------------


@pytest.fixture
def bytes_read(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many bytes of answers the client took from urllib3."""
    counts: list[int] = []
    original = HTTPResponse.read

    def read(self: HTTPResponse, *args: Any, **kwargs: Any) -> bytes:
        data = original(self, *args, **kwargs)
        counts.append(len(data))
        return data

    monkeypatch.setattr(HTTPResponse, "read", read)
    return counts


@pytest.mark.parametrize("endpoint", ["otpstatus", "otpvalid"])
def test_an_endless_answer_is_read_no_further_than_the_cap(
    server: Simulator,
    bytes_read: list[int],
    caplog: pytest.LogCaptureFixture,
    endpoint: str,
) -> None:
    server.set_fault("endless")
    started = time.monotonic()
    with pytest.raises(SingleConnectUnexpectedResponse) as caught:
        ask(client_for(server), endpoint)  # the default timeout, (3.05, 10)
    # The cap, not the deadline, ended it.
    assert time.monotonic() - started < 2
    assert caught.value.status_code == 200
    assert f"longer than {MAX_RESPONSE_BYTES} bytes" in str(caught.value)
    # One chunk past the cap at most.
    assert MAX_RESPONSE_BYTES < sum(bytes_read) <= MAX_RESPONSE_BYTES + 8192
    (message,) = warnings_of(caplog)
    assert f"{endpoint} for 'alice': unexpected answer, status 200" in message


def test_after_an_endless_answer_the_next_call_works(server: Simulator) -> None:
    client = client_for(server)
    server.set_fault("endless")
    with pytest.raises(SingleConnectUnexpectedResponse):
        client.otp_status("alice", "192.0.2.1")
    server.set_fault(None)
    assert client.otp_status("alice", "192.0.2.1") is True
    assert server.connections == 2


# -- a TLS handshake dripped byte by byte -----------------------------------------------------


def test_a_dripped_tls_handshake_is_cut_short() -> None:
    # The deadline's watch starts with the request; CPython's ssl module holds the whole
    # handshake to the socket's timeout, the connect timeout, itself.
    # A handshake record of 16384 bytes, sent a byte at a time.
    server = DripServer(b"\x16\x03\x03\x40\x00", b"\x00", interval=0.05)
    try:
        client = SingleConnectClient(hostname=server.hostname, timeout=(0.2, 0.2))
        started = time.monotonic()
        with pytest.raises(SingleConnectTimeout):
            client.otp_status("alice", "192.0.2.1")
        assert time.monotonic() - started < 1.5  # two connect attempts of 0.2 s, and slack
    finally:
        server.close()


# -- the watchdog itself ------------------------------------------------------------------------


class Connection:
    """Stands in for a urllib3 connection: the watchdog only touches ``sock``."""

    def __init__(self, sock: Any = None) -> None:
        self.sock = sock


def wait_for(condition: Any, seconds: float = 3) -> None:
    give_up = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < give_up, "timed out"
        time.sleep(0.01)


def test_deadlines_expire_in_their_order_whatever_the_order_they_came_in() -> None:
    watchdog = Watchdog()
    expired: list[str] = []

    class Recorded(Call):
        def __init__(self, name: str, seconds: float) -> None:
            super().__init__(time.monotonic() + seconds)
            self.name = name

        def expire(self) -> None:
            super().expire()
            expired.append(self.name)

    late = Recorded("late", 0.3)
    latest = Recorded("latest", 0.4)
    early = Recorded("early", 0.1)
    middle = Recorded("middle", 0.2)
    finished = Recorded("finished", 0.05)
    finished.done = True
    for call in (late, latest, early, middle, finished):
        watchdog.add(call)
    wait_for(lambda: len(expired) == 4)
    assert expired == ["early", "middle", "late", "latest"]
    assert [call.expired for call in (early, middle, late, latest, finished)] == [
        True,
        True,
        True,
        True,
        False,
    ]
    # The thread waits for more, and still serves.
    again = Recorded("again", 0.05)
    watchdog.add(again)
    wait_for(lambda: again.expired)


def test_a_checkpoint_lets_a_call_go_on_or_cuts_it_short() -> None:
    watchdog = Watchdog()
    asked: list[str] = []

    def answer(name: str, go_on: bool) -> Callable[[], bool]:
        def ask() -> bool:
            asked.append(name)
            return go_on

        return ask

    now = time.monotonic()
    goes_on = Call(now + 0.4, (now + 0.05, answer("goes on", True)))
    cut = Call(now + 60, (now + 0.1, answer("cut", False)))
    ended = Call(now + 60, (now + 0.05, answer("ended", False)))
    ended.done = True
    for call in (goes_on, cut, ended):
        watchdog.add(call)
    wait_for(lambda: cut.expired)
    assert asked == ["goes on", "cut"]  # a call that ended is not asked about
    assert (cut.cut, goes_on.expired) == (True, False)
    wait_for(lambda: goes_on.expired)  # at its deadline, not cut
    assert goes_on.cut is False
    assert (ended.expired, ended.cut) == (False, False)


def test_a_checkpoint_past_the_deadline_does_not_delay_it() -> None:
    watchdog = Watchdog()
    asked: list[bool] = []
    now = time.monotonic()
    call = Call(now + 0.05, (now + 60, lambda: asked.append(True) or True))
    assert call.due == call.deadline
    watchdog.add(call)
    wait_for(lambda: call.expired)
    assert (asked, call.cut) == ([], False)


def test_a_call_that_ends_while_asked_is_not_cut() -> None:
    call: Call

    def ends_meanwhile() -> bool:
        call.done = True
        return False

    call = Call(time.monotonic() + 60, (time.monotonic(), ends_meanwhile))
    assert call.reached() is False
    assert (call.cut, call.expired) == (False, False)


def test_expiry_shuts_the_socket_down() -> None:
    ours, theirs = socket.socketpair()
    with ours, theirs:
        call = Call(time.monotonic() + 60)
        call.watch(Connection(ours))
        call.expire()
        assert call.expired
        assert ours.recv(1) == b""  # ended, as a read waiting on it would be


def test_a_connection_watched_after_expiry_is_shut_at_once() -> None:
    ours, theirs = socket.socketpair()
    with ours, theirs:
        call = Call(time.monotonic())
        call.expire()  # nothing to shut yet
        call.watch(Connection(ours))
        assert ours.recv(1) == b""


def test_a_finished_call_is_not_expired() -> None:
    ours, theirs = socket.socketpair()
    with ours, theirs:
        call = Call(time.monotonic())
        call.watch(Connection(ours))
        call.done = True
        call.expire()
        assert not call.expired
        theirs.sendall(b"x")
        assert ours.recv(1) == b"x"


@pytest.mark.parametrize("sock", ["closed", None, "not a socket"])
def test_shutting_copes_with_what_it_finds(sock: Any) -> None:
    if sock == "closed":
        sock = socket.socket()
        sock.close()
    call = Call(time.monotonic())
    call.watch(Connection(sock))
    call.expire()
    assert call.expired


def test_starting_over_forgets_the_deadlines_and_the_thread() -> None:
    watchdog = Watchdog()
    # As a forked worker finds it: its parent's deadlines, a thread that does not run in it,
    # and the lock held by that thread.
    inherited = Call(time.monotonic())
    watchdog._heap.append((inherited.deadline, -1, inherited))
    watchdog._thread = threading.Thread(target=lambda: None)
    watchdog._condition.acquire()
    watchdog.start_over()  # the fork hook
    fresh = Call(time.monotonic() + 0.05)
    watchdog.add(fresh)
    wait_for(lambda: fresh.expired)
    assert not inherited.expired


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_a_forked_worker_has_its_own_watchdog_and_connections(server: Simulator) -> None:
    parent_client = client_for(server, timeout=(0.2, 0.2))
    assert parent_client.otp_status("alice", "192.0.2.1") is True  # a pooled connection
    server.set_fault("drip", seconds=0.05)
    # Forked while one of the parent's threads holds the watchdog's lock, which no thread of
    # the child will ever release.
    holding = threading.Event()
    release = threading.Event()

    def hold() -> None:
        with deadline._watchdog._condition:
            holding.set()
            release.wait(5)

    holder = threading.Thread(target=hold)
    holder.start()
    holding.wait(5)
    try:
        pid = os.fork()
        if pid == 0:  # pragma: no cover (the child's coverage is not saved)
            status = 1
            try:
                client = SingleConnectClient(
                    Settings(), hostname=server.hostname, scheme="http", timeout=(0.2, 0.2)
                )
                started = time.monotonic()
                try:
                    client.otp_status("alice", "192.0.2.1")
                except SingleConnectTimeout:
                    in_time = time.monotonic() - started < 1.5
                    status = 0 if in_time and client._session is not parent_client._session else 2
            finally:
                os._exit(status)
    finally:
        release.set()
        holder.join(5)
    give_up = time.monotonic() + 5
    while (waited := os.waitpid(pid, os.WNOHANG)) == (0, 0):
        if time.monotonic() > give_up:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            pytest.fail("the child hung")
        time.sleep(0.02)
    assert os.waitstatus_to_exitcode(waited[1]) == 0


@pytest.mark.parametrize("module", ["deadline", "sessions"])
def test_the_modules_load_where_there_is_no_fork(
    monkeypatch: pytest.MonkeyPatch, module: str
) -> None:
    monkeypatch.delattr(os, "register_at_fork")  # as on Windows
    name = f"django_singleconnect.transport._without_fork_{module}"
    spec = importlib.util.spec_from_file_location(
        name, Path(deadline.__file__).parent / f"{module}.py"
    )
    assert spec is not None
    assert spec.loader is not None
    spec.loader.exec_module(importlib.util.module_from_spec(spec))


def test_the_block_is_marked_done() -> None:
    with deadline.deadline(60) as call:
        assert deadline._current.call is call
        assert not call.done
    assert call.done
    assert deadline._current.call is None


def test_a_watched_connection_works_outside_a_deadline(server: Simulator) -> None:
    pool = WatchedHTTPConnectionPool("127.0.0.1", server.port)
    try:
        response = pool.request("GET", "/_simulator/stats")
        assert response.status == 200
    finally:
        pool.close()
