"""
Every fault mode of the simulator, through the real code page: what the user sees, what is
logged and audited, and that nobody got in.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import pytest
from django.test import Client

from django_singleconnect.client import MAX_RESPONSE_BYTES
from django_singleconnect.models import AttemptCounter, VerificationEvent
from django_singleconnect.simulator import FAULT_MODES, Simulator
from django_singleconnect.state import VERIFIED_KEY

pytestmark = pytest.mark.django_db

VERIFY = "/2fa/verify/"
RESEND = "/2fa/resend/"
TIMEOUT = (0.2, 0.2)


@dataclass(frozen=True)
class Row:
    #: The fault's ``seconds``.
    seconds: float
    #: The error's cause: the audit log's detail, and in the log line.
    cause: str
    #: What the WARNING line says after "Single Connect <endpoint> for 'alice': ".
    logged: str


FAULTS = {
    # Longer than the read timeout.
    "latency": Row(0.5, "timeout", "timeout (ReadTimeout)"),
    "error": Row(0, "unexpected_response", "unexpected answer, status 500, text/html"),
    "refuse": Row(0, "unexpected_response", "unexpected answer, status 400, text/html"),
    "garbage": Row(
        0, "unexpected_response", "unexpected answer, status 200, application/octet-stream"
    ),
    "html": Row(0, "unexpected_response", "unexpected answer, status 200, text/html"),
    "redirect": Row(0, "unexpected_response", "unexpected answer, status 302"),
    "drop": Row(0, "unreachable", "unreachable (ConnectionError)"),
    # Each byte well within the read timeout: the total deadline (0.4 s) ends it.
    "drip": Row(0.05, "timeout", "timeout ("),
    "endless": Row(
        0,
        "unexpected_response",
        f"unexpected answer, status 200, answer longer than {MAX_RESPONSE_BYTES} bytes",
    ),
}


def test_every_fault_mode_has_a_row() -> None:
    assert set(FAULTS) == set(FAULT_MODES)


@pytest.fixture(autouse=True)
def short_timeout(settings: Any) -> None:
    settings.SINGLECONNECT_TIMEOUT = TIMEOUT


def failures() -> int:
    counter = AttemptCounter.objects.filter(username="alice").first()
    return counter.failures if counter else 0


def wrong_code(simulator: Simulator) -> str:
    code = simulator.current_code("alice")
    assert code is not None
    return f"{(int(code) + 1) % 10**6:06d}"


SENDING = "so no sign-in code could be sent to you"
CHECKING = "so the code you typed could not be checked. It was not counted as a wrong attempt."
COUNTED = (
    "so the code you typed could not be checked. It may have reached Single Connect, so it "
    "counts as one of your attempts."
)


def assert_unavailable_page(
    response: Any, next_url: str, *, checking: bool = False, counted: bool = False
) -> None:
    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    html = response.content.decode()
    assert "Sign-in codes are unavailable" in html
    # Worded for the call that failed: before a code is sent, no code "cannot be checked";
    # a check that may have reached Single Connect is not said to be free.
    said = COUNTED if counted else CHECKING if checking else SENDING
    assert [text for text in (SENDING, CHECKING, COUNTED) if text in html] == [said]
    # The retry button: a GET of the code page, keeping next.
    assert 'method="get" action="/2fa/verify/"' in html
    assert f'<input type="hidden" name="next" value="{next_url}">' in html
    assert "Try again" in html


def assert_logged(caplog: pytest.LogCaptureFixture, endpoint: str, row: Row) -> None:
    (record,) = [
        record
        for record in caplog.records
        if record.name == "django_singleconnect" and record.levelno >= logging.WARNING
    ]
    assert record.levelno == logging.WARNING
    assert record.getMessage().startswith(f"Single Connect {endpoint} for 'alice': {row.logged}"), (
        record.getMessage()
    )


def assert_nobody_verified(client: Client) -> None:
    assert VERIFIED_KEY not in client.session
    response = client.get("/mixin/")
    assert response.status_code == 302
    assert response["Location"] == "/2fa/verify/?next=%2Fmixin%2F"


def assert_audited(row: Row) -> None:
    event = VerificationEvent.objects.order_by("pk").last()
    assert (event.event, event.detail) == ("service_unavailable", row.cause)


@pytest.mark.parametrize("mode", FAULTS)
def test_no_answer_to_the_challenge(
    signed_in: Client, simulator: Simulator, caplog: pytest.LogCaptureFixture, mode: str
) -> None:
    row = FAULTS[mode]
    simulator.set_fault(mode, seconds=row.seconds, endpoint="otpstatus")
    response = signed_in.get(VERIFY, {"next": "/mixin/"})
    assert_unavailable_page(response, "/mixin/")
    assert_logged(caplog, "otpstatus", row)
    assert_audited(row)
    assert VerificationEvent.objects.count() == 1
    assert_nobody_verified(signed_in)
    if mode != "latency":  # which answers, late, after the client gave up
        assert simulator.call_count("otpstatus") == 1  # asked once, never again
        assert simulator.current_code("alice") is None

    # "Try again" asks once more, and a working service shows the form.
    simulator.set_fault(None)
    assert signed_in.get(VERIFY).status_code == 200
    assert simulator.current_code("alice")


@pytest.mark.parametrize("mode", FAULTS)
def test_no_answer_to_the_code(
    signed_in: Client,
    simulator: Simulator,
    settings: Any,
    caplog: pytest.LogCaptureFixture,
    mode: str,
) -> None:
    row = FAULTS[mode]
    settings.SINGLECONNECT_RESEND_COOLDOWN = 0
    signed_in.get(VERIFY)
    signed_in.post(VERIFY, {"token": wrong_code(simulator)})
    assert failures() == 1

    simulator.set_fault(mode, seconds=row.seconds, endpoint="otpvalid")
    code = simulator.current_code("alice")
    response = signed_in.post(VERIFY, {"token": code, "next": "/mixin/"})
    assert_unavailable_page(response, "/mixin/", checking=True, counted=True)
    assert_logged(caplog, "otpvalid", row)
    assert_audited(row)
    # The call may have reached Single Connect, which then spent an attempt: so does this.
    # Given back, a gateway that answers a wrong code with a 400, or a hang, would let
    # whoever holds the password guess without end.
    assert failures() == 2
    assert_nobody_verified(signed_in)
    if mode != "latency":
        assert simulator.call_count("otpvalid") == 2

    # Nothing is stuck: a new code gets the user in.
    simulator.set_fault(None)
    signed_in.post(RESEND)
    response = signed_in.post(VERIFY, {"token": simulator.current_code("alice")})
    assert response.status_code == 302
    assert failures() == 0
