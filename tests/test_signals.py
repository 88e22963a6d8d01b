"""Every audit event is a signal, and a wrong code may be one of Django's failed logins."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.contrib.auth.signals import user_login_failed
from django.test import Client

from django_singleconnect import signals
from django_singleconnect.models import VerificationEvent
from tests.conftest import Clock

pytestmark = pytest.mark.django_db


@pytest.fixture
def heard() -> Iterator[dict[str, list[dict[str, Any]]]]:
    names = ["audit_event", "step_expired", "verification_denied", "step_up_started"]
    found: dict[str, list[dict[str, Any]]] = {name: [] for name in names}
    receivers = {}
    for name in names:
        receivers[name] = lambda name=name, **kwargs: found[name].append(kwargs)
        getattr(signals, name).connect(receivers[name])
    yield found
    for name in names:
        getattr(signals, name).disconnect(receivers[name])


def test_every_row_of_the_audit_log_is_a_signal(
    heard: dict[str, list[Any]], signed_in: Client, simulator: Any
) -> None:
    signed_in.get("/2fa/verify/")
    signed_in.post("/2fa/verify/", {"token": "000000"})
    VerificationEvent.objects.create(username="x", event=VerificationEvent.Kind.LOCKOUT_CLEARED)
    rows = list(VerificationEvent.objects.order_by("pk"))
    assert [kwargs["event"] for kwargs in heard["audit_event"]] == rows
    assert [row.event for row in rows] == ["challenge_sent", "failed", "lockout_cleared"]


def test_an_expired_step_is_a_signal(
    heard: dict[str, list[Any]], clock: Clock, signed_in: Client, simulator: Any
) -> None:
    signed_in.get("/2fa/verify/")
    clock.advance(601)
    assert "expired" in signed_in.get("/2fa/verify/").content.decode()
    (expired,) = heard["step_expired"]
    assert expired["username"] == "alice"


def test_a_step_up_is_a_signal(
    heard: dict[str, list[Any]], clock: Clock, verified: Client, simulator: Any
) -> None:
    clock.advance(301)
    verified.get("/2fa/verify/?next=/fresh/&max_age=300")
    (started,) = heard["step_up_started"]
    assert (started["username"], started["max_age"]) == ("alice", 300)


@pytest.mark.parametrize("asked", [False, True])
def test_a_wrong_code_is_one_of_djangos_failed_logins_when_asked(
    signed_in: Client, simulator: Any, settings: Any, asked: bool
) -> None:
    settings.SINGLECONNECT_SEND_LOGIN_FAILED = asked
    failed: list[dict[str, Any]] = []

    def receiver(**kwargs: Any) -> None:
        failed.append(kwargs)

    user_login_failed.connect(receiver)
    try:
        signed_in.get("/2fa/verify/")
        signed_in.post("/2fa/verify/", {"token": "000000"})
    finally:
        user_login_failed.disconnect(receiver)
    if not asked:
        assert failed == []
        return
    (sent,) = failed
    assert sent["credentials"] == {"username": "alice"}  # never the code
    assert sent["request"].path == "/2fa/verify/"


@pytest.mark.parametrize("saves", [False, True])
def test_verification_succeeded_sees_the_new_key_once_the_session_is_saved(
    signed_in: Client, simulator: Any, saves: bool
) -> None:
    old = signed_in.cookies["sessionid"].value
    keys: list[str | None] = []

    def receiver(request: Any, **kwargs: Any) -> None:
        if saves:  # what the README tells a receiver that needs the key to do
            request.session.save()
        keys.append(request.session.session_key)

    signals.verification_succeeded.connect(receiver)
    try:
        signed_in.get("/2fa/verify/")
        response = signed_in.post("/2fa/verify/", {"token": simulator.current_code("alice")})
    finally:
        signals.verification_succeeded.disconnect(receiver)
    assert response.status_code == 302
    new = signed_in.cookies["sessionid"].value
    assert new != old
    assert keys == ([new] if saves else [None])
    assert signed_in.get("/").status_code == 200  # verified under the new key
