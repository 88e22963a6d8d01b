"""The second-factor state in the session: the verified mark and the pending step."""

from __future__ import annotations

from typing import Any

import pytest
from asgiref.sync import async_to_sync
from django.contrib.auth import HASH_SESSION_KEY, alogin, login, update_session_auth_hash
from django.contrib.auth.models import AnonymousUser
from django.contrib.auth.signals import user_logged_in
from django.contrib.sessions.backends.db import SessionStore
from django.http import HttpRequest
from django.test import AsyncClient, Client, RequestFactory

import django_singleconnect
from django_singleconnect import state

pytestmark = pytest.mark.django_db

BACKEND = "django.contrib.auth.backends.ModelBackend"


def request_for(user: Any, session: SessionStore | None = None) -> HttpRequest:
    request = RequestFactory().get("/")
    request.session = session if session is not None else SessionStore()
    request.user = user

    async def auser() -> Any:
        return request.user

    request.auser = auser  # type: ignore[attr-defined]
    return request


def switch_user(request: HttpRequest, user: Any) -> None:
    """What the auth middleware would give another request: both ``user`` and ``auser()``
    (Django 6.1's login() replaces ``auser`` with its own)."""
    request.user = user

    async def auser() -> Any:
        return user

    request.auser = auser  # type: ignore[attr-defined]


def logged_in_request(user: Any) -> HttpRequest:
    request = request_for(AnonymousUser())
    login(request, user, BACKEND)
    return request


def verified_request(user: Any) -> HttpRequest:
    request = logged_in_request(user)
    state.mark_verified(request, "otp")
    return request


def both(request: HttpRequest) -> tuple[bool, bool, bool]:
    """is_verified, ais_verified and the public is_verified, which must always agree."""
    return (
        state.is_verified(request),
        async_to_sync(state.ais_verified)(request),
        django_singleconnect.is_verified(request),
    )


def test_a_login_starts_a_pending_step(user, clock):
    request = logged_in_request(user)
    pending = request.session[state.PENDING_KEY]
    assert pending == {
        "user": str(user.pk),
        "auth": request.session[HASH_SESSION_KEY],
        "started": clock.now,
        "login": pending["login"],
        "username": user.get_username(),
        "notice": "",
        "denied": False,
        "node": "sc.example.com",  # the first node, until a code is issued
    }
    assert both(request) == (False, False, False)


def test_the_mark_holds_for_this_user_in_this_login(user):
    request = verified_request(user)
    assert both(request) == (True, True, True)
    mark = request.session[state.VERIFIED_KEY]
    assert mark["user"] == str(user.pk)
    assert mark["method"] == "otp"
    assert state.PENDING_KEY not in request.session


def test_marking_cycles_the_session_key(user):
    request = logged_in_request(user)
    request.session.save()
    old = request.session.session_key
    store = request.session.__class__
    state.mark_verified(request, "otp")
    assert not store().exists(old)  # the old key is gone at once
    request.session.save()  # the new one is made when the session is saved
    new = request.session.session_key
    assert new
    assert new != old
    # What the session held, the login included, is under the new key, with the mark.
    reloaded = store(new)
    assert reloaded[HASH_SESSION_KEY] == request.session[HASH_SESSION_KEY]
    assert reloaded["_auth_user_id"] == str(user.pk)
    assert reloaded[state.VERIFIED_KEY]["user"] == str(user.pk)


def test_a_login_drops_the_mark(user):
    request = verified_request(user)
    login(request, user, BACKEND)
    assert state.VERIFIED_KEY not in request.session
    assert both(request) == (False, False, False)


def test_an_async_login_drops_the_mark(user):
    request = verified_request(user)
    async_to_sync(alogin)(request, user, BACKEND)
    assert state.VERIFIED_KEY not in request.session
    assert state.PENDING_KEY in request.session
    assert both(request) == (False, False, False)


def test_the_mark_is_not_for_another_user(user, django_user_model):
    request = verified_request(user)
    switch_user(request, django_user_model.objects.create_user("bob"))
    assert both(request) == (False, False, False)


def test_the_mark_is_not_for_another_password(user):
    request = verified_request(user)
    user.set_password("something else")
    update_session_auth_hash(request, user)
    assert state.VERIFIED_KEY in request.session
    assert both(request) == (False, False, False)


@pytest.mark.parametrize("mark", ["yes", ["1", "x"], 1, True])
def test_a_mark_of_the_wrong_shape_is_no_mark(user, mark):
    request = verified_request(user)
    request.session[state.VERIFIED_KEY] = mark
    assert both(request) == (False, False, False)


def test_nobody_is_verified_without_a_session_or_a_user(user):
    request = verified_request(user)
    switch_user(request, AnonymousUser())
    assert both(request) == (False, False, False)
    bare = RequestFactory().get("/")
    assert not state.is_verified(bare)
    assert not async_to_sync(state.ais_verified)(bare)
    no_user = RequestFactory().get("/")
    no_user.session = verified_request(user).session
    assert not state.is_verified(no_user)


def test_a_session_without_the_auth_hash(user):
    request = verified_request(user)
    del request.session[HASH_SESSION_KEY]
    assert both(request) == (False, False, False)


def test_get_pending_keeps_the_step_of_this_login(user, clock):
    request = logged_in_request(user)
    pending = state.get_pending(request)
    clock.advance(10)
    assert state.get_pending(request) == pending
    assert pending["started"] == clock.now - 10


def test_get_pending_starts_a_step_for_a_session_it_never_saw(user, clock):
    request = logged_in_request(user)
    del request.session[state.PENDING_KEY]
    request.session[state.VERIFIED_KEY] = {"user": "someone else"}
    pending = state.get_pending(request)
    assert pending["started"] == clock.now
    assert request.session[state.PENDING_KEY] == pending
    assert state.VERIFIED_KEY not in request.session


def test_get_pending_starts_again_after_a_password_change(user, clock):
    request = logged_in_request(user)
    clock.advance(100)
    user.set_password("something else")
    update_session_auth_hash(request, user)
    assert state.get_pending(request)["started"] == clock.now


def test_save_pending_stores_the_step(user):
    request = logged_in_request(user)
    pending = state.get_pending(request)
    pending["notice"] = "resent"
    request.session.modified = False
    state.save_pending(request, pending)
    assert request.session.modified
    assert request.session[state.PENDING_KEY]["notice"] == "resent"


def test_a_login_without_a_request_or_a_session_is_ignored(user):
    # Logins without a request (e.g. authenticate() in a script) have no session to mark.
    user_logged_in.send(sender=type(user), request=None, user=user)
    request = RequestFactory().get("/")
    user_logged_in.send(sender=type(user), request=request, user=user)
    assert not hasattr(request, "session")


def test_the_public_ais_verified_in_an_async_view(client: Client, user, pass_code) -> None:
    """Through the async handler, where the sync ``is_verified`` would raise."""
    async_client = AsyncClient()
    async_client.cookies = client.cookies
    ask = async_to_sync(async_client.get)
    assert ask("/async-whether/").content == b"not verified"  # anonymous
    async_to_sync(async_client.aforce_login)(user)
    client.cookies = async_client.cookies
    assert ask("/async-whether/").content == b"not verified"  # the password alone
    pass_code(client)
    async_client.cookies = client.cookies
    assert ask("/async-whether/").content == b"verified"
    assert django_singleconnect.ais_verified.__doc__
    assert "ais_verified" in django_singleconnect.__all__
