"""A code that verified a login is refused for a while, whatever Single Connect says."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client, override_settings
from django.utils import timezone

from django_singleconnect import replay
from django_singleconnect.client import SingleConnectClient
from django_singleconnect.models import AttemptCounter, UsedCode, VerificationEvent
from django_singleconnect.simulator import Simulator

pytestmark = pytest.mark.django_db

VERIFY = "/2fa/verify/"


@pytest.fixture
def lenient(simulator: Simulator, monkeypatch: pytest.MonkeyPatch) -> Simulator:
    """A Single Connect that accepts any code, as many times as it is typed."""
    monkeypatch.setattr(Simulator, "otp_valid", lambda self, username, token: True)
    return simulator


@pytest.fixture
def new_login(login: Callable[..., Any]) -> Callable[..., Client]:
    """A new browser, signed in with the password and on the code page."""

    def new_login(username: str = "alice") -> Client:
        client = Client()
        login(client, username)
        assert client.get(VERIFY).status_code == 200
        return client

    return new_login


def is_verified_now(client: Client) -> bool:
    return client.get("/").status_code == 200


def failures(username: str = "alice") -> int:
    counter = AttemptCounter.objects.filter(username=username).first()
    return counter.failures if counter else 0


def test_a_code_verifies_one_login_only(
    user: Any, lenient: Simulator, new_login: Callable[..., Client]
) -> None:
    first = new_login()
    code = lenient.current_code("alice")
    assert first.post(VERIFY, {"token": code})["Location"] == "/"
    assert is_verified_now(first)
    assert lenient.call_count("otpvalid") == 1

    second = new_login()
    response = second.post(VERIFY, {"token": code})
    assert response.status_code == 200
    assert "That code is incorrect. 4 attempts left." in response.content.decode()
    # Single Connect was asked, the attempt counted first: the code is refused when it is
    # kept, right after the call, however Single Connect answered.
    assert lenient.call_count("otpvalid") == 2
    assert failures() == 1
    assert not is_verified_now(second)
    event = VerificationEvent.objects.order_by("pk").last()
    assert (event.event, event.detail) == ("failed", "replayed code")
    # The code Single Connect just sent still works.
    assert second.post(VERIFY, {"token": lenient.current_code("alice")})["Location"] == "/"
    assert failures() == 0


def test_replays_count_towards_the_lockout(
    user: Any, lenient: Simulator, new_login: Callable[..., Client], settings: Any
) -> None:
    settings.SINGLECONNECT_MAX_ATTEMPTS = 2
    first = new_login()
    code = lenient.current_code("alice")
    first.post(VERIFY, {"token": code})
    second = new_login()
    assert second.post(VERIFY, {"token": code}).status_code == 200
    assert second.post(VERIFY, {"token": code}).status_code == 429
    assert lenient.call_count("otpvalid") == 3
    assert second.post(VERIFY, {"token": code}).status_code == 429
    assert lenient.call_count("otpvalid") == 3  # locked out: not asked


def test_another_user_with_the_same_digits_is_not_affected(
    user: Any,
    django_user_model: Any,
    password: str,
    lenient: Simulator,
    new_login: Callable[..., Client],
) -> None:
    django_user_model.objects.create_user("bob", password=password)
    alice = new_login()
    code = lenient.current_code("alice")
    assert alice.post(VERIFY, {"token": code})["Location"] == "/"
    bob = new_login("bob")
    assert bob.post(VERIFY, {"token": code})["Location"] == "/"
    assert is_verified_now(bob)
    assert failures("bob") == 0
    assert UsedCode.objects.count() == 2


@pytest.mark.parametrize(("age", "accepted"), [(599, False), (601, True)])
def test_the_window(
    user: Any,
    lenient: Simulator,
    new_login: Callable[..., Client],
    settings: Any,
    age: int,
    accepted: bool,
) -> None:
    settings.SINGLECONNECT_REPLAY_SECONDS = 600
    first = new_login()
    code = lenient.current_code("alice")
    first.post(VERIFY, {"token": code})
    UsedCode.objects.update(created_at=timezone.now() - dt.timedelta(seconds=age))
    second = new_login()
    response = second.post(VERIFY, {"token": code})
    assert (response.status_code == 302) is accepted
    assert is_verified_now(second) is accepted
    assert lenient.call_count("otpvalid") == 2  # a replayed code is refused after the call
    # Accepted again, it is kept again, from now.
    assert UsedCode.objects.filter(
        created_at__gt=timezone.now() - dt.timedelta(seconds=60)
    ).exists() is (accepted)


def test_no_window_leaves_it_to_single_connect(
    user: Any, lenient: Simulator, new_login: Callable[..., Client], settings: Any
) -> None:
    settings.SINGLECONNECT_REPLAY_SECONDS = 0
    first = new_login()
    code = lenient.current_code("alice")
    first.post(VERIFY, {"token": code})
    second = new_login()
    assert second.post(VERIFY, {"token": code})["Location"] == "/"
    assert lenient.call_count("otpvalid") == 2


def test_a_code_checked_alongside_is_accepted_once(
    user: Any,
    lenient: Simulator,
    new_login: Callable[..., Client],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """
    Two requests with one code, each past the replay check before the other is done (two
    workers, say): Single Connect accepts both, and only one of them may get in.
    """
    first = new_login()
    second = new_login()
    code = lenient.current_code("alice")
    original = SingleConnectClient.otp_valid
    inner: list[Any] = []

    def otp_valid(self: SingleConnectClient, username: str, token: str, **kwargs: Any) -> bool:
        valid = original(self, username, token, **kwargs)
        if not inner:
            inner.append(None)
            # The other request runs start to end while this one waits for its answer.
            inner[0] = second.post(VERIFY, {"token": code})
        return valid

    monkeypatch.setattr(SingleConnectClient, "otp_valid", otp_valid)
    outer = first.post(VERIFY, {"token": code})
    assert lenient.call_count("otpvalid") == 2
    assert inner[0].status_code == 302  # the first to finish gets in
    assert outer.status_code == 200
    assert "That code is incorrect." in outer.content.decode()
    assert [is_verified_now(first), is_verified_now(second)] == [False, True]
    event = VerificationEvent.objects.order_by("pk").last()
    assert (event.event, event.detail) == ("failed", "replayed code")
    assert UsedCode.objects.count() == 1


def test_only_a_keyed_hash_is_kept(
    user: Any, lenient: Simulator, new_login: Callable[..., Client]
) -> None:
    client = new_login()
    code = lenient.current_code("alice")
    assert code is not None
    client.post(VERIFY, {"token": code})
    (row,) = UsedCode.objects.values()
    stored = json.dumps(row, default=str)
    assert code not in stored
    assert "alice" not in stored
    assert len(row["digest"]) == 64
    # Not a plain hash that ten million guesses would undo: it needs the SECRET_KEY.
    for unkeyed in (f"alice\x00{code}", code, f"alice{code}"):
        assert row["digest"] != hashlib.sha256(unkeyed.encode()).hexdigest()
    with override_settings(SECRET_KEY="another-secret"):
        assert not replay.was_used("alice", code, 600)
    assert replay.was_used("alice", code, 600)
    assert str(UsedCode.objects.get()) == f"{row['created_at']:%Y-%m-%d %H:%M:%S}"


def test_old_rows_are_purged_now_and_then(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = [1000.0]
    monkeypatch.setattr(replay.time, "monotonic", lambda: clock[0])
    monkeypatch.setattr(replay, "_next_purge", 0.0)

    def row(digest: str, age: int) -> None:
        created = UsedCode.objects.create(digest=digest)
        UsedCode.objects.filter(pk=created.pk).update(
            created_at=timezone.now() - dt.timedelta(seconds=age)
        )

    row("a" * 64, 601)
    row("b" * 64, 599)
    assert replay.remember("alice", "123456", 600) is True
    assert replay.remember("alice", "123456", 600) is False
    digests = {"b" * 64, replay._digest("alice", "123456")}
    assert set(UsedCode.objects.values_list("digest", flat=True)) == digests
    # Within the interval, an old row stays: it counts for nothing, it only takes room.
    row("c" * 64, 700)
    clock[0] += replay.PURGE_INTERVAL - 1
    assert replay.remember("bob", "123456", 600) is True
    assert UsedCode.objects.filter(digest="c" * 64).exists()
    clock[0] += 1
    assert replay.remember("carol", "123456", 600) is True
    assert not UsedCode.objects.filter(digest="c" * 64).exists()


def test_a_code_used_before_the_window_is_taken_over_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(replay, "_next_purge", float("inf"))  # no purge: the row stays
    assert replay.remember("alice", "123456", 600) is True
    UsedCode.objects.update(created_at=timezone.now() - dt.timedelta(seconds=601))
    assert not replay.was_used("alice", "123456", 600)
    # Two requests with that code, side by side: the first takes the row over.
    assert replay.remember("alice", "123456", 600) is True
    assert replay.remember("alice", "123456", 600) is False
    assert replay.was_used("alice", "123456", 600)
    assert UsedCode.objects.count() == 1


def test_a_stale_row_of_another_code_is_not_taken_over(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(replay, "_next_purge", float("inf"))  # no purge: the rows stay
    assert replay.remember("bob", "654321", 600) is True
    stale = timezone.now() - dt.timedelta(seconds=601)
    UsedCode.objects.update(created_at=stale)
    assert replay.remember("alice", "123456", 600) is True
    # alice's code again, alongside: it is in use, whatever old row of another code is there.
    assert replay.remember("alice", "123456", 600) is False
    assert UsedCode.objects.get(digest=replay._digest("bob", "654321")).created_at == stale
