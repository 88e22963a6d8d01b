"""
SINGLECONNECT_MAX_CONCURRENT_CALLS and SINGLECONNECT_SLOT_WAIT_SECONDS: past the limit a call
waits for a free slot, briefly, then gives up without calling.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

import pytest
from django.core.cache import caches
from django.test import Client

from django_singleconnect import client as client_module
from django_singleconnect.client import SingleConnectClient
from django_singleconnect.conf import get_config
from django_singleconnect.exceptions import (
    SingleConnectBusy,
    SingleConnectError,
    SingleConnectTimeout,
)
from django_singleconnect.models import AttemptCounter, VerificationEvent
from django_singleconnect.simulator import Simulator
from django_singleconnect.transport import sessions as sessions_module

pytestmark = pytest.mark.django_db


def slow_call_in_thread(simulator: Simulator, seconds: float) -> tuple[threading.Thread, list[Any]]:
    """Start one otpstatus call that the simulator holds for ``seconds``."""
    simulator.set_fault("latency", seconds=seconds)
    outcome: list[Any] = []
    config = get_config()  # read here: the thread must not open a database connection

    def call() -> None:
        try:
            outcome.append(SingleConnectClient(config).otp_status("bob", "192.0.2.1"))
        finally:
            caches.close_all()  # this thread's own cache connections

    thread = threading.Thread(target=call)
    thread.start()
    # Wait (boundedly) until the call has reached the simulator and is being held there.
    for _ in range(400):
        if simulator.connections:
            break
        threading.Event().wait(0.005)
    threading.Event().wait(0.05)
    return thread, outcome


def test_past_the_limit_a_call_waits_then_gives_up(
    simulator: Simulator, settings: Any, caplog: pytest.LogCaptureFixture
) -> None:
    settings.SINGLECONNECT_MAX_CONCURRENT_CALLS = 1
    settings.SINGLECONNECT_SLOT_WAIT_SECONDS = 0.1
    thread, outcome = slow_call_in_thread(simulator, 2.0)
    with pytest.raises(SingleConnectBusy) as refused:
        SingleConnectClient().otp_status("alice", "192.0.2.1")
    # It gave up while the first call was still held by Single Connect.
    assert thread.is_alive()
    assert refused.value.cause == "busy"
    assert "not called, 1 calls under way for 0.1 s or more" in caplog.text
    thread.join()
    assert outcome == [True]
    assert simulator.call_count("otpstatus") == 1  # the refused call never left
    # The slot is free again.
    simulator.set_fault(None)
    assert SingleConnectClient().otp_status("alice", "192.0.2.1") is True
    assert client_module.call_slots.in_use == 0


def test_no_wait_when_the_calls_under_way_are_older_than_the_wait(
    simulator: Simulator, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Single Connect hangs: the slots are held by old calls, a new one gives up at once."""
    settings.SINGLECONNECT_MAX_CONCURRENT_CALLS = 1
    settings.SINGLECONNECT_SLOT_WAIT_SECONDS = 0.2
    thread, outcome = slow_call_in_thread(simulator, 1.5)
    slots = client_module.call_slots
    oldest = next(iter(slots._started.values()))
    while time.monotonic() < oldest + 0.25:
        time.sleep(0.01)
    waits: list[float] = []
    monkeypatch.setattr(slots._freed, "wait", lambda timeout=None: waits.append(timeout))
    with pytest.raises(SingleConnectBusy):
        SingleConnectClient().otp_status("alice", "192.0.2.1")
    assert waits == []
    assert thread.is_alive()
    monkeypatch.undo()
    thread.join()
    assert outcome == [True]


def test_a_call_that_waits_goes_when_a_slot_frees(simulator: Simulator, settings: Any) -> None:
    settings.SINGLECONNECT_MAX_CONCURRENT_CALLS = 1
    settings.SINGLECONNECT_SLOT_WAIT_SECONDS = 30
    thread, outcome = slow_call_in_thread(simulator, 0.3)
    assert SingleConnectClient().otp_status("alice", "192.0.2.1") is True
    # It went only once the first call had given its slot back.
    assert outcome == [True]
    thread.join()
    assert simulator.call_count("otpstatus") == 2


def test_never_more_calls_at_once_than_the_limit(
    simulator: Simulator, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.SINGLECONNECT_MAX_CONCURRENT_CALLS = 2
    settings.SINGLECONNECT_SLOT_WAIT_SECONDS = 30
    simulator.set_fault("latency", seconds=0.1)
    lock = threading.Lock()
    under_way = [0]
    most = [0]
    original = SingleConnectClient._call

    def counted(self: SingleConnectClient, *args: Any) -> Any:
        with lock:
            under_way[0] += 1
            most[0] = max(most[0], under_way[0])
        try:
            return original(self, *args)
        finally:
            with lock:
                under_way[0] -= 1

    monkeypatch.setattr(SingleConnectClient, "_call", counted)
    config = get_config()
    results: list[Any] = []

    def call() -> None:
        try:
            results.append(SingleConnectClient(config).otp_status("alice", "192.0.2.1"))
        finally:
            caches.close_all()

    threads = [threading.Thread(target=call) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [True] * 6
    assert most[0] == 2
    assert client_module.call_slots.in_use == 0


def test_no_limit_when_set_to_none(simulator: Simulator, settings: Any) -> None:
    settings.SINGLECONNECT_MAX_CONCURRENT_CALLS = None
    settings.SINGLECONNECT_SLOT_WAIT_SECONDS = 0
    thread, outcome = slow_call_in_thread(simulator, 0.3)
    assert SingleConnectClient().otp_status("alice", "192.0.2.1") is True
    thread.join()
    assert outcome == [True]
    assert simulator.call_count("otpstatus") == 2


def test_a_failed_call_frees_its_slot(simulator: Simulator, settings: Any) -> None:
    settings.SINGLECONNECT_MAX_CONCURRENT_CALLS = 1
    simulator.set_fault("error")
    for _ in range(3):
        with pytest.raises(Exception, match="unexpected answer"):
            SingleConnectClient().otp_status("alice", "192.0.2.1")
    assert client_module.call_slots.in_use == 0


def test_refusals_are_not_failures_of_single_connect(simulator: Simulator, settings: Any) -> None:
    """Busy is this process's own limit: it must not open the circuit breaker."""
    settings.SINGLECONNECT_MAX_CONCURRENT_CALLS = 1
    settings.SINGLECONNECT_SLOT_WAIT_SECONDS = 0
    settings.SINGLECONNECT_CIRCUIT_FAILURES = 2
    thread, _ = slow_call_in_thread(simulator, 0.4)
    for _ in range(5):
        with pytest.raises(SingleConnectBusy):
            SingleConnectClient().otp_status("alice", "192.0.2.1")
    thread.join()
    simulator.set_fault(None)
    assert SingleConnectClient().otp_status("alice", "192.0.2.1") is True


def test_the_code_page_answers_503_and_keeps_the_attempt(
    signed_in: Client, simulator: Simulator, settings: Any
) -> None:
    assert signed_in.get("/2fa/verify/").status_code == 200
    code = simulator.current_code("alice")
    settings.SINGLECONNECT_MAX_CONCURRENT_CALLS = 1
    settings.SINGLECONNECT_SLOT_WAIT_SECONDS = 0
    thread, _ = slow_call_in_thread(simulator, 0.5)
    response = signed_in.post("/2fa/verify/", {"token": code, "next": "/"})
    thread.join()
    assert response.status_code == 503
    assert "Try again" in response.content.decode()
    assert AttemptCounter.objects.get(username="alice").failures == 0
    assert VerificationEvent.objects.filter(event="service_unavailable", detail="busy").exists()
    # Once the slot is free the same code goes through.
    simulator.set_fault(None)
    assert signed_in.post("/2fa/verify/", {"token": code, "next": "/"}).status_code == 302


def test_a_forked_worker_counts_only_its_own_calls() -> None:
    # Calls of the parent, under way when it forked.
    client_module.call_slots._started = {1: 0.0, 2: 0.0, 3: 0.0}
    assert client_module.call_slots.in_use == 3
    sessions_module.forget_sessions_in_child()
    assert client_module.call_slots.in_use == 0


def test_logging_is_quiet_about_codes(
    signed_in: Client, simulator: Simulator, settings: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    assert signed_in.get("/2fa/verify/").status_code == 200
    code = simulator.current_code("alice")
    assert code is not None
    settings.SINGLECONNECT_MAX_CONCURRENT_CALLS = 1
    settings.SINGLECONNECT_SLOT_WAIT_SECONDS = 0
    thread, _ = slow_call_in_thread(simulator, 0.3)
    signed_in.post("/2fa/verify/", {"token": code, "next": "/"})
    thread.join()
    assert all(code not in record.getMessage() for record in caplog.records)


# -- SINGLECONNECT_MAX_SLOW_CALLS: only the calls that grow slow are limited -----------------


def calls_at_once(count: int, outcomes: list[Any]) -> list[threading.Thread]:
    """Start ``count`` otpstatus calls in threads; each appends its answer or its error."""
    config = get_config()

    def call() -> None:
        try:
            outcomes.append(SingleConnectClient(config).otp_status("alice", "192.0.2.1"))
        except SingleConnectError as error:
            outcomes.append(error)
        finally:
            caches.close_all()

    threads = [threading.Thread(target=call) for _ in range(count)]
    for thread in threads:
        thread.start()
    return threads


def test_fast_calls_all_go_at_once(
    simulator: Simulator, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The defaults: no cap on calls that answer within SINGLECONNECT_SLOW_CALL_SECONDS."""
    config = get_config()
    assert (config.MAX_SLOW_CALLS, config.MAX_CONCURRENT_CALLS) == (2, None)
    settings.SINGLECONNECT_SLOW_CALL_SECONDS = 30
    # Every call waits inside _call until all six are inside: with two slots, it would break.
    together = threading.Barrier(6, timeout=10)
    original = SingleConnectClient._call

    def met(self: SingleConnectClient, *args: Any) -> Any:
        together.wait()
        return original(self, *args)

    monkeypatch.setattr(SingleConnectClient, "_call", met)
    outcomes: list[Any] = []
    for thread in calls_at_once(6, outcomes):
        thread.join()
    assert outcomes == [True] * 6
    assert not together.broken
    assert client_module.call_slots.in_use == 0


def test_a_hang_holds_no_more_threads_than_the_slow_limit(
    simulator: Simulator, settings: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """
    Six calls go at once to a Single Connect that hangs: two keep their slow slots until the
    deadline, the other four are cut short when they grow slow, and a call that comes
    meanwhile is not made at all.
    """
    settings.SINGLECONNECT_MAX_SLOW_CALLS = 2
    settings.SINGLECONNECT_SLOW_CALL_SECONDS = 0.3
    settings.SINGLECONNECT_TIMEOUT = (1, 2.5)
    settings.SINGLECONNECT_CIRCUIT_FAILURES = 3
    simulator.set_fault("latency", seconds=30)
    outcomes: list[Any] = []
    threads = calls_at_once(6, outcomes)
    for _ in range(1000):  # the four cut short end first (boundedly waited for)
        if len(outcomes) == 4 and sum(thread.is_alive() for thread in threads) == 2:
            break
        threading.Event().wait(0.01)
    assert len(outcomes) == 4
    assert all(isinstance(error, SingleConnectBusy) for error in outcomes)
    assert all(error.may_have_reached for error in outcomes)  # the request had left
    slots = client_module.call_slots
    # Two threads are still held by Single Connect, no more.
    assert (sum(thread.is_alive() for thread in threads), slots.in_use, slots.slow) == (2, 2, 2)
    assert len([m for m in caplog.messages if ": cut short, 2 calls under way" in m]) == 4
    # Meanwhile a new call is not made: it gives up at once, and never left.
    connections = simulator.connections
    with pytest.raises(SingleConnectBusy) as refused:
        SingleConnectClient().otp_status("alice", "192.0.2.1")
    assert refused.value.may_have_reached is False
    assert "not called, 2 calls under way for 0.3 s or more" in caplog.text
    assert simulator.connections == connections == 6
    for thread in threads:
        thread.join()
    # The two slow calls ended at their deadline, as Single Connect's failures; the four cut
    # short were this process's own limit, so the circuit (three failures) is still closed.
    assert [type(error) for error in outcomes[4:]] == [SingleConnectTimeout] * 2
    assert (slots.in_use, slots.slow) == (0, 0)
    simulator.set_fault(None)
    assert SingleConnectClient().otp_status("alice", "192.0.2.1") is True


def test_a_slow_call_goes_on_when_a_slow_slot_is_free(simulator: Simulator, settings: Any) -> None:
    """Single Connect is slow, not hung: as many slow calls as the limit get their answer."""
    settings.SINGLECONNECT_MAX_SLOW_CALLS = 2
    settings.SINGLECONNECT_SLOW_CALL_SECONDS = 0.1
    simulator.set_fault("latency", seconds=0.5)
    outcomes: list[Any] = []
    for thread in calls_at_once(2, outcomes):
        thread.join()
    assert outcomes == [True, True]
    assert client_module.call_slots.slow == 0


def test_no_slow_limit_when_set_to_none(simulator: Simulator, settings: Any) -> None:
    settings.SINGLECONNECT_MAX_SLOW_CALLS = None
    settings.SINGLECONNECT_SLOW_CALL_SECONDS = 0.1
    simulator.set_fault("latency", seconds=0.4)
    outcomes: list[Any] = []
    for thread in calls_at_once(3, outcomes):
        thread.join()
    assert outcomes == [True] * 3
    assert client_module.call_slots.in_use == 0


def test_a_code_cut_short_ends_on_the_503_page(
    signed_in: Client, simulator: Simulator, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """
    As after a timeout: no answer, nobody verified, and the attempt counted, since the
    request had left and may have reached Single Connect.
    """
    assert signed_in.get("/2fa/verify/").status_code == 200
    code = simulator.current_code("alice")
    settings.SINGLECONNECT_SLOW_CALL_SECONDS = 0.2
    simulator.set_fault("latency", seconds=30)
    # The slow slots are held by others by the time this call grows slow.
    monkeypatch.setattr(client_module.call_slots, "may_go_on", lambda *args: False)
    response = signed_in.post("/2fa/verify/", {"token": code, "next": "/"})
    assert response.status_code == 503
    assert AttemptCounter.objects.get(username="alice").failures == 1
    assert VerificationEvent.objects.filter(event="service_unavailable", detail="busy").exists()
    assert not VerificationEvent.objects.filter(event="verified").exists()
    monkeypatch.undo()
    simulator.set_fault(None)
    # Not a failure of Single Connect's: the circuit is closed, the same code goes through.
    assert signed_in.post("/2fa/verify/", {"token": code, "next": "/"}).status_code == 302
