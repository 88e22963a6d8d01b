"""The circuit breaker: opened by failures in a row, one trial call, shared through the cache."""

from __future__ import annotations

import logging
import threading
import time
import types
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.core.cache import cache
from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.test import Client

from django_singleconnect import signals
from django_singleconnect.client import SingleConnectClient
from django_singleconnect.conf import Settings
from django_singleconnect.exceptions import (
    SingleConnectCircuitOpen,
    SingleConnectError,
    SingleConnectTimeout,
    SingleConnectTLSError,
    SingleConnectUnexpectedResponse,
    SingleConnectUnreachable,
)
from django_singleconnect.models import AttemptCounter, VerificationEvent
from django_singleconnect.simulator import Simulator
from django_singleconnect.transport import circuit
from django_singleconnect.transport.circuit import OPEN_UNTIL_KEY, Breaker, window_seconds
from tests.conftest import Clock

pytestmark = pytest.mark.django_db

VERIFY = "/2fa/verify/"


@pytest.fixture
def breaker_clock(clock: Clock, monkeypatch: pytest.MonkeyPatch) -> Clock:
    """The code step's clock, which the breaker reads too."""
    monkeypatch.setattr(circuit, "time", types.SimpleNamespace(time=clock.time))
    return clock


@pytest.fixture
def small_circuit(settings: Any, simulator: Simulator) -> None:
    settings.SINGLECONNECT_CIRCUIT_FAILURES = 3
    settings.SINGLECONNECT_CIRCUIT_RESET_SECONDS = 30
    # Short enough for the timeout cases, long enough for a loaded machine's answers.
    settings.SINGLECONNECT_TIMEOUT = (1.0, 1.0)


@pytest.fixture
def received() -> Iterator[list[tuple[str, dict[str, Any]]]]:
    calls: list[tuple[str, dict[str, Any]]] = []

    def opened(**kwargs: Any) -> None:
        calls.append(("opened", kwargs))

    def closed(**kwargs: Any) -> None:
        calls.append(("closed", kwargs))

    signals.circuit_opened.connect(opened)
    signals.circuit_closed.connect(closed)
    yield calls
    signals.circuit_opened.disconnect(opened)
    signals.circuit_closed.disconnect(closed)


def circuit_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    """The breaker's own log lines, each a WARNING."""
    lines = []
    for record in caplog.records:
        if record.name == "django_singleconnect" and "circuit" in record.getMessage():
            assert record.levelno == logging.WARNING
            lines.append(record.getMessage())
    return lines


def counted() -> int:
    """The failures the shared breaker counts now, in windows of the configured size."""
    return SingleConnectClient().breaker.counted()


def status(client: SingleConnectClient | None = None, username: str = "alice") -> bool:
    return (client or SingleConnectClient()).otp_status(username, "192.0.2.1")


def fail(times: int, simulator: Simulator) -> None:
    """``times`` calls answered with an error page, each one reaching Single Connect."""
    simulator.set_fault("error")
    # Failures open the circuit only when they come from two users or more: these take turns.
    for turn in range(times):
        with pytest.raises(SingleConnectUnexpectedResponse):
            status(username=("alice", "bob")[turn % 2])
    simulator.set_fault(None)


# -- opening --------------------------------------------------------------------------------


def test_failures_in_a_row_open_the_circuit(
    small_circuit: None,
    simulator: Simulator,
    received: list[Any],
    caplog: pytest.LogCaptureFixture,
) -> None:
    fail(2, simulator)
    assert received == []
    assert circuit_lines(caplog) == []

    fail(1, simulator)
    assert simulator.call_count() == 3
    opened = {"signal": signals.circuit_opened, "sender": Breaker, "node": simulator.hostname}
    assert received == [("opened", {**opened, "failures": 3, "reset_seconds": 30.0})]
    assert circuit_lines(caplog) == [
        f"Single Connect node {simulator.hostname} failed 3 times in a row: circuit open, "
        "no calls for 30 s"
    ]

    # Single Connect works again, but nobody asks it before the reset time.
    for call in (status, lambda: SingleConnectClient().otp_valid("alice", "123456")):
        started = time.monotonic()
        with pytest.raises(SingleConnectCircuitOpen) as caught:
            call()
        assert time.monotonic() - started < 0.1
        assert caught.value.cause == "circuit_open"
    assert simulator.call_count() == 3
    assert len(received) == 1  # opened once
    assert circuit_lines(caplog)[1:] == [
        f"Single Connect otpstatus for 'alice': not called, the circuit is open (node "
        f"{simulator.hostname})",
        f"Single Connect otpvalid for 'alice': not called, the circuit is open (node "
        f"{simulator.hostname})",
    ]


# What counts as a failure: everything but a documented answer.
FAILURES = {
    "timeout": ("latency", SingleConnectTimeout, {}),
    "unreachable": ("drop", SingleConnectUnreachable, {}),
    "error page": ("error", SingleConnectUnexpectedResponse, {}),
    "garbage": ("garbage", SingleConnectUnexpectedResponse, {}),
    "redirect": ("redirect", SingleConnectUnexpectedResponse, {}),
    "endless": ("endless", SingleConnectUnexpectedResponse, {}),
    "dripped": ("drip", SingleConnectTimeout, {}),
    "tls": (None, SingleConnectTLSError, {"scheme": "https"}),  # TLS to a plain HTTP port
}


@pytest.mark.parametrize("kind", FAILURES)
def test_every_kind_of_failure_counts(
    small_circuit: None, simulator: Simulator, settings: Any, kind: str
) -> None:
    settings.SINGLECONNECT_CIRCUIT_FAILURES = 2
    mode, error, overrides = FAILURES[kind]
    if mode is not None:
        simulator.set_fault(mode, seconds=0.05 if mode == "drip" else 1.5)
    client = SingleConnectClient(**overrides)
    with pytest.raises(error):
        client.otp_status("alice", "192.0.2.1")
    with pytest.raises(error):
        client.otp_valid("bob", "123456")
    assert cache.get(client.breaker.open_until_key) is not None
    with pytest.raises(SingleConnectCircuitOpen):
        status()


def not_active(simulator: Simulator) -> bool:
    simulator.inactive.add("alice")
    try:
        return status() is False
    finally:
        simulator.inactive.clear()


ANSWERS: dict[str, Callable[[Simulator], bool]] = {
    "a wrong code": lambda _: SingleConnectClient().otp_valid("alice", "000000") is False,
    "OTP not active": not_active,
    "a code sent": lambda _: status() is True,
}


@pytest.mark.parametrize("answer", ANSWERS)
def test_a_documented_answer_resets_the_count(
    small_circuit: None, simulator: Simulator, answer: str
) -> None:
    fail(2, simulator)
    assert ANSWERS[answer](simulator)
    assert counted() == 0
    fail(2, simulator)
    assert status() is True  # still closed: two in a row, not four
    fail(3, simulator)
    with pytest.raises(SingleConnectCircuitOpen):
        status()


def test_one_failure_is_enough_when_configured(
    small_circuit: None, simulator: Simulator, settings: Any, received: list[Any]
) -> None:
    settings.SINGLECONNECT_CIRCUIT_FAILURES = 1
    fail(1, simulator)
    assert [(name, kwargs["failures"]) for name, kwargs in received] == [("opened", 1)]
    with pytest.raises(SingleConnectCircuitOpen):
        status()


# -- the trial call --------------------------------------------------------------------------


def test_after_the_reset_time_a_trial_that_succeeds_closes_the_circuit(
    small_circuit: None,
    simulator: Simulator,
    breaker_clock: Clock,
    received: list[Any],
    caplog: pytest.LogCaptureFixture,
) -> None:
    fail(3, simulator)
    breaker_clock.advance(29)
    with pytest.raises(SingleConnectCircuitOpen):
        status()
    assert simulator.call_count() == 3

    breaker_clock.advance(1)  # exactly the reset time
    assert status() is True
    assert simulator.call_count() == 4
    assert [name for name, _ in received] == ["opened", "closed"]
    assert received[1][1] == {
        "signal": signals.circuit_closed,
        "sender": Breaker,
        "node": simulator.hostname,
    }
    assert circuit_lines(caplog)[-1] == (
        f"Single Connect node {simulator.hostname} answers again: circuit closed"
    )
    assert counted() == 0
    breaker = SingleConnectClient().breaker
    assert cache.get_many([breaker.open_until_key, breaker.trial_key]) == {}

    # Closed for good: calls go through, and counting starts from nothing.
    fail(2, simulator)
    assert status() is True
    assert [name for name, _ in received] == ["opened", "closed"]


def test_a_trial_that_fails_opens_the_circuit_again(
    small_circuit: None,
    simulator: Simulator,
    breaker_clock: Clock,
    received: list[Any],
    caplog: pytest.LogCaptureFixture,
) -> None:
    fail(3, simulator)
    breaker_clock.advance(30)
    fail(1, simulator)  # the trial
    assert simulator.call_count() == 4
    assert [(name, kwargs.get("failures")) for name, kwargs in received] == [
        ("opened", 3),
        ("opened", 4),
    ]
    assert circuit_lines(caplog)[-1] == (
        f"Single Connect node {simulator.hostname} failed 4 times in a row: circuit open, "
        "no calls for 30 s"
    )
    # A new reset time, from the failed trial on.
    breaker_clock.advance(29)
    with pytest.raises(SingleConnectCircuitOpen):
        status()
    breaker_clock.advance(1)
    assert status() is True
    assert simulator.call_count() == 5


def test_only_one_trial_at_a_time(
    small_circuit: None, simulator: Simulator, breaker_clock: Clock, settings: Any
) -> None:
    settings.SINGLECONNECT_TIMEOUT = (1, 1)
    fail(3, simulator)
    breaker_clock.advance(30)
    simulator.set_fault("latency", seconds=0.3)  # slow, but in time
    outcome: list[Any] = []
    trial = threading.Thread(target=lambda: outcome.append(status(SingleConnectClient(Settings()))))
    trial.start()
    try:
        give_up = time.monotonic() + 2
        while cache.get(SingleConnectClient().breaker.trial_key) is None:
            assert time.monotonic() < give_up
            time.sleep(0.01)
        # Another worker, during the trial: not called.
        for _ in range(3):
            with pytest.raises(SingleConnectCircuitOpen):
                status()
    finally:
        trial.join(5)
    assert outcome == [True]
    assert simulator.call_count() == 4
    assert status() is True


def test_a_trial_that_never_reports_back_is_given_up(simulator: Simulator) -> None:
    # Its worker was killed: after the trial's own time another worker may try.
    breaker = Breaker(cache=cache, failures=1, reset_seconds=0.01, trial_seconds=1)
    breaker.failed()
    time.sleep(0.02)
    assert breaker.allow() is True  # the trial
    assert breaker.allow() is False
    time.sleep(1.1)
    assert breaker.allow() is True


# -- the code page -------------------------------------------------------------------------------


def test_the_code_page_answers_503_at_once_when_open(
    small_circuit: None,
    signed_in: Client,
    simulator: Simulator,
    breaker_clock: Clock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    assert signed_in.get(VERIFY).status_code == 200
    code = simulator.current_code("alice")
    simulator.set_fault("error")
    with pytest.raises(SingleConnectUnexpectedResponse):  # another user's failure
        status(username="bob")
    for _ in range(2):
        assert signed_in.post(VERIFY, {"token": code}).status_code == 503
    assert simulator.call_count("otpvalid") == 2
    simulator.set_fault(None)

    started = time.monotonic()
    response = signed_in.post(VERIFY, {"token": code, "next": "/mixin/"})
    assert time.monotonic() - started < 0.5
    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    html = response.content.decode()
    assert "Sign-in codes are unavailable" in html
    assert "Try again" in html
    assert simulator.call_count("otpvalid") == 2  # not asked
    # The two checks that reached Single Connect count; the one never sent does not.
    assert AttemptCounter.objects.get(username="alice").failures == 2
    assert VerificationEvent.objects.order_by("pk").last().detail == "circuit_open"
    assert "otpvalid for 'alice': not called, the circuit is open" in circuit_lines(caplog)[-1]

    # A new login's challenge is not asked either.
    signed_in.post("/accounts/logout/")
    signed_in.post("/accounts/login/", {"username": "alice", "password": "correct horse"})
    assert signed_in.get(VERIFY).status_code == 503
    assert simulator.call_count("otpstatus") == 2  # alice's first code, bob's failure
    assert signed_in.get("/")["Location"] == "/2fa/verify/?next=%2F"

    # After the reset time, the user's own request is the trial, and gets them in.
    breaker_clock.advance(30)
    assert signed_in.get(VERIFY).status_code == 200
    response = signed_in.post(VERIFY, {"token": simulator.current_code("alice")})
    assert response.status_code == 302
    assert signed_in.get("/").status_code == 200


# -- shared by every worker ----------------------------------------------------------------------


def in_another_worker(function: Callable[[], Any]) -> Any:
    """Run ``function`` in a thread of its own, with its own cache connection, as a worker."""
    outcome: list[Any] = []

    def run() -> None:
        try:
            outcome.append(function())
        except Exception as exc:  # handed back to the test
            outcome.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(10)
    return outcome[0]


def test_two_workers_agree(small_circuit: None, simulator: Simulator, breaker_clock: Clock) -> None:
    simulator.set_fault("error")

    def fail_three_times() -> list[type]:
        client = SingleConnectClient(Settings())
        errors = []
        for username in ("bob", "carol", "bob"):
            try:
                client.otp_status(username, "192.0.2.1")
            except SingleConnectError as exc:
                errors.append(type(exc))
        return errors

    assert in_another_worker(fail_three_times) == [SingleConnectUnexpectedResponse] * 3
    simulator.set_fault(None)
    # This worker did not see a single failure, and does not call.
    with pytest.raises(SingleConnectCircuitOpen):
        status()
    assert simulator.call_count() == 3

    breaker_clock.advance(30)
    assert status() is True  # this worker's trial closes it for the other one too
    assert in_another_worker(lambda: status(SingleConnectClient(Settings()))) is True
    assert simulator.call_count() == 5


# -- the cache losing a key -----------------------------------------------------------------------


class ForgetfulCache:
    """A cache that loses the count between ``add`` and ``incr``, as an eviction would."""

    def __init__(self) -> None:
        self.lost = False

    def __getattr__(self, name: str) -> Any:
        return getattr(cache, name)

    def incr(self, key: str, delta: int = 1) -> int:
        if not self.lost:
            self.lost = True
            cache.delete(key)
        return int(cache.incr(key, delta))


def test_a_count_lost_between_add_and_incr_starts_again_at_one(received: list[Any]) -> None:
    breaker = Breaker(
        cache=ForgetfulCache(),  # type: ignore[arg-type]
        failures=2,
        reset_seconds=30,
        trial_seconds=3,
    )
    breaker.failed()
    assert breaker.counted() == 1
    breaker.failed()
    assert [kwargs["failures"] for _, kwargs in received] == [2]
    assert breaker.allow() is False


def test_a_failure_while_open_sends_no_second_signal(
    simulator: Simulator, breaker_clock: Clock, received: list[Any]
) -> None:
    # A call that set out before the circuit opened, and fails after.
    breaker = Breaker(cache=cache, failures=2, reset_seconds=30, trial_seconds=3)
    breaker.failed()
    breaker.failed()
    breaker_clock.advance(10)
    breaker.failed()
    assert len(received) == 1
    # It pushes the reset time on.
    breaker_clock.advance(25)
    assert breaker.allow() is False
    breaker_clock.advance(5)
    assert breaker.allow() is True


# -- what does not count, and for how long a failure counts --------------------------------------


def refused(simulator: Simulator, times: int) -> None:
    """``times`` requests that Single Connect refuses with a 400, as an empty username gets."""
    for _ in range(times):
        with pytest.raises(SingleConnectUnexpectedResponse) as caught:
            SingleConnectClient().otp_status("", "192.0.2.1")
        assert caught.value.status_code == 400


def test_a_4xx_answer_never_moves_the_breaker(
    small_circuit: None,
    simulator: Simulator,
    received: list[Any],
    caplog: pytest.LogCaptureFixture,
) -> None:
    refused(simulator, 10)
    assert simulator.call_count() == 10
    assert counted() == 0
    assert received == []
    assert status() is True  # the others still get their codes
    # It is still logged, with its status, as an unexpected answer for that request.
    assert "Single Connect otpstatus for '': unexpected answer, status 400" in caplog.text
    # And it does not reset a count of real failures either.
    fail(2, simulator)
    refused(simulator, 1)
    assert counted() == 2
    fail(1, simulator)
    with pytest.raises(SingleConnectCircuitOpen):
        status()


def test_a_4xx_answer_to_the_trial_lets_the_next_call_try(
    small_circuit: None, simulator: Simulator, breaker_clock: Clock
) -> None:
    fail(3, simulator)
    breaker_clock.advance(30)
    refused(simulator, 1)  # the trial call
    breaker = SingleConnectClient().breaker
    assert cache.get(breaker.trial_key) is None
    assert status() is True  # the next one is the trial, and closes the circuit
    assert cache.get(breaker.open_until_key) is None


def test_one_session_cannot_open_the_circuit_through_the_code_page(
    small_circuit: None, simulator: Simulator, settings: Any, django_user_model: Any
) -> None:
    # Single Connect refuses every request of this one user's (a name it cannot take).
    settings.SINGLECONNECT_MAX_CODES_PER_HOUR = 100
    mallory = django_user_model.objects.create_user("mallory", password="pw")
    simulator.set_fault("refuse")
    for _ in range(6):
        browser = Client()
        browser.force_login(mallory)
        assert browser.get(VERIFY).status_code == 503
    simulator.set_fault(None)
    assert simulator.call_count() == 6
    assert counted() == 0
    assert status() is True


@pytest.mark.parametrize("reset", [10, 30, 120])
def test_old_failures_are_forgotten(
    small_circuit: None, simulator: Simulator, settings: Any, breaker_clock: Clock, reset: int
) -> None:
    settings.SINGLECONNECT_CIRCUIT_RESET_SECONDS = reset
    window = window_seconds(reset)
    assert window == max(60, 2 * reset)
    fail(2, simulator)
    breaker_clock.advance(window)  # within two windows: still counted
    fail(0, simulator)
    assert counted() == 2
    breaker_clock.advance(window + 1)  # past two windows of the first failures: gone
    assert counted() == 0
    fail(2, simulator)
    assert status() is True  # two failures, not four: still closed


class TimedCache:
    """The shared cache, noting for how long each key is kept; ``forgetful``: it loses the
    count between ``add`` and ``incr`` once, as an eviction would."""

    def __init__(self, forgetful: bool = False) -> None:
        self.forgetful = forgetful
        self.timeouts: dict[str, list[Any]] = {}

    def __getattr__(self, name: str) -> Any:
        return getattr(cache, name)

    def add(self, key: str, value: Any, timeout: Any = DEFAULT_TIMEOUT) -> bool:
        self.timeouts.setdefault(key, []).append(timeout)
        return bool(cache.add(key, value, timeout=timeout))

    def set(self, key: str, value: Any, timeout: Any = DEFAULT_TIMEOUT) -> None:
        self.timeouts.setdefault(key, []).append(timeout)
        cache.set(key, value, timeout=timeout)

    def incr(self, key: str, delta: int = 1) -> int:
        if self.forgetful:
            self.forgetful = False
            cache.delete(key)
        return int(cache.incr(key, delta))


@pytest.mark.parametrize("forgetful", [False, True])
@pytest.mark.parametrize("reset", [10, 30, 120, 600])
def test_a_failure_is_kept_for_its_window_and_the_next(reset: int, forgetful: bool) -> None:
    timed = TimedCache(forgetful)
    breaker = Breaker(
        cache=timed,  # type: ignore[arg-type]
        failures=1,
        reset_seconds=reset,
        trial_seconds=3,
    )
    breaker.failed()
    counts = [key for key in timed.timeouts if key.startswith(circuit.FAILURES_KEY)]
    assert len(counts) == 1
    # Read as this window's count, then as the last one's: the cache must not drop it sooner.
    assert len(timed.timeouts[counts[0]]) == (2 if forgetful else 1)
    for timeout in timed.timeouts[counts[0]]:
        assert timeout is not None
        assert timeout > 2 * window_seconds(reset)
    # Open until a trial call decides, however long the reset: never dropped by the cache.
    assert timed.timeouts[OPEN_UNTIL_KEY] == [None]
    assert breaker.allow() is False


def test_failures_close_together_count_across_a_window_edge(
    small_circuit: None, simulator: Simulator, breaker_clock: Clock
) -> None:
    window = window_seconds(30)
    # Just before the edge of a window, then just after it.
    breaker_clock.advance(window - (breaker_clock.time() % window) - 1)
    fail(2, simulator)
    breaker_clock.advance(2)
    fail(1, simulator)
    with pytest.raises(SingleConnectCircuitOpen):
        status()


def test_one_users_failures_never_open_the_circuit_for_the_others(
    small_circuit: None, simulator: Simulator, received: list[Any]
) -> None:
    # Single Connect fails every call for mallory (her data, say), and only hers.
    simulator.set_fault("error")
    for _ in range(10):
        with pytest.raises(SingleConnectUnexpectedResponse):
            status(username="mallory")
    simulator.set_fault(None)
    assert counted() == 10
    assert received == []  # never opened
    assert status() is True  # alice still gets her code
    # A second user's failure shows it is the node: then it opens.
    fail(3, simulator)
    with pytest.raises(SingleConnectCircuitOpen):
        status()
