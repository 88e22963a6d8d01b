"""
Django REST framework and API clients: the permission class, JSON answers instead of HTML
redirects, and what tokens, HTTP Basic and JWTs may reach.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from rest_framework.authtoken.models import Token
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory, force_authenticate
from rest_framework_simplejwt.tokens import RefreshToken

from django_singleconnect.drf import IsSingleConnectVerified
from django_singleconnect.drf.checks import check_authentication
from tests.conftest import PASSWORD
from tests.test_admin import verify_session

pytestmark = pytest.mark.django_db

JSON = {"HTTP_ACCEPT": "application/json"}


def body(response: Any) -> dict[str, Any]:
    assert response["Content-Type"].startswith("application/json")
    return dict(json.loads(response.content))


def token_header(user: User) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Token {Token.objects.get_or_create(user=user)[0].key}"}


def basic_header(user: User) -> dict[str, str]:
    pair = base64.b64encode(f"{user.get_username()}:{PASSWORD}".encode()).decode()
    return {"HTTP_AUTHORIZATION": f"Basic {pair}"}


def jwt_header(user: User) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {RefreshToken.for_user(user).access_token}"}


CREDENTIALS = {"token": token_header, "basic": basic_header, "jwt": jwt_header}


# -- the permission class ---------------------------------------------------------------------


def test_a_verified_session_passes(verified: Client) -> None:
    response = verified.get("/drf/verified/", **JSON)
    assert (response.status_code, body(response)) == (200, {"user": "alice"})


def test_a_password_only_session_gets_a_403_in_drfs_style(signed_in: Client) -> None:
    response = signed_in.get("/drf/verified/?page=2", **JSON)
    assert response.status_code == 403
    assert body(response) == {
        "detail": "Enter the sign-in code sent to you first, on the code page.",
        "code": "singleconnect_required",
        "verify_url": "/2fa/verify/?next=%2Fdrf%2Fverified%2F%3Fpage%3D2",
    }


@pytest.mark.parametrize("kind", CREDENTIALS)
def test_header_credentials_alone_never_pass(user: User, client: Client, kind: str) -> None:
    response = client.get("/drf/verified/", **JSON, **CREDENTIALS[kind](user))
    assert response.status_code == 403
    assert body(response)["code"] == "singleconnect_required"


def test_nobody_signed_in_gets_drfs_not_authenticated(client: Client) -> None:
    response = client.get("/drf/verified/", **JSON)
    assert response.status_code in (401, 403)
    assert body(response) == {"detail": "Authentication credentials were not provided."}


def test_a_verified_session_of_another_user_does_not_hold(user: User) -> None:
    mallory = User.objects.create_user("mallory", password=PASSWORD)
    client = Client()
    verify_session(client, user)  # alice's verified session cookie ...
    request = APIRequestFactory().get("/drf/verified/")
    request.session = client.session  # type: ignore[attr-defined]
    force_authenticate(request, user=mallory)  # ... on a request DRF authenticates as mallory
    drf_request = Request(request)
    drf_request.user = mallory
    assert IsSingleConnectVerified().has_permission(drf_request, None) is False
    drf_request.user = user
    assert IsSingleConnectVerified().has_permission(drf_request, None) is True


# -- JSON instead of an HTML redirect ---------------------------------------------------------


@pytest.mark.parametrize("path", ["/drf/decorated/", "/mixin/"])
def test_the_decorator_and_the_mixin_answer_json_to_json(signed_in: Client, path: str) -> None:
    response = signed_in.get(path, **JSON)
    assert response.status_code == 403
    assert body(response)["code"] == "singleconnect_required"
    assert body(response)["verify_url"] == "/2fa/verify/?next=" + path.replace("/", "%2F")


@pytest.mark.parametrize(
    "accept",
    [
        "*/*",  # curl
        "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",  # a browser
        "text/html, application/json;q=0.9",
    ],
)
def test_html_or_anything_still_gets_the_redirect(signed_in: Client, accept: str) -> None:
    response = signed_in.get("/drf/decorated/", HTTP_ACCEPT=accept)
    assert response.status_code == 302
    assert response["Location"] == "/2fa/verify/?next=%2Fdrf%2Fdecorated%2F"


def test_anonymous_json_clients_get_a_403_with_the_login_url(client: Client) -> None:
    response = client.get("/drf/decorated/", HTTP_ACCEPT="application/json, text/plain, */*")
    assert response.status_code == 403
    assert body(response) == {
        "detail": "Sign in first.",
        "code": "not_authenticated",
        "login_url": "/accounts/login/",
    }


def test_the_middleware_answers_json_to_json(signed_in: Client, settings: Any) -> None:
    settings.SINGLECONNECT_ENFORCE = "all"
    response = signed_in.get("/open/", **JSON)
    assert response.status_code == 403
    assert body(response)["verify_url"] == "/2fa/verify/?next=%2Fopen%2F"
    admin = signed_in.get("/admin/", **JSON)
    assert (admin.status_code, body(admin)["code"]) == (403, "singleconnect_required")


# -- ENFORCE = "all": header credentials and token endpoints ----------------------------------


@pytest.fixture
def enforce_all(settings: Any) -> None:
    settings.SINGLECONNECT_ENFORCE = "all"


@pytest.mark.parametrize("kind", CREDENTIALS)
def test_under_all_header_credentials_reach_no_view_that_is_not_exempt(
    enforce_all: None, user: User, client: Client, kind: str
) -> None:
    response = client.get("/drf/open/", **CREDENTIALS[kind](user))
    assert response.status_code == 403
    assert body(response)["code"] == "singleconnect_header_credentials"


@pytest.mark.parametrize("kind", CREDENTIALS)
def test_under_all_exempt_views_take_header_credentials(
    enforce_all: None, user: User, client: Client, settings: Any, kind: str
) -> None:
    settings.SINGLECONNECT_EXEMPT_URLS = ["/drf/open"]
    response = client.get("/drf/open/", **CREDENTIALS[kind](user))
    assert (response.status_code, body(response)) == (200, {"user": "alice"})


def test_under_all_a_verified_session_may_send_a_header_too(
    enforce_all: None, verified: Client, user: User
) -> None:
    assert verified.get("/drf/open/", **token_header(user)).status_code == 200


def test_in_decorated_mode_views_without_protection_stay_open(user: User, client: Client) -> None:
    # What "decorated" means: only the views you protect. Say so in the README.
    assert client.get("/drf/open/", **token_header(user)).status_code == 200


TOKEN_ENDPOINTS = ["/drf/token/", "/drf/jwt/"]


@pytest.mark.parametrize("path", TOKEN_ENDPOINTS)
@pytest.mark.parametrize("as_json", [False, True])
def test_under_all_a_password_alone_gets_no_token(
    enforce_all: None, user: User, client: Client, signed_in: Client, path: str, as_json: bool
) -> None:
    credentials = {"username": "alice", "password": PASSWORD}
    for who in (Client(), signed_in):  # nobody signed in, then a password-only session
        if as_json:
            response = who.post(path, json.dumps(credentials), content_type="application/json")
        else:
            response = who.post(path, credentials)
        assert response.status_code == 403
        assert body(response)["code"] == "singleconnect_token_refused"
    assert not Token.objects.exists()


@pytest.mark.parametrize("path", TOKEN_ENDPOINTS)
def test_under_all_a_verified_session_gets_a_token_for_its_own_user_only(
    enforce_all: None, verified: Client, path: str
) -> None:
    User.objects.create_user("bob", password=PASSWORD)
    other = verified.post(path, {"username": "bob", "password": PASSWORD})
    assert other.status_code == 403
    own = verified.post(path, {"username": "alice", "password": PASSWORD})
    assert own.status_code == 200
    assert {"token"} <= set(body(own)) or {"access", "refresh"} <= set(body(own))


def test_in_decorated_mode_token_endpoints_are_the_sites_own(user: User, client: Client) -> None:
    response = client.post("/drf/token/", {"username": "alice", "password": PASSWORD})
    assert response.status_code == 200
    # The token is no way past a protected view: it is no verified session.
    key = body(response)["token"]
    protected = client.get("/drf/verified/", HTTP_AUTHORIZATION=f"Token {key}")
    assert protected.status_code == 403


# -- the system check -------------------------------------------------------------------------


def test_a_warning_when_all_meets_classes_the_middleware_cannot_see(settings: Any) -> None:
    settings.SINGLECONNECT_ENFORCE = "all"
    (warning,) = check_authentication()  # DRF's default: session and Basic
    assert warning.id == "django_singleconnect.W060"
    assert "rest_framework.authentication.BasicAuthentication" in warning.msg
    assert "SessionAuthentication" not in warning.msg
    settings.REST_FRAMEWORK = {
        "DEFAULT_AUTHENTICATION_CLASSES": ["rest_framework.authentication.SessionAuthentication"]
    }
    assert check_authentication() == []


def test_no_warning_in_decorated_mode() -> None:
    assert check_authentication() == []
