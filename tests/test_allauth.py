"""django-allauth: its ways in and out stay open, its sign-in details need the code."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth import SESSION_KEY
from django.test import Client

from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


@pytest.fixture
def through_allauth(client: Client, user: Any, simulator: Any) -> Client:
    """Signed in with allauth's own login form, the password only."""
    response = client.post("/allauth/login/", {"login": "alice", "password": PASSWORD})
    assert response.status_code == 302, response.content
    return client


@pytest.fixture
def enforce_all(settings: Any) -> None:
    settings.SINGLECONNECT_ENFORCE = "all"


def to_the_code_page(response: Any) -> bool:
    return response.status_code == 302 and response["Location"].startswith("/2fa/verify/")


def test_an_allauth_login_starts_the_step(enforce_all: None, through_allauth: Client) -> None:
    assert to_the_code_page(through_allauth.get("/open/"))


@pytest.mark.parametrize("path", ["/allauth/logout/", "/own-logout/"])
def test_a_user_who_has_not_typed_the_code_can_sign_out(
    enforce_all: None, through_allauth: Client, path: str
) -> None:
    if path == "/allauth/logout/":  # allauth asks first
        assert through_allauth.get(path).status_code == 200
    response = through_allauth.post(path)
    assert not to_the_code_page(response)
    assert response.status_code in (200, 302)
    assert SESSION_KEY not in through_allauth.session


@pytest.mark.parametrize(
    "path",
    [
        "/allauth/login/",
        "/allauth/signup/",
        "/allauth/password/reset/",
        "/allauth/password/reset/done/",
    ],
)
def test_allauths_ways_in_stay_reachable(
    enforce_all: None, through_allauth: Client, path: str
) -> None:
    response = through_allauth.get(path)
    assert not to_the_code_page(response)
    assert response.status_code in (200, 302)
    # And for somebody not signed in at all.
    assert Client().get(path).status_code == 200


@pytest.mark.parametrize("enforce", ["decorated", "all"])
@pytest.mark.parametrize("path", ["/allauth/password/change/", "/allauth/email/"])
def test_allauths_sign_in_details_need_the_code_in_both_modes(
    through_allauth: Client, settings: Any, enforce: str, path: str
) -> None:
    settings.SINGLECONNECT_ENFORCE = enforce
    settings.SINGLECONNECT_EXEMPT_URLS = ["/allauth/"]  # not even when exempt
    response = through_allauth.get(path)
    assert to_the_code_page(response)
    response = through_allauth.post(
        "/allauth/password/change/",
        {"oldpassword": PASSWORD, "password1": "n3w-Passw0rd!x", "password2": "n3w-Passw0rd!x"},
    )
    assert to_the_code_page(response)


def test_after_the_code_allauths_pages_open(
    enforce_all: None, through_allauth: Client, pass_code: Any
) -> None:
    pass_code(through_allauth)
    assert through_allauth.get("/allauth/password/change/").status_code == 200
    assert through_allauth.get("/open/").status_code == 200


def test_in_decorated_mode_allauths_other_pages_are_the_sites(through_allauth: Client) -> None:
    # What "decorated" leaves open: whatever is not protected, allauth's pages included.
    assert through_allauth.get("/allauth/login/").status_code in (200, 302)
    assert to_the_code_page(through_allauth.get("/"))  # a decorated view
