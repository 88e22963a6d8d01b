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
from django_singleconnect.exceptions import SingleConnectBusy
from django_singleconnect.models import AttemptCounter, VerificationEvent
from django_singleconnect.simulator import Simulator

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
    assert client_module._call_slots.in_use == 0


def test_no_wait_when_the_calls_under_way_are_older_than_the_wait(
    simulator: Simulator, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Single Connect hangs: the slots are held by old calls, a new one gives up at once."""
    settings.SINGLECONNECT_MAX_CONCURRENT_CALLS = 1
    settings.SINGLECONNECT_SLOT_WAIT_SECONDS = 0.2
    thread, outcome = slow_call_in_thread(simulator, 1.5)
    slots = client_module._call_slots
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
    assert client_module._call_slots.in_use == 0


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
    assert client_module._call_slots.in_use == 0


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
    client_module._call_slots._started = {1: 0.0, 2: 0.0, 3: 0.0}
    assert client_module._call_slots.in_use == 3
    client_module._forget_sessions_in_child()
    assert client_module._call_slots.in_use == 0


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
