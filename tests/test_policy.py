"""``SINGLECONNECT_OTP_INACTIVE_POLICY``: per user, built in or a callable."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from django.test import Client

from django_singleconnect import policy, signals
from django_singleconnect.models import VerificationEvent

pytestmark = pytest.mark.django_db


def allow_alice(user: Any) -> str:
    return "allow" if user.get_username() == "alice" else "deny"


def broken(user: Any) -> str:
    raise RuntimeError("the directory is down")


def odd(user: Any) -> str:
    return "yes"


class User:
    def __init__(self, staff: bool = False, superuser: bool = False, name: str = "x") -> None:
        self.is_staff, self.is_superuser, self.pk, self.name = staff, superuser, 7, name

    def get_username(self) -> str:
        return self.name


@pytest.mark.parametrize(
    ("value", "user", "expected"),
    [
        ("allow", User(staff=True), "allow"),
        ("deny", User(), "deny"),
        ("deny_staff", User(staff=True), "deny"),
        ("deny_staff", User(superuser=True), "deny"),
        ("deny_staff", User(), "allow"),
        ("tests.test_policy.allow_alice", User(name="alice"), "allow"),
        ("tests.test_policy.allow_alice", User(name="bob"), "deny"),
    ],
)
def test_decide(value: str, user: User, expected: str) -> None:
    assert policy.decide(value, user) == expected


@pytest.mark.parametrize("value", ["tests.test_policy.broken", "tests.test_policy.odd"])
def test_a_callable_that_fails_or_answers_oddly_denies(
    value: str, caplog: pytest.LogCaptureFixture
) -> None:
    assert policy.decide(value, User()) == "deny"
    assert f"SINGLECONNECT_OTP_INACTIVE_POLICY {value!r}" in caplog.text
    assert all(r.levelno >= logging.ERROR for r in caplog.records)


@pytest.mark.parametrize(
    ("value", "staff_status", "user_status"),
    [("deny_staff", 403, 302), ("tests.test_policy.allow_alice", 403, 302)],
)
def test_through_the_code_page(
    settings: Any,
    simulator: Any,
    user: Any,
    staff: Any,
    login: Any,
    value: str,
    staff_status: int,
    user_status: int,
) -> None:
    settings.SINGLECONNECT_OTP_INACTIVE_POLICY = value
    simulator.inactive.update({"alice", "root"})
    denied: list[Any] = []
    signals.verification_denied.connect(lambda **kw: denied.append(kw), weak=False)
    try:
        alice, root = Client(), Client()
        login(alice)
        login(root, "root")
        assert alice.get("/2fa/verify/").status_code == user_status
        assert root.get("/2fa/verify/").status_code == staff_status
    finally:
        signals.verification_denied.receivers.clear()
    assert [kw["username"] for kw in denied] == ["root"]
    assert set(VerificationEvent.objects.values_list("event", flat=True)) == {
        "otp_inactive_allowed",
        "otp_inactive_denied",
    }
