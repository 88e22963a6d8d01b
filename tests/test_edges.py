"""
The time limits of the code step at their edges: one second before, exactly at, one second
after. tests/test_flow.py has the rest (the code page at 600 s and 601 s of a 600 s step, a
resend at 59 s and 60 s of a 60 s cooldown, the hourly count); this file adds what it lacks.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth import SESSION_KEY
from django.test import Client

from django_singleconnect.simulator import Simulator
from tests.conftest import Clock
from tests.helpers import codes_of

pytestmark = pytest.mark.django_db

VERIFY = "/2fa/verify/"
RESEND = "/2fa/resend/"

SENT = "A new code is on its way."
TOO_MANY = "You have asked for too many codes"
EXPIRED = "Your sign-in has expired"


def notice(client: Client) -> str:
    return client.get(VERIFY).content.decode()


# -- SINGLECONNECT_PENDING_TIMEOUT ------------------------------------------------------------


@pytest.mark.parametrize("elapsed", [599, 600])
def test_the_right_code_up_to_the_pending_timeout(
    clock: Clock, signed_in: Client, simulator: Simulator, settings: Any, elapsed: int
) -> None:
    settings.SINGLECONNECT_PENDING_TIMEOUT = 600
    signed_in.get(VERIFY)
    clock.advance(elapsed)
    response = signed_in.post(VERIFY, {"token": simulator.current_code("alice")})
    assert response.status_code == 302
    assert response["Location"] == "/"
    assert signed_in.get("/").status_code == 200


@pytest.mark.parametrize(("elapsed", "expired"), [(599, False), (600, False), (601, True)])
def test_resend_at_the_pending_timeout(
    clock: Clock,
    signed_in: Client,
    simulator: Simulator,
    settings: Any,
    elapsed: int,
    expired: bool,
) -> None:
    settings.SINGLECONNECT_PENDING_TIMEOUT = 600
    signed_in.get(VERIFY)
    clock.advance(elapsed)
    response = signed_in.post(RESEND, {"next": "/mixin/"})
    if expired:
        assert response.status_code == 200
        html = response.content.decode()
        assert EXPIRED in html
        # A button, as on every other page.
        assert (
            '<a class="button" href="/accounts/login/?next=%2Fmixin%2F">Sign in again</a>' in html
        )
        assert SESSION_KEY not in signed_in.session
        assert simulator.call_count("otpstatus") == 1
    else:
        assert response.status_code == 302
        assert simulator.call_count("otpstatus") == 2
        assert SENT in notice(signed_in)


def test_the_pending_timeout_counts_from_the_login_not_the_last_code(
    clock: Clock, signed_in: Client, simulator: Simulator, settings: Any
) -> None:
    settings.SINGLECONNECT_PENDING_TIMEOUT = 600
    signed_in.get(VERIFY)
    clock.advance(590)
    signed_in.post(RESEND)  # a fresh code does not give more time
    clock.advance(11)
    response = signed_in.post(VERIFY, {"token": simulator.current_code("alice")})
    assert EXPIRED in response.content.decode()
    assert simulator.call_count("otpvalid") == 0


# -- SINGLECONNECT_RESEND_COOLDOWN -----------------------------------------------------------------


def test_resend_one_second_after_the_cooldown(
    clock: Clock, signed_in: Client, simulator: Simulator, settings: Any
) -> None:
    settings.SINGLECONNECT_RESEND_COOLDOWN = 60
    signed_in.get(VERIFY)
    clock.advance(61)
    signed_in.post(RESEND)
    assert simulator.call_count("otpstatus") == 2
    assert SENT in notice(signed_in)


def test_the_cooldown_counts_from_the_last_code(
    clock: Clock, signed_in: Client, simulator: Simulator, settings: Any
) -> None:
    settings.SINGLECONNECT_RESEND_COOLDOWN = 60
    signed_in.get(VERIFY)
    clock.advance(60)
    signed_in.post(RESEND)
    clock.advance(59)  # 119 s after the first code, 59 s after the second
    signed_in.post(RESEND)
    assert simulator.call_count("otpstatus") == 2
    assert "You can ask for a new code in 0:01." in notice(signed_in)


# -- SINGLECONNECT_MAX_CHALLENGES_PER_HOUR ---------------------------------------------------------


@pytest.mark.parametrize(("age", "sent"), [(3599, False), (3600, True), (3601, True)])
def test_a_code_leaves_the_hourly_count_after_an_hour(
    clock: Clock,
    signed_in: Client,
    simulator: Simulator,
    settings: Any,
    age: int,
    sent: bool,
) -> None:
    settings.SINGLECONNECT_RESEND_COOLDOWN = 0
    settings.SINGLECONNECT_MAX_CHALLENGES_PER_HOUR = 3
    settings.SINGLECONNECT_PENDING_TIMEOUT = 7200
    first = clock.now
    signed_in.get(VERIFY)
    for _ in range(2):
        clock.advance(1)
        signed_in.post(RESEND)
    assert simulator.call_count("otpstatus") == 3

    clock.now = first + age  # the first code is `age` seconds old, the others younger
    signed_in.post(RESEND)
    assert simulator.call_count("otpstatus") == (4 if sent else 3)
    assert (SENT if sent else TOO_MANY) in notice(signed_in)
    if sent:
        # Only the last hour's codes are kept (at 3601 s the second one is an hour old too).
        kept = [first + 1, first + 2] if age == 3600 else [first + 2]
        assert codes_of(signed_in) == [*kept, first + age]


def test_one_code_an_hour_means_no_resend(
    clock: Clock, signed_in: Client, simulator: Simulator, settings: Any
) -> None:
    settings.SINGLECONNECT_RESEND_COOLDOWN = 0
    settings.SINGLECONNECT_MAX_CHALLENGES_PER_HOUR = 1
    signed_in.get(VERIFY)
    clock.advance(1)
    signed_in.post(RESEND)
    assert simulator.call_count("otpstatus") == 1
    assert TOO_MANY in notice(signed_in)
