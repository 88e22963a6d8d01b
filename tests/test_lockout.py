"""Wrong-code counting and the lockout: through the views, through the API, and in parallel."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from django_singleconnect import lockout, replay, signals
from django_singleconnect.client import SingleConnectClient
from django_singleconnect.models import AttemptCounter, VerificationEvent
from tests.helpers import free_port, start_children, stop_children

VERIFY = "/2fa/verify/"
LIMITS = lockout.Limits(max_attempts=3, lockout_seconds=900)


def wrong_code(simulator: Any, username: str = "alice") -> str:
    code = simulator.current_code(username)
    return f"{(int(code) + 1) % 10**6:06d}"


def counter(username: str = "alice") -> AttemptCounter:
    return AttemptCounter.objects.get(username=username)


@pytest.fixture
def limits(settings: Any) -> lockout.Limits:
    settings.SINGLECONNECT_MAX_ATTEMPTS = LIMITS.max_attempts
    settings.SINGLECONNECT_LOCKOUT_SECONDS = LIMITS.lockout_seconds
    return LIMITS


@pytest.fixture
def frozen(monkeypatch: pytest.MonkeyPatch) -> Any:
    """``django.utils.timezone.now``, stopped, and moved on only by the test."""

    class Frozen:
        now = timezone.now().replace(hour=10, minute=0, second=0, microsecond=0)

        def advance(self, seconds: float) -> None:
            self.now += dt.timedelta(seconds=seconds)

    frozen = Frozen()
    monkeypatch.setattr(timezone, "now", lambda: frozen.now)
    return frozen


# -- through the views ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_last_wrong_code_locks_the_user_out(frozen, signed_in, simulator, limits):
    signed_in.get(VERIFY)
    for left in (2, 1):
        response = signed_in.post(VERIFY, {"token": wrong_code(simulator)})
        assert response.status_code == 200
        assert f"{left} attempt" in response.content.decode()

    response = signed_in.post(VERIFY, {"token": wrong_code(simulator)})
    assert response.status_code == 429
    assert response["Retry-After"] == "900"
    html = response.content.decode()
    assert "Too many wrong codes" in html
    assert "Try again in 15 minutes, after 10:15 UTC." in html
    assert 'action="/2fa/logout/"' in html
    assert "Sign out" in html
    assert counter().locked_until == frozen.now + dt.timedelta(seconds=900)
    assert simulator.call_count("otpvalid") == 3
    assert list(VerificationEvent.objects.order_by("pk").values_list("event", flat=True)) == [
        "challenge_sent",
        "failed",
        "failed",
        "failed",
        "locked_out",
    ]

    # Even the right code is refused now, without asking Single Connect.
    frozen.advance(850)
    response = signed_in.post(VERIFY, {"token": simulator.current_code("alice")})
    assert response.status_code == 429
    assert response["Retry-After"] == "50"
    assert "Try again in 1 minute, after 10:15 UTC." in response.content.decode()
    assert simulator.call_count("otpvalid") == 3
    assert signed_in.get("/")["Location"] == "/2fa/verify/?next=%2F"

    # The code page itself answers 429, with the logout form, and issues no code.
    response = signed_in.get(VERIFY)
    assert response.status_code == 429
    assert response["Retry-After"] == "50"
    assert 'action="/2fa/logout/"' in response.content.decode()
    assert signed_in.post("/2fa/resend/").status_code == 429
    assert simulator.call_count("otpstatus") == 1


@pytest.mark.django_db
def test_the_count_is_shared_by_every_session_of_the_username(signed_in, simulator, limits, login):
    other = Client()
    login(other)
    signed_in.get(VERIFY)
    other.get(VERIFY)  # a new code for alice: both sessions type wrong ones now
    signed_in.post(VERIFY, {"token": wrong_code(simulator)})
    other.post(VERIFY, {"token": wrong_code(simulator)})
    assert counter().failures == 2
    response = signed_in.post(VERIFY, {"token": wrong_code(simulator)})
    assert response.status_code == 429

    for client in (signed_in, other):
        assert client.post(VERIFY, {"token": simulator.current_code("alice")}).status_code == 429
        assert client.get(VERIFY).status_code == 429
    assert simulator.call_count("otpvalid") == 3

    # A brand-new login of alice gets no code while the lockout lasts.
    third = Client()
    login(third)
    assert third.get(VERIFY).status_code == 429
    assert simulator.call_count("otpstatus") == 2


@pytest.mark.django_db
def test_malformed_codes_do_not_count(signed_in, simulator, limits):
    signed_in.get(VERIFY)
    for _ in range(2):
        signed_in.post(VERIFY, {"token": wrong_code(simulator)})
    for typed in ["1", "abcdef", "\uff11\uff12\uff13\uff14\uff15\uff16", "1234567", ""] * 2:
        assert signed_in.post(VERIFY, {"token": typed}).status_code == 200
    assert counter().failures == 2
    response = signed_in.post(VERIFY, {"token": simulator.current_code("alice")})
    assert response.status_code == 302


@pytest.mark.django_db
def test_a_call_that_never_left_gives_the_attempt_back(signed_in, simulator, limits, settings):
    signed_in.get(VERIFY)
    for _ in range(2):
        signed_in.post(VERIFY, {"token": wrong_code(simulator)})
    # The node that issued the code is no longer configured: its otpvalid is never sent.
    settings.SINGLECONNECT_HOSTNAME = f"127.0.0.1:{free_port()}"
    for _ in range(4):
        assert signed_in.post(VERIFY, {"token": wrong_code(simulator)}).status_code == 503
    assert simulator.call_count("otpvalid") == 2
    assert counter().failures == 2
    assert counter().locked_until is None
    settings.SINGLECONNECT_HOSTNAME = simulator.hostname
    response = signed_in.post(VERIFY, {"token": wrong_code(simulator)})
    assert response.status_code == 429  # the third real wrong code, not the seventh


@pytest.mark.parametrize("fault", ["error", "refuse", "latency"])
def test_a_check_that_may_have_reached_single_connect_counts(
    signed_in, simulator, limits, settings, fault
):
    settings.SINGLECONNECT_TIMEOUT = (1, 0.3)
    signed_in.get(VERIFY)
    for _ in range(2):
        signed_in.post(VERIFY, {"token": wrong_code(simulator)})
    # A 500, a 400 (a gateway's answer to a wrong code, say) or no answer in time: Single
    # Connect may have spent an attempt on it, so the lockout counts it too.
    simulator.set_fault(fault, seconds=0.6, endpoint="otpvalid")
    assert signed_in.post(VERIFY, {"token": wrong_code(simulator)}).status_code == 429
    assert counter().failures == 3
    assert counter().locked_until is not None
    assert VerificationEvent.objects.filter(event="locked_out").count() == 1
    # Locked: no more guesses reach Single Connect, whatever it answers.
    calls = simulator.call_count("otpvalid")
    for _ in range(5):
        assert signed_in.post(VERIFY, {"token": wrong_code(simulator)}).status_code == 429
    assert simulator.call_count("otpvalid") == calls


@pytest.mark.django_db
def test_a_right_code_resets_the_count(signed_in, simulator, limits, login, pass_code):
    signed_in.get(VERIFY)
    for _ in range(2):
        signed_in.post(VERIFY, {"token": wrong_code(simulator)})
    signed_in.post(VERIFY, {"token": simulator.current_code("alice")})
    assert counter().failures == 0

    login(signed_in)
    signed_in.get(VERIFY)
    for _ in range(2):
        response = signed_in.post(VERIFY, {"token": wrong_code(simulator)})
    assert response.status_code == 200
    assert "1 attempt left" in response.content.decode()


@pytest.mark.django_db
def test_the_lockout_ends(frozen, signed_in, simulator, limits):
    signed_in.get(VERIFY)
    for _ in range(3):
        signed_in.post(VERIFY, {"token": wrong_code(simulator)})
    assert signed_in.get(VERIFY).status_code == 429

    frozen.advance(899)
    assert signed_in.get(VERIFY).status_code == 429
    frozen.advance(1)
    assert signed_in.get(VERIFY).status_code == 200
    # The count starts again from zero.
    response = signed_in.post(VERIFY, {"token": wrong_code(simulator)})
    assert response.status_code == 200
    assert "2 attempts left" in response.content.decode()
    response = signed_in.post(VERIFY, {"token": simulator.current_code("alice")})
    assert response.status_code == 302


@pytest.mark.django_db
def test_a_malformed_code_from_a_locked_out_user_gets_the_lockout_page(
    frozen, signed_in, simulator, limits
):
    signed_in.get(VERIFY)
    for _ in range(3):
        signed_in.post(VERIFY, {"token": wrong_code(simulator)})
    response = signed_in.post(VERIFY, {"token": "12"})
    assert response.status_code == 429
    assert response["Retry-After"] == "900"


@pytest.mark.django_db
def test_a_right_code_costs_four_statements_of_the_app(signed_in, simulator, monkeypatch):
    monkeypatch.setattr(replay, "_next_purge", float("inf"))
    signed_in.get(VERIFY)
    signed_in.post(VERIFY, {"token": wrong_code(simulator)})  # the counter exists now
    with CaptureQueriesContext(connection) as queries:
        response = signed_in.post(VERIFY, {"token": simulator.current_code("alice")})
    assert response.status_code == 302
    ours = [
        query["sql"].split(" ", 1)[0] + " " + table
        for query in queries.captured_queries
        for table in ("attemptcounter", "usedcode", "verificationevent")
        if f"django_singleconnect_{table}" in query["sql"]
    ]
    # Reserve the attempt (asking in the same UPDATE whether a code was issued in this
    # login); keep the code (a replayed one fails here); reset the count; the audit line.
    assert ours == [
        "UPDATE attemptcounter",
        "INSERT usedcode",
        "UPDATE attemptcounter",
        "INSERT verificationevent",
    ]


@pytest.mark.django_db
def test_a_lockout_cleared_in_the_database_lets_the_user_in(signed_in, simulator, limits):
    signed_in.get(VERIFY)
    for _ in range(3):
        signed_in.post(VERIFY, {"token": wrong_code(simulator)})
    AttemptCounter.objects.update(locked_until=timezone.now() - dt.timedelta(seconds=1))
    response = signed_in.post(VERIFY, {"token": simulator.current_code("alice")})
    assert response.status_code == 302
    assert counter().failures == 0


@pytest.mark.django_db
def test_old_wrong_codes_are_forgotten(frozen, signed_in, simulator, limits, settings):
    settings.SINGLECONNECT_PENDING_TIMEOUT = 3600
    signed_in.get(VERIFY)
    for _ in range(2):
        signed_in.post(VERIFY, {"token": wrong_code(simulator)})
    frozen.advance(900)
    response = signed_in.post(VERIFY, {"token": wrong_code(simulator)})
    assert response.status_code == 200
    assert "2 attempts left" in response.content.decode()


@pytest.mark.django_db
def test_a_lockout_started_alongside_refuses_this_code_too(
    signed_in, simulator, limits, monkeypatch
):
    signed_in.get(VERIFY)
    original = SingleConnectClient.otp_valid

    def otp_valid(self: SingleConnectClient, username: str, token: str, **kwargs: Any) -> bool:
        # While this code is checked, two other requests use up the attempts left.
        for _ in range(2):
            other = lockout.reserve("alice", LIMITS)
            assert other.granted
            lockout.record_wrong(other, LIMITS)
        return original(self, username, token, **kwargs)

    monkeypatch.setattr(SingleConnectClient, "otp_valid", otp_valid)
    response = signed_in.post(VERIFY, {"token": wrong_code(simulator)})
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 890


@pytest.mark.django_db
def test_every_attempt_in_flight_refuses_one_more(signed_in, simulator, limits):
    signed_in.get(VERIFY)
    # Three requests are still waiting for Single Connect: a fourth may not ask.
    for _ in range(3):
        assert lockout.reserve("alice", LIMITS).granted
    response = signed_in.post(VERIFY, {"token": simulator.current_code("alice")})
    assert response.status_code == 429
    assert simulator.call_count("otpvalid") == 0
    # Not a lockout: those checks end within a call's deadline, (3.05, 10) by default.
    assert response["Retry-After"] == "14"
    assert "still being checked" in response.content.decode()
    assert 'name="token"' in response.content.decode()
    assert counter().locked_until is None


# -- the API --------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_reserve_counts_down(frozen):
    assert not AttemptCounter.objects.exists()
    # The first attempt ever creates the counter.
    assert lockout.reserve("bob", LIMITS) == lockout.Reservation("bob", True)
    assert counter("bob").failures == 1
    assert counter("bob").last_attempt_at == frozen.now
    assert lockout.reserve("bob", LIMITS).granted
    assert lockout.reserve("bob", LIMITS).granted
    # Nobody locked yet: every attempt is in flight.
    assert lockout.reserve("bob", LIMITS) == lockout.Reservation("bob", False, None)
    assert counter("bob").failures == 3


@pytest.mark.django_db
def test_reserve_takes_one_statement_once_the_counter_exists(django_assert_num_queries):
    lockout.reserve("bob", LIMITS)
    with django_assert_num_queries(1):
        assert lockout.reserve("bob", LIMITS).granted


@pytest.mark.django_db
def test_a_counter_created_alongside_is_used(monkeypatch):
    # Another request creates the row between this one's UPDATE and its INSERT.
    original = lockout._create_counter

    def create_twice(username: str) -> None:
        AttemptCounter.objects.create(username=username, failures=1)
        original(username)

    monkeypatch.setattr(lockout, "_create_counter", create_twice)
    assert lockout.reserve("bob", LIMITS).granted
    assert counter("bob").failures == 2


@pytest.mark.django_db
def test_a_counter_that_keeps_vanishing_refuses(monkeypatch):
    monkeypatch.setattr(lockout, "_create_counter", lambda username: None)
    assert lockout.reserve("bob", LIMITS) == lockout.Reservation("bob", False, None)


@pytest.mark.django_db
def test_record_wrong_starts_the_lockout_once(frozen):
    reservations = [lockout.reserve("bob", LIMITS) for _ in range(3)]
    until = frozen.now + dt.timedelta(seconds=900)
    # The reservations reached the limit: the first wrong answer locks, once; the others
    # see the lockout it started.
    results = [lockout.record_wrong(reservation, LIMITS) for reservation in reservations]
    assert results == [
        lockout.WrongCode(0, until, started_lockout=True, series=1),
        lockout.WrongCode(0, until, started_lockout=False),
        lockout.WrongCode(0, until, started_lockout=False),
    ]
    assert counter("bob").locked_until == until
    assert lockout.locked_until("bob") == until
    refused = lockout.reserve("bob", LIMITS)
    assert not refused.granted
    assert refused.locked_until == until


@pytest.mark.django_db
def test_record_wrong_under_the_limit_does_not_lock():
    reservation = lockout.reserve("bob", LIMITS)
    assert lockout.record_wrong(reservation, LIMITS) == lockout.WrongCode(attempts_left=2)
    assert lockout.record_wrong(lockout.reserve("bob", LIMITS), LIMITS).attempts_left == 1
    assert counter("bob").locked_until is None
    assert lockout.locked_until("bob") is None


@pytest.mark.django_db
@pytest.mark.parametrize("ago", [1, 0])
def test_record_wrong_ignores_a_lockout_that_ended_meanwhile(frozen, ago):
    reservation = lockout.reserve("bob", LIMITS)
    # A lockout shorter than this code's check began and ended while it was checked.
    AttemptCounter.objects.update(locked_until=frozen.now - dt.timedelta(seconds=ago))
    assert lockout.record_wrong(reservation, LIMITS) == lockout.WrongCode(attempts_left=2)


@pytest.mark.django_db
def test_record_wrong_after_staff_deleted_the_counter():
    reservation = lockout.reserve("bob", LIMITS)
    AttemptCounter.objects.all().delete()
    assert lockout.record_wrong(reservation, LIMITS) == lockout.WrongCode(attempts_left=3)


@pytest.mark.django_db
def test_give_back_undoes_a_reservation_and_a_lockout_it_caused(frozen):
    reservations = [lockout.reserve("bob", LIMITS) for _ in range(3)]
    assert lockout.record_wrong(reservations[0], LIMITS) is not None
    assert counter("bob").locked_until is not None
    assert counter("bob").lockouts == 1
    lockout.give_back(reservations[1], LIMITS)
    assert counter("bob").failures == 2
    assert counter("bob").locked_until is None
    assert counter("bob").lockouts == 0  # the undone lockout is not one of a series
    assert lockout.reserve("bob", LIMITS).granted


@pytest.mark.django_db
def test_an_undone_lockout_does_not_lengthen_the_next_one(frozen):
    limits = lockout.Limits(3, 900, series_seconds=86400, max_lockout_seconds=86400)
    reservations = [lockout.reserve("bob", limits) for _ in range(3)]
    lockout.record_wrong(reservations[0], limits)  # locks: three attempts taken
    lockout.give_back(reservations[1], limits)  # one of them never reached Single Connect
    lockout.record_wrong(reservations[2], limits)
    wrong = lockout.record_wrong(lockout.reserve("bob", limits), limits)
    assert wrong.started_lockout
    assert wrong.series == 1  # the first real lockout: 15 minutes, not 30
    assert counter("bob").locked_until == frozen.now + dt.timedelta(seconds=900)


@pytest.mark.django_db
def test_give_back_touches_only_that_username():
    for _ in range(2):
        lockout.reserve("carol", LIMITS)
    lockout.give_back(lockout.reserve("bob", LIMITS), LIMITS)
    assert counter("bob").failures == 0
    assert counter("carol").failures == 2


@pytest.mark.django_db
def test_give_back_lifts_no_other_users_lockout_when_the_limit_was_raised(frozen):
    for _ in range(3):
        lockout.record_wrong(lockout.reserve("carol", LIMITS), LIMITS)
    # The limit goes up during carol's lockout: her count is under it now, her lockout stands.
    raised = lockout.Limits(max_attempts=5, lockout_seconds=900)
    lockout.give_back(lockout.reserve("bob", raised), raised)
    assert lockout.locked_until("carol") == frozen.now + dt.timedelta(seconds=900)
    assert not lockout.reserve("carol", raised).granted


@pytest.mark.django_db
def test_give_back_keeps_a_lockout_the_other_codes_still_earn(frozen):
    reservations = [lockout.reserve("bob", LIMITS) for _ in range(3)]
    # The limit goes down while the three codes are checked: two wrong ones are enough.
    lowered = lockout.Limits(max_attempts=2, lockout_seconds=900)
    assert lockout.record_wrong(reservations[0], lowered).started_lockout
    lockout.give_back(reservations[1], lowered)
    assert counter("bob").failures == 2
    assert lockout.locked_until("bob") == frozen.now + dt.timedelta(seconds=900)


@pytest.mark.django_db
def test_give_back_never_goes_below_zero():
    reservation = lockout.reserve("bob", LIMITS)
    lockout.reset("bob")
    lockout.give_back(reservation, LIMITS)
    assert counter("bob").failures == 0


@pytest.mark.django_db
def test_a_lockout_that_ran_out_is_forgotten(frozen):
    for _ in range(3):
        lockout.record_wrong(lockout.reserve("bob", LIMITS), LIMITS)
    frozen.advance(900)
    assert lockout.locked_until("bob") is None
    assert lockout.reserve("bob", LIMITS).granted
    assert counter("bob").failures == 1
    assert counter("bob").locked_until is None


@pytest.mark.django_db
def test_wrong_codes_older_than_the_lockout_are_forgotten(frozen):
    for _ in range(2):
        lockout.record_wrong(lockout.reserve("bob", LIMITS), LIMITS)
    frozen.advance(899)
    assert lockout.reserve("bob", LIMITS).granted
    assert counter("bob").failures == 3
    lockout.give_back(lockout.Reservation("bob", True), LIMITS)
    frozen.advance(900)
    assert lockout.reserve("bob", LIMITS).granted
    assert counter("bob").failures == 1


@pytest.mark.django_db
def test_reset_clears_everything():
    for _ in range(3):
        lockout.record_wrong(lockout.reserve("bob", LIMITS), LIMITS)
    lockout.reset("bob")
    assert counter("bob").failures == 0
    assert lockout.locked_until("bob") is None


def test_limits_lockout():
    assert LIMITS.lockout == dt.timedelta(minutes=15)


# -- in parallel ---------------------------------------------------------------------------------

CHILD = r"""
import json, os, sys

config = json.loads(sys.argv[1])
import django
from django.conf import settings

# The parent's test database, not the one tests/settings.py names.
settings.DATABASES["default"]["NAME"] = config["database"]
for name, value in config["settings"].items():
    setattr(settings, name, value)
django.setup()

from django.contrib.auth import get_user_model
from django.test import Client

client = Client()
client.force_login(get_user_model().objects.get(username=config["username"]))
assert client.get("/2fa/verify/").status_code == 200
print("ready", flush=True)
codes = json.loads(sys.stdin.readline())
statuses = [client.post("/2fa/verify/", {"token": code}).status_code for code in codes]
print(json.dumps(statuses), flush=True)
"""

PROCESSES = 4
CODES_EACH = 3


@pytest.mark.django_db(transaction=True)
def test_parallel_wrong_codes_stop_at_the_limit(django_user_model, simulator, settings):
    django_user_model.objects.create_user("alice", password="pw")
    max_attempts = 5
    child_settings = {
        **simulator.django_settings(),
        "SINGLECONNECT_APPLICATION_NAME": settings.SINGLECONNECT_APPLICATION_NAME,
        "SINGLECONNECT_MAX_ATTEMPTS": max_attempts,
        "SINGLECONNECT_LOCKOUT_SECONDS": 900,
    }
    config = {
        "database": connection.settings_dict["NAME"],
        "settings": child_settings,
        "username": "alice",
    }
    children = start_children(CHILD, config, PROCESSES)
    try:
        for child in children:
            line = child.stdout.readline()
            assert line == "ready\n", child.stderr.read()
        # Every child has asked for a code; the last one issued is alice's code now.
        wrong = wrong_code(simulator)
        assert simulator.call_count("otpstatus") == PROCESSES
        for child in children:
            child.stdin.write(json.dumps([wrong] * CODES_EACH) + "\n")
            child.stdin.flush()
        results = []
        for child in children:
            out, err = child.communicate(timeout=15)
            assert child.returncode == 0, err
            results.extend(json.loads(out))
    finally:
        stop_children(children)

    assert len(results) == PROCESSES * CODES_EACH
    assert set(results) <= {200, 429}
    assert results.count(200) <= max_attempts - 1
    assert simulator.call_count("otpvalid") == max_attempts
    locked = AttemptCounter.objects.get(username="alice")
    assert locked.failures == max_attempts
    assert locked.locked_until is not None
    assert VerificationEvent.objects.filter(event="failed").count() == max_attempts
    assert VerificationEvent.objects.filter(event="locked_out").count() == 1


# -- lockouts in a row ----------------------------------------------------------------------------

SERIES = lockout.Limits(
    max_attempts=1, lockout_seconds=900, series_seconds=86400, max_lockout_seconds=3000
)


def lock_out(username: str = "bob") -> lockout.WrongCode:
    return lockout.record_wrong(lockout.reserve(username, SERIES), SERIES)


def test_lockout_for_doubles_up_to_the_cap():
    assert [SERIES.lockout_for(n).total_seconds() for n in range(1, 5)] == [900, 1800, 3000, 3000]
    assert SERIES.lockout_for(10_000).total_seconds() == 3000


@pytest.mark.django_db
def test_lockouts_in_a_row_grow(frozen):
    first = lock_out()
    assert (first.series, first.locked_until) == (1, frozen.now + dt.timedelta(seconds=900))
    frozen.advance(900)
    second = lock_out()
    assert (second.series, second.locked_until) == (2, frozen.now + dt.timedelta(seconds=1800))
    frozen.advance(1800)
    third = lock_out()
    assert (third.series, third.locked_until) == (3, frozen.now + dt.timedelta(seconds=3000))
    # Another user's series is their own.
    other = lock_out("carol")
    assert (other.series, other.locked_until) == (1, frozen.now + dt.timedelta(seconds=900))


@pytest.mark.django_db
def test_a_grown_lockout_outlasts_the_first_ones_length(frozen):
    lock_out()
    frozen.advance(900)
    second = lock_out()
    # Past the 900 s of a first lockout, and past 900 s since the last attempt: still locked.
    frozen.advance(901)
    refused = lockout.reserve("bob", SERIES)
    assert not refused.granted
    assert refused.locked_until == second.locked_until == lockout.locked_until("bob")
    frozen.advance(899)
    assert lockout.reserve("bob", SERIES).granted


@pytest.mark.django_db
def test_a_limit_raised_during_a_lockout_does_not_end_it(frozen):
    for _ in range(3):
        lockout.record_wrong(lockout.reserve("bob", LIMITS), LIMITS)
    raised = lockout.Limits(max_attempts=5, lockout_seconds=900)
    refused = lockout.reserve("bob", raised)
    assert refused == lockout.Reservation("bob", False, frozen.now + dt.timedelta(seconds=900))
    assert counter("bob").failures == 3
    frozen.advance(900)
    assert lockout.reserve("bob", raised).granted
    assert counter("bob").failures == 1


@pytest.mark.django_db
def test_a_lockout_after_the_series_window_starts_a_new_series(frozen):
    lock_out()
    frozen.advance(900)
    lock_out()
    frozen.advance(86400 + 1)
    assert lock_out().series == 1


@pytest.mark.django_db
def test_a_right_code_ends_the_series(frozen):
    lock_out()
    frozen.advance(900)
    lock_out()
    frozen.advance(1800)
    lockout.reset("bob")
    assert lock_out().series == 1


def test_a_repeated_lockout_is_signalled(frozen, signed_in, simulator, settings):
    settings.SINGLECONNECT_MAX_ATTEMPTS = 1
    settings.SINGLECONNECT_LOCKOUT_SECONDS = 60
    received = []
    signals.repeated_lockout.connect(lambda **kwargs: received.append(kwargs), weak=False)
    try:
        signed_in.get(VERIFY)
        assert signed_in.post(VERIFY, {"token": wrong_code(simulator)}).status_code == 429
        frozen.advance(60)
        response = signed_in.post(VERIFY, {"token": wrong_code(simulator)})
    finally:
        signals.repeated_lockout.receivers.clear()
    assert response.status_code == 429
    assert [(r["username"], r["lockouts"]) for r in received] == [("alice", 2)]
    assert received[0]["locked_until"] == frozen.now + dt.timedelta(seconds=120)
    assert VerificationEvent.objects.filter(event="locked_out").last().detail == ""
    assert VerificationEvent.objects.filter(event="locked_out").first().detail == (
        "lockout 2 in a row"
    )
