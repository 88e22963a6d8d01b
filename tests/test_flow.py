"""The code step end to end: login, code page, resend, expiry, next, secrecy, signals."""

from __future__ import annotations

import json
import logging
import re
from typing import Any

import pytest
from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.models import Session
from django.test import Client

from django_singleconnect import signals
from django_singleconnect.client import SingleConnectClient
from django_singleconnect.exceptions import SingleConnectError
from django_singleconnect.models import AttemptCounter, CodeBudget, VerificationEvent
from django_singleconnect.state import PENDING_KEY, VERIFIED_KEY
from tests.helpers import codes_of

pytestmark = pytest.mark.django_db

VERIFY = "/2fa/verify/"
RESEND = "/2fa/resend/"


def events() -> list[str]:
    return list(VerificationEvent.objects.order_by("pk").values_list("event", flat=True))


def failures(username: str = "alice") -> int:
    counter = AttemptCounter.objects.filter(username=username).first()
    return counter.failures if counter else 0


def wrong_code(simulator: Any, username: str = "alice") -> str:
    code = simulator.current_code(username)
    return f"{(int(code) + 1) % 10**6:06d}"


def is_verified_now(client: Client) -> bool:
    return client.get("/").status_code == 200


def upper_username(user: Any) -> str:
    return user.get_username().upper()


@pytest.fixture
def spy_status(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    """Every otp_status call's username and end-user IP."""
    calls: list[tuple[str, str]] = []
    original = SingleConnectClient.otp_status

    def otp_status(self: SingleConnectClient, username: str, end_user_ip: str) -> bool:
        calls.append((username, end_user_ip))
        return original(self, username, end_user_ip)

    monkeypatch.setattr(SingleConnectClient, "otp_status", otp_status)
    return calls


# -- the happy path ---------------------------------------------------------------------------


def test_full_flow(signed_in, simulator):
    response = signed_in.get("/")
    assert response.status_code == 302
    assert response["Location"] == "/2fa/verify/?next=%2F"

    response = signed_in.get(response["Location"])
    assert response.status_code == 200
    assert b"Enter your sign-in code" in response.content
    code = simulator.current_code("alice")
    assert code

    response = signed_in.post(VERIFY, {"token": code, "next": "/"})
    assert response.status_code == 302
    assert response["Location"] == "/"
    assert signed_in.get("/").content == b"protected page"
    assert simulator.call_count("otpstatus") == 1
    assert simulator.call_count("otpvalid") == 1
    assert events() == ["challenge_sent", "verified"]
    event = VerificationEvent.objects.get(event="verified")
    assert event.username == "alice"
    assert event.user.get_username() == "alice"
    assert event.ip_address == "127.0.0.1"


def test_login_starts_a_pending_step(client, user, login, clock):
    login(client)
    session = client.session
    assert VERIFIED_KEY not in session
    pending = session[PENDING_KEY]
    assert pending["started"] == clock.now
    assert pending["username"] == "alice"
    assert len(pending["login"]) >= 16
    assert codes_of(client) == []
    assert pending["user"] == str(user.pk)


def test_a_new_login_drops_the_verified_mark(verified, login):
    assert VERIFIED_KEY in verified.session
    login(verified)
    assert VERIFIED_KEY not in verified.session
    assert PENDING_KEY in verified.session
    assert verified.get("/")["Location"] == "/2fa/verify/?next=%2F"


def test_the_pending_clock_is_kept_across_requests(clock, signed_in, simulator):
    started = signed_in.session[PENDING_KEY]["started"]
    clock.advance(30)
    signed_in.get(VERIFY)
    signed_in.post(VERIFY, {"token": wrong_code(simulator)})
    assert signed_in.session[PENDING_KEY]["started"] == started


# -- GET: the challenge -------------------------------------------------------------------------


def test_reloading_the_code_page_asks_for_no_new_code(signed_in, simulator):
    for _ in range(3):
        assert signed_in.get(VERIFY).status_code == 200
    signed_in.post(VERIFY, {"token": wrong_code(simulator)})
    assert signed_in.get(VERIFY).status_code == 200
    assert simulator.call_count("otpstatus") == 1
    assert events() == ["challenge_sent", "failed"]


def test_the_challenge_carries_the_client_ip(signed_in, simulator, spy_status):
    signed_in.get(VERIFY, REMOTE_ADDR="203.0.113.9")
    assert spy_status == [("alice", "203.0.113.9")]
    assert VerificationEvent.objects.get().ip_address == "203.0.113.9"


def test_the_challenge_carries_the_forwarded_ip_behind_a_trusted_proxy(
    signed_in, simulator, spy_status, settings
):
    settings.SINGLECONNECT_TRUSTED_PROXIES = ["10.0.0.0/8"]
    signed_in.get(VERIFY, REMOTE_ADDR="10.1.2.3", HTTP_X_FORWARDED_FOR="198.51.100.7, 10.9.9.9")
    assert spy_status == [("alice", "198.51.100.7")]


def test_the_single_connect_username_may_come_from_a_callable(
    client, user, login, simulator, settings, spy_status
):
    settings.SINGLECONNECT_USERNAME = "tests.test_flow.upper_username"
    login(client)
    signed_in = client
    signed_in.get(VERIFY)
    assert spy_status[0][0] == "ALICE"
    code = simulator.current_code("ALICE")
    assert signed_in.post(VERIFY, {"token": code})["Location"] == "/"
    assert VerificationEvent.objects.filter(username="ALICE").count() == 2


def test_otp_inactive_allowed(signed_in, simulator):
    simulator.inactive.add("alice")
    response = signed_in.get(VERIFY, {"next": "/mixin/"})
    assert response.status_code == 302
    assert response["Location"] == "/mixin/"
    assert signed_in.get("/mixin/").content == b"mixin page"
    assert signed_in.session[VERIFIED_KEY]["method"] == "otp_inactive"
    assert events() == ["otp_inactive_allowed"]


def test_otp_inactive_denied(signed_in, simulator, settings):
    settings.SINGLECONNECT_OTP_INACTIVE_POLICY = "deny"
    simulator.inactive.add("alice")
    response = signed_in.get(VERIFY)
    assert response.status_code == 403
    html = response.content.decode()
    assert "Sign-in codes are not set up for you" in html
    assert "OTP is not active for your account" in html
    assert 'action="/2fa/logout/"' in html
    assert not is_verified_now(signed_in)
    assert events() == ["otp_inactive_denied"]
    assert "challenge_sent" not in events()


def test_no_configuration_is_a_503_too(signed_in, settings):
    settings.SINGLECONNECT_HOSTNAME = ""
    assert signed_in.get(VERIFY).status_code == 503
    assert VerificationEvent.objects.get().detail == "not_configured"
    # No call was made: the code is given back to the username's budget.
    assert codes_of(signed_in) == []
    assert CodeBudget.objects.get().codes == "[]"


def test_the_code_page_is_accessible(signed_in):
    response = signed_in.get(VERIFY)
    html = response.content.decode()
    assert '<label for="id_token">Code</label>' in html
    (field,) = re.findall(r"<input [^>]*name=\"token\"[^>]*>", html)
    assert 'id="id_token"' in field
    assert 'autocomplete="one-time-code"' in field
    assert 'inputmode="numeric"' in field
    assert 'pattern="(?:[0-9][' in field
    assert 'maxlength="14"' in field
    assert "a 6-digit code" in html
    assert 'action="/2fa/resend/"' in html
    assert 'action="/2fa/logout/"' in html
    assert response["Cache-Control"].startswith("max-age=0")


def test_anonymous_users_go_to_the_login_page(client, simulator):
    for response in (
        client.get(VERIFY, {"next": "/mixin/"}),
        client.post(VERIFY, {"token": "123456", "next": "/mixin/"}),
        client.post(RESEND, {"next": "/mixin/"}),
    ):
        assert response.status_code == 302
        assert response["Location"] == "/accounts/login/?next=%2Fmixin%2F"
    assert simulator.call_count() == 0


def test_verified_users_go_on_to_next(verified, simulator):
    calls = simulator.call_count()
    assert verified.get(VERIFY, {"next": "/mixin/"})["Location"] == "/mixin/"
    assert verified.post(VERIFY, {"token": "123456", "next": "/mixin/"})["Location"] == "/mixin/"
    assert verified.post(RESEND, {"next": "/mixin/"})["Location"] == "/mixin/"
    assert simulator.call_count() == calls


def test_other_methods_are_refused(signed_in):
    assert signed_in.put(VERIFY).status_code == 405
    assert signed_in.get(RESEND).status_code == 405
    assert signed_in.get("/2fa/logout/").status_code == 405


# -- POST: the code -----------------------------------------------------------------------------


def test_posting_needs_the_csrf_token(user, simulator):
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    response = client.get(VERIFY)
    assert response.status_code == 200
    code = simulator.current_code("alice")

    assert client.post(VERIFY, {"token": code}).status_code == 403
    assert client.post(RESEND, {}).status_code == 403
    assert client.post("/2fa/logout/", {}).status_code == 403
    assert simulator.call_count("otpvalid") == 0
    assert simulator.call_count("otpstatus") == 1

    token = client.cookies["csrftoken"].value
    response = client.post(VERIFY, {"token": code, "csrfmiddlewaretoken": token})
    assert response.status_code == 302
    assert simulator.call_count("otpvalid") == 1


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("12345", "Enter the 6-digit code."),
        ("1234567", "Enter the 6-digit code."),
        ("12a456", "Enter the 6-digit code."),
        ("12 456", "Enter the 6-digit code."),
        ("\uff11\uff12\uff13\uff14\uff15\uff16", "Enter the 6-digit code."),  # fullwidth
        ("\u0661\u0662\u0663\u0664\u0665\u0666", "Enter the 6-digit code."),  # Arabic-Indic
        ("\u06f1\u06f2\u06f3\u06f4\u06f5\u06f6", "Enter the 6-digit code."),  # Persian
        ("", "This field is required."),
        ("   ", "This field is required."),
    ],
)
def test_malformed_codes_never_reach_single_connect(signed_in, simulator, typed, message):
    signed_in.get(VERIFY)
    response = signed_in.post(VERIFY, {"token": typed})
    assert response.status_code == 200
    assert message in response.content.decode()
    assert simulator.call_count("otpvalid") == 0
    assert failures() == 0
    assert events() == ["challenge_sent"]
    assert not is_verified_now(signed_in)


@pytest.mark.parametrize("spaced", ["{0} {1}", "{0}-{1}", " {0} - {1} "])
def test_a_code_pasted_with_a_space_or_a_dash(signed_in, simulator, spaced):
    signed_in.get(VERIFY)
    code = simulator.current_code("alice")
    wrong = wrong_code(simulator)
    # A wrong one costs one attempt, as typed without the separator.
    response = signed_in.post(VERIFY, {"token": spaced.format(wrong[:3], wrong[3:])})
    assert "That code is incorrect." in response.content.decode()
    assert failures() == 1
    response = signed_in.post(VERIFY, {"token": spaced.format(code[:3], code[3:])})
    assert response.status_code == 302
    assert simulator.call_count("otpvalid") == 2
    assert is_verified_now(signed_in)


def test_a_used_code_with_a_dash_is_still_a_used_code(signed_in, simulator, login, monkeypatch):
    # A Single Connect that accepts any code: only the replay check can refuse it.
    monkeypatch.setattr(type(simulator), "otp_valid", lambda self, username, token: True)
    signed_in.get(VERIFY)
    code = simulator.current_code("alice")
    assert signed_in.post(VERIFY, {"token": code}).status_code == 302
    other = Client()
    login(other)
    other.get(VERIFY)
    response = other.post(VERIFY, {"token": f"{code[:3]}-{code[3:]}"})
    assert "That code is incorrect." in response.content.decode()
    # Refused as the used code it is, whatever Single Connect answered.
    assert simulator.call_count("otpvalid") == 2
    last = VerificationEvent.objects.order_by("pk").last()
    assert (last.event, last.detail) == ("failed", "replayed code")


def test_a_code_of_other_length_when_configured(signed_in, simulator, settings):
    settings.SINGLECONNECT_TOKEN_DIGITS = 8
    response = signed_in.get(VERIFY)
    assert "8-digit code" in response.content.decode()
    response = signed_in.post(VERIFY, {"token": simulator.current_code("alice")})
    assert "Enter the 8-digit code." in response.content.decode()
    assert simulator.call_count("otpvalid") == 0


def test_the_right_code_cycles_the_session_key(signed_in, simulator):
    signed_in.get(VERIFY)
    old_key = signed_in.session.session_key
    response = signed_in.post(VERIFY, {"token": simulator.current_code("alice"), "next": "/"})
    assert response.status_code == 302
    new_key = signed_in.session.session_key
    assert new_key != old_key
    assert signed_in.cookies["sessionid"].value == new_key
    assert not Session.objects.filter(session_key=old_key).exists()
    assert signed_in.session[SESSION_KEY] == str(
        VerificationEvent.objects.get(event="verified").user_id
    )
    assert signed_in.session[VERIFIED_KEY]["method"] == "otp"
    assert PENDING_KEY not in signed_in.session


def test_a_right_code_without_next_goes_to_login_redirect_url(signed_in, simulator, settings):
    settings.LOGIN_REDIRECT_URL = "/mixin/"
    signed_in.get(VERIFY)
    response = signed_in.post(VERIFY, {"token": simulator.current_code("alice")})
    assert response["Location"] == "/mixin/"


def test_wrong_codes_say_how_many_attempts_are_left(signed_in, simulator, settings):
    settings.SINGLECONNECT_MAX_ATTEMPTS = 3
    signed_in.get(VERIFY)
    response = signed_in.post(VERIFY, {"token": wrong_code(simulator)})
    assert response.status_code == 200
    assert "That code is incorrect. 2 attempts left." in response.content.decode()
    assert failures() == 1
    response = signed_in.post(VERIFY, {"token": wrong_code(simulator)})
    assert "That code is incorrect. 1 attempt left." in response.content.decode()
    assert failures() == 2
    assert not is_verified_now(signed_in)
    # The right code still works, and clears the count.
    response = signed_in.post(VERIFY, {"token": simulator.current_code("alice")})
    assert response.status_code == 302
    assert failures() == 0
    assert events() == ["challenge_sent", "failed", "failed", "verified"]


@pytest.mark.parametrize("token", ["123456", "12"])
def test_a_code_posted_before_any_was_sent_goes_back_to_the_form(user, simulator, token):
    client = Client()
    client.force_login(user)
    response = client.post(VERIFY, {"token": token, "next": "/mixin/"})
    assert response.status_code == 302
    assert response["Location"] == "/2fa/verify/?next=%2Fmixin%2F"
    assert simulator.call_count() == 0
    assert failures() == 0


def test_a_code_issued_to_another_login_of_the_user_is_not_this_logins(user, simulator, login):
    earlier = Client()
    login(earlier)
    earlier.get(VERIFY)  # a code issued, in that login
    client = Client()
    login(client)
    response = client.post(VERIFY, {"token": simulator.current_code("alice")})
    assert response.status_code == 302
    assert response["Location"].startswith(VERIFY)  # where the GET issues this login's
    assert simulator.call_count("otpvalid") == 0
    assert failures() == 0


# -- next -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "attack",
    [
        "//evil.com",
        "https://evil.com",
        "/\\evil.com",
        "\\\\evil.com",
        "javascript:alert(1)",
        "http://testserver.evil.com",
        "https://testserver.evil.com/",
        "http://evil.com@testserver.evil.com/",
    ],
)
def test_next_may_not_leave_the_site(signed_in, simulator, attack):
    response = signed_in.get(VERIFY, {"next": attack})
    assert attack not in response.content.decode()
    response = signed_in.post(VERIFY, {"token": simulator.current_code("alice"), "next": attack})
    assert response.status_code == 302
    assert response["Location"] == "/"


def test_an_https_page_refuses_an_http_next(signed_in, simulator):
    # The same host, but sent back over plain HTTP: the browser would leave TLS.
    signed_in.get(VERIFY, secure=True)
    code = simulator.current_code("alice")
    response = signed_in.post(
        VERIFY, {"token": code, "next": "http://testserver/mixin/"}, secure=True
    )
    assert response.status_code == 302
    assert response["Location"] == "/"
    # The same page over TLS goes on to the same host over TLS.
    response = signed_in.get(VERIFY, {"next": "https://testserver/mixin/"}, secure=True)
    assert response["Location"] == "https://testserver/mixin/"


def test_an_http_page_accepts_its_own_absolute_next(verified):
    assert verified.get(VERIFY, {"next": "http://testserver/mixin/"})["Location"] == (
        "http://testserver/mixin/"
    )


def test_next_from_the_query_string_is_used_when_the_form_has_none(signed_in, simulator):
    signed_in.get(VERIFY)
    response = signed_in.post(f"{VERIFY}?next=/mixin/", {"token": simulator.current_code("alice")})
    assert response["Location"] == "/mixin/"


def test_next_survives_from_the_protected_page_to_the_code(signed_in, simulator, hidden_next):
    response = signed_in.get("/mixin/?a=1&b=%2F")
    assert response.status_code == 302
    assert response["Location"] == "/2fa/verify/?next=%2Fmixin%2F%3Fa%3D1%26b%3D%252F"
    page = signed_in.get(response["Location"])
    assert set(hidden_next(page)) == {"/mixin/?a=1&b=%2F"}
    (next_url,) = set(hidden_next(page))

    response = signed_in.post(VERIFY, {"token": wrong_code(simulator), "next": next_url})
    assert set(hidden_next(response)) == {"/mixin/?a=1&b=%2F"}
    response = signed_in.post(VERIFY, {"token": simulator.current_code("alice"), "next": next_url})
    assert response["Location"] == "/mixin/?a=1&b=%2F"


# -- resend -----------------------------------------------------------------------------------


def cooldown_lines(page: Any) -> list[str]:
    """The page's cooldown messages: its class and its text."""
    return re.findall(
        r'<p id="resend-wait" class="([a-z ]+)"[^>]*>(You can ask for a new code in [^<]*)</p>',
        page.content.decode(),
    )


def test_resend_waits_for_the_cooldown(clock, signed_in, simulator, settings):
    settings.SINGLECONNECT_RESEND_COOLDOWN = 60
    page = signed_in.get(VERIFY, {"next": "/mixin/"})
    assert cooldown_lines(page) == [("muted countdown", "You can ask for a new code in 1:00.")]
    html = page.content.decode()
    # What singleconnect.js counts down, and the button it keeps disabled meanwhile.
    assert 'data-seconds="60"' in html
    assert 'data-countdown="resend-wait">Send a new code</button>' in html

    clock.advance(10)
    response = signed_in.post(RESEND, {"next": "/mixin/"})
    assert response.status_code == 302
    assert response["Location"] == "/2fa/verify/?next=%2Fmixin%2F"
    assert simulator.call_count("otpstatus") == 1
    page = signed_in.get(response["Location"])
    # Pressed too soon: one message, a notice now, and no other.
    assert cooldown_lines(page) == [("notice countdown", "You can ask for a new code in 0:50.")]
    assert page.content.decode().count("new code in") == 1
    assert 'role="status" data-seconds="50"' in page.content.decode()
    # The notice is shown once; the wait stays.
    page = signed_in.get(VERIFY)
    assert cooldown_lines(page) == [("muted countdown", "You can ask for a new code in 0:50.")]

    clock.advance(49)
    signed_in.post(RESEND)
    assert simulator.call_count("otpstatus") == 1
    page = signed_in.get(VERIFY)
    assert cooldown_lines(page) == [("notice countdown", "You can ask for a new code in 0:01.")]

    clock.advance(1)
    signed_in.post(RESEND)
    assert simulator.call_count("otpstatus") == 2
    page = signed_in.get(VERIFY)
    assert "A new code is on its way." in page.content.decode()
    assert cooldown_lines(page) == [("muted countdown", "You can ask for a new code in 1:00.")]
    assert simulator.current_code("alice") is not None
    assert events() == ["challenge_sent", "challenge_sent"]
    assert VerificationEvent.objects.order_by("pk").last().detail == "resend"


def test_no_wait_no_countdown(clock, signed_in, settings):
    settings.SINGLECONNECT_RESEND_COOLDOWN = 60
    signed_in.get(VERIFY)
    clock.advance(60)
    html = signed_in.get(VERIFY).content.decode()
    assert "new code in" not in html
    assert "data-countdown" not in html
    assert '<button type="submit" class="secondary" data-busy-label="Sending…">' in html


def test_resend_stops_at_the_hourly_limit(clock, signed_in, simulator, settings):
    settings.SINGLECONNECT_RESEND_COOLDOWN = 0
    settings.SINGLECONNECT_MAX_CHALLENGES_PER_HOUR = 3
    settings.SINGLECONNECT_PENDING_TIMEOUT = 7200
    signed_in.get(VERIFY)
    clock.advance(1)
    signed_in.post(RESEND)
    page = signed_in.get(VERIFY).content.decode()
    assert 'action="/2fa/resend/"' in page
    assert "You have asked for too many codes" not in page
    clock.advance(1)
    signed_in.post(RESEND)
    # The third code was the last: the button goes with it, and the page says why.
    page = signed_in.get(VERIFY).content.decode()
    assert 'action="/2fa/resend/"' not in page
    assert '<p class="muted">You have asked for too many codes.' in page
    for _ in range(3):
        clock.advance(1)
        signed_in.post(RESEND)  # a form from before, or a crafted POST
    assert simulator.call_count("otpstatus") == 3
    page = signed_in.get(VERIFY).content.decode()
    assert page.count("You have asked for too many codes") == 1
    assert '<p class="notice" role="status">You have asked for too many codes.' in page
    assert 'action="/2fa/resend/"' not in page

    # Codes older than an hour no longer count.
    clock.advance(3600)
    signed_in.post(RESEND)
    assert simulator.call_count("otpstatus") == 4
    assert 'action="/2fa/resend/"' in signed_in.get(VERIFY).content.decode()
    assert len(codes_of(signed_in)) == 1
    response = signed_in.post(VERIFY, {"token": simulator.current_code("alice")})
    assert response.status_code == 302


def test_after_a_resend_only_the_newest_code_works(clock, signed_in, simulator, settings):
    settings.SINGLECONNECT_RESEND_COOLDOWN = 0
    hint = "Only the newest code works: a code sent before it is refused."
    assert hint not in signed_in.get(VERIFY).content.decode()
    older = simulator.current_code("alice")
    clock.advance(1)
    signed_in.post(RESEND)
    assert hint in signed_in.get(VERIFY).content.decode()
    # The older code typed: a wrong code, with the hint by the field.
    response = signed_in.post(VERIFY, {"token": older})
    html = response.content.decode()
    assert "That code is incorrect." in html
    assert f'<p class="hint" id="token-hint">{hint}</p>' in html
    assert html.index("token-errors") < html.index("token-hint")


def test_the_username_budget_spent_also_takes_the_button(clock, signed_in, settings, login):
    settings.SINGLECONNECT_RESEND_COOLDOWN = 0
    settings.SINGLECONNECT_MAX_CODES_PER_HOUR = 2
    signed_in.get(VERIFY)
    clock.advance(1)
    signed_in.post(RESEND)
    page = signed_in.get(VERIFY).content.decode()
    assert 'action="/2fa/resend/"' not in page
    assert "You have asked for too many codes" in page


def test_resend_asks_when_the_first_challenge_failed(signed_in, simulator):
    simulator.set_fault("error", endpoint="otpstatus")
    assert signed_in.get(VERIFY).status_code == 503
    simulator.set_fault(None)
    signed_in.post(RESEND)
    assert simulator.call_count("otpstatus") == 2  # the failed one and this one
    assert simulator.current_code("alice")


def test_resend_without_an_answer_is_a_503(signed_in, simulator, settings):
    settings.SINGLECONNECT_RESEND_COOLDOWN = 0
    signed_in.get(VERIFY)
    simulator.set_fault("html", endpoint="otpstatus")
    response = signed_in.post(RESEND)
    assert response.status_code == 503
    assert events() == ["challenge_sent", "service_unavailable"]


def test_resend_for_a_user_without_otp_follows_the_policy(signed_in, simulator, settings):
    settings.SINGLECONNECT_RESEND_COOLDOWN = 0
    signed_in.get(VERIFY)
    simulator.inactive.add("alice")
    response = signed_in.post(RESEND, {"next": "/mixin/"})
    assert response["Location"] == "/mixin/"
    assert is_verified_now(signed_in)


# -- expiry -----------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["get", "post"])
def test_a_pending_step_expires(clock, signed_in, simulator, settings, method):
    settings.SINGLECONNECT_PENDING_TIMEOUT = 600
    signed_in.get(VERIFY)
    code = simulator.current_code("alice")
    clock.advance(600)
    assert signed_in.get(VERIFY).status_code == 200  # not yet

    clock.advance(1)
    if method == "get":
        response = signed_in.get(VERIFY, {"next": "/mixin/"})
    else:
        response = signed_in.post(VERIFY, {"token": code, "next": "/mixin/"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "Your sign-in has expired" in html
    assert 'href="/accounts/login/?next=%2Fmixin%2F"' in html
    assert SESSION_KEY not in signed_in.session
    assert simulator.call_count("otpvalid") == 0
    assert events() == ["challenge_sent", "expired"]
    assert signed_in.get("/")["Location"] == "/accounts/login/?next=/"


# -- invariant 6: what drops the verified mark ----------------------------------------------------


def test_logout_drops_the_mark(verified, login):
    verified.post("/accounts/logout/")
    assert verified.get("/")["Location"] == "/accounts/login/?next=/"
    login(verified)
    assert verified.get("/")["Location"] == "/2fa/verify/?next=%2F"


def test_the_code_page_logout(signed_in):
    response = signed_in.post("/2fa/logout/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/"
    assert SESSION_KEY not in signed_in.session


def test_switching_user_drops_the_mark(verified, django_user_model, login):
    django_user_model.objects.create_user("bob", password="correct horse")
    login(verified, "bob")
    assert verified.get("/")["Location"] == "/2fa/verify/?next=%2F"
    assert VERIFIED_KEY not in verified.session


def test_a_password_change_in_this_session_drops_the_mark(verified, simulator, pass_code):
    response = verified.post("/password/", {"password": "new horse"})
    assert response.content == b"password changed"
    # Still signed in (the session hash was updated), but the code is asked again.
    assert SESSION_KEY in verified.session
    assert verified.get("/")["Location"] == "/2fa/verify/?next=%2F"
    assert simulator.call_count("otpstatus") == 1
    pass_code(verified)
    assert simulator.call_count("otpstatus") == 2
    assert is_verified_now(verified)


def test_a_password_change_in_another_session_drops_the_mark(verified, user, login, pass_code):
    other = Client()
    login(other)
    pass_code(other)
    other.post("/password/", {"password": "new horse"})
    assert not is_verified_now(other)
    # The first session was signed in with the old password: it is out.
    assert verified.get("/")["Location"] == "/accounts/login/?next=/"


# -- invariant 2: the code is kept nowhere ------------------------------------------------------


def test_the_code_is_never_stored_logged_or_echoed(signed_in, simulator, caplog):
    caplog.set_level(logging.DEBUG)
    signed_in.get(VERIFY)
    wrong = wrong_code(simulator)
    typed = [wrong, "12a456"]
    response = signed_in.post(VERIFY, {"token": wrong})
    html = response.content.decode()
    (field,) = re.findall(r"<input [^>]*name=\"token\"[^>]*>", html)
    assert "value=" not in field
    assert f'value="{wrong}"' not in html

    response = signed_in.post(VERIFY, {"token": "12a456"})
    (field,) = re.findall(r"<input [^>]*name=\"token\"[^>]*>", response.content.decode())
    assert "value=" not in field

    right = simulator.current_code("alice")
    typed.append(right)
    # Single Connect failing with the code in hand logs warnings: without the code.
    for mode in ("garbage", "error"):
        simulator.set_fault(mode, endpoint="otpvalid")
        assert signed_in.post(VERIFY, {"token": right}).status_code == 503
    simulator.set_fault(None)
    signed_in.post(VERIFY, {"token": right})
    assert is_verified_now(signed_in)

    stored = [json.dumps(dict(signed_in.session.items()))]
    stored += [json.dumps(row.get_decoded()) for row in Session.objects.all()]
    stored += [json.dumps(row, default=str) for row in VerificationEvent.objects.values()]
    stored += [json.dumps(row, default=str) for row in AttemptCounter.objects.values()]
    logged = [record.getMessage() for record in caplog.records]
    logged += [repr(record.args) for record in caplog.records]
    assert any("otpvalid" in message for message in logged)  # the log was captured
    for code in typed:
        for text in stored + logged:
            assert code not in text


# -- signals ------------------------------------------------------------------------------------

SIGNALS = {
    "challenge_sent": signals.challenge_sent,
    "verification_succeeded": signals.verification_succeeded,
    "verification_failed": signals.verification_failed,
    "user_locked_out": signals.user_locked_out,
    "service_unavailable": signals.service_unavailable,
}


@pytest.fixture
def received():
    calls: list[tuple[str, dict[str, Any]]] = []
    receivers = {}
    for name, signal in SIGNALS.items():

        def receiver(sender: Any, name: str = name, **kwargs: Any) -> None:
            calls.append((name, {"sender": sender, **kwargs}))

        receivers[name] = receiver
        signal.connect(receiver)
    yield calls
    for name, signal in SIGNALS.items():
        signal.disconnect(receivers[name])


def test_signals_carry_the_documented_arguments(signed_in, simulator, settings, user, received):
    settings.SINGLECONNECT_MAX_ATTEMPTS = (
        3  # a wrong code, one that may have reached it, the right one
    )
    settings.SINGLECONNECT_RESEND_COOLDOWN = 0
    signed_in.get(VERIFY)
    signed_in.post(RESEND)
    signed_in.post(VERIFY, {"token": wrong_code(simulator)})
    simulator.set_fault("error", endpoint="otpvalid")
    signed_in.post(VERIFY, {"token": simulator.current_code("alice")})
    simulator.set_fault(None)
    signed_in.post(VERIFY, {"token": simulator.current_code("alice")})

    names = [name for name, _ in received]
    assert names == [
        "challenge_sent",
        "challenge_sent",
        "verification_failed",
        "service_unavailable",
        "verification_succeeded",
    ]
    common = {"sender", "signal", "request", "user", "username", "node"}
    extra = [set(kwargs) - common for _, kwargs in received]
    assert extra == [{"resend"}, {"resend"}, {"attempts_left"}, {"error"}, {"method"}]
    for _, kwargs in received:
        assert kwargs["sender"] is SingleConnectClient
        assert kwargs["user"] == user
        assert kwargs["username"] == "alice"
        assert kwargs["node"] == simulator.hostname
        assert kwargs["request"].path.startswith("/2fa/")
    # Django's error reports leave the code out.
    assert received[2][1]["request"].sensitive_post_parameters == ("token",)
    assert [kwargs.get("resend") for _, kwargs in received[:2]] == [False, True]
    assert received[2][1]["attempts_left"] == 2
    assert isinstance(received[3][1]["error"], SingleConnectError)
    # A copy without the traceback and the chain, whose frames hold the code.
    assert received[3][1]["error"].__traceback__ is None
    assert received[3][1]["error"].__cause__ is None
    assert received[3][1]["error"].cause == "unexpected_response"
    assert received[4][1]["method"] == "otp"
    assert events() == [
        "challenge_sent",
        "challenge_sent",
        "failed",
        "service_unavailable",
        "verified",
    ]


def test_the_lockout_signal(signed_in, simulator, settings, received):
    settings.SINGLECONNECT_MAX_ATTEMPTS = 1
    signed_in.get(VERIFY)
    signed_in.post(VERIFY, {"token": wrong_code(simulator)})
    names = [name for name, _ in received]
    assert names == ["challenge_sent", "verification_failed", "user_locked_out"]
    assert received[1][1]["attempts_left"] == 0
    until = received[2][1]["locked_until"]
    assert until.tzinfo is not None
    assert until == AttemptCounter.objects.get().locked_until
    assert events() == ["challenge_sent", "failed", "locked_out"]


def test_the_otp_inactive_signal(signed_in, simulator, received):
    simulator.inactive.add("alice")
    signed_in.get(VERIFY)
    assert [(name, kwargs.get("method")) for name, kwargs in received] == [
        ("verification_succeeded", "otp_inactive")
    ]


@pytest.mark.parametrize(
    ("meta", "proxies"),
    [
        # Behind a proxy on a UNIX socket REMOTE_ADDR is empty: never send an empty enduserip.
        ({"REMOTE_ADDR": ""}, []),
        ({"REMOTE_ADDR": "", "HTTP_X_FORWARDED_FOR": "garbage"}, ["unix"]),
        ({"REMOTE_ADDR": "not-an-address"}, []),
    ],
)
def test_without_a_client_address_no_code_is_asked_for(
    signed_in, simulator, settings, meta, proxies
):
    settings.SINGLECONNECT_TRUSTED_PROXIES = proxies
    response = signed_in.get(VERIFY, **meta)
    assert response.status_code == 400
    assert "cannot tell the address you are connecting from" in response.content.decode()
    assert simulator.call_count("otpstatus") == 0
    assert SingleConnectClient().breaker.counted() == 0
    assert codes_of(signed_in) == []  # no code of the budget spent either


def test_behind_a_proxy_on_a_unix_socket(signed_in, simulator, spy_status, settings):
    settings.SINGLECONNECT_TRUSTED_PROXIES = ["unix"]
    signed_in.get(VERIFY, REMOTE_ADDR="", HTTP_X_FORWARDED_FOR="198.51.100.7")
    assert spy_status == [("alice", "198.51.100.7")]


def test_the_address_is_normalised_before_it_is_sent_and_stored(signed_in, simulator, spy_status):
    signed_in.get(VERIFY, REMOTE_ADDR="::ffff:203.0.113.9")
    assert spy_status == [("alice", "203.0.113.9")]
    assert VerificationEvent.objects.get().ip_address == "203.0.113.9"
