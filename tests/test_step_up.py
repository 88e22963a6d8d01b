"""
Step-up: views that need a code typed recently (``max_age``), and
``SINGLECONNECT_VERIFIED_MAX_AGE`` for every protected view.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from django.test import AsyncClient, Client

from django_singleconnect.models import VerificationEvent
from django_singleconnect.state import VERIFIED_KEY
from tests.conftest import Clock

pytestmark = pytest.mark.django_db

FRESH_PAGES = [
    ("/fresh/", b"fresh page"),
    ("/async-fresh/", b"async fresh page"),
    ("/fresh-mixin/", b"fresh mixin page"),
]


def step_up_url(path: str) -> str:
    return "/2fa/verify/?next=" + path.replace("/", "%2F") + "&max_age=300"


@pytest.mark.parametrize(("path", "content"), FRESH_PAGES)
def test_a_code_typed_within_the_age_opens_the_view(
    clock: Clock, verified: Client, path: str, content: bytes
) -> None:
    clock.advance(299)
    assert verified.get(path).content == content


@pytest.mark.parametrize(("path", "content"), FRESH_PAGES)
def test_an_older_code_goes_through_the_code_page_again_and_back(
    clock: Clock, verified: Client, simulator: Any, path: str, content: bytes
) -> None:
    clock.advance(301)
    response = verified.get(path)
    assert response.status_code == 302
    assert response["Location"] == step_up_url(path)
    calls = simulator.call_count("otpstatus")
    page = verified.get(response["Location"])
    assert page.status_code == 200
    text = page.content.decode()
    assert "Confirm it is you" in text  # the heading says why
    assert '<input type="hidden" name="max_age" value="300">' in text
    assert simulator.call_count("otpstatus") == calls + 1  # a fresh code was sent
    # Not signed out, nor unverified, meanwhile: the other protected views stay open.
    assert verified.get("/").content == b"protected page"
    answer = verified.post(
        "/2fa/verify/",
        {"token": simulator.current_code("alice"), "next": path, "max_age": "300"},
    )
    assert answer["Location"] == path
    assert verified.get(path).content == content
    events = list(VerificationEvent.objects.values_list("event", flat=True).order_by("pk"))
    assert events[-3:] == ["step_up", "challenge_sent", "verified"]


def test_a_resend_during_a_step_up_keeps_it(clock: Clock, verified: Client, simulator: Any) -> None:
    clock.advance(301)
    verified.get(step_up_url("/fresh/"))
    clock.advance(61)  # past the resend cooldown
    response = verified.post("/2fa/resend/", {"next": "/fresh/", "max_age": "300"})
    assert response["Location"] == step_up_url("/fresh/")


def test_an_abandoned_step_up_never_signs_the_user_out(
    clock: Clock, verified: Client, simulator: Any, settings: Any
) -> None:
    clock.advance(301)
    verified.get(step_up_url("/fresh/"))
    clock.advance(601)  # SINGLECONNECT_PENDING_TIMEOUT's default, and one more
    page = verified.get(step_up_url("/fresh/"))
    assert page.status_code == 200
    assert "Confirm it is you" in page.content.decode()
    assert VERIFIED_KEY in verified.session


def test_max_age_in_the_query_string_cannot_unverify_anybody(verified: Client) -> None:
    # Anyone may link to the code page with a max_age: a fresh session just goes on.
    response = verified.get("/2fa/verify/?next=/&max_age=300")
    assert response["Location"] == "/"
    for odd in ("-1", "abc", "1e9", "99999999999"):
        assert verified.get(f"/2fa/verify/?next=/&max_age={odd}")["Location"] == "/"


def test_an_async_view_asks_for_a_fresh_code_too(clock: Clock, verified: Client) -> None:
    client = AsyncClient()
    client.cookies = verified.cookies

    async def visit() -> Any:
        return await client.get("/async-fresh/")

    assert async_to_sync(visit)().content == b"async fresh page"
    clock.advance(301)
    assert async_to_sync(visit)()["Location"] == step_up_url("/async-fresh/")


def test_the_drf_permission_takes_a_max_age(clock: Clock, verified: Client) -> None:
    assert verified.get("/drf/fresh/", HTTP_ACCEPT="application/json").status_code == 200
    clock.advance(301)
    response = verified.get("/drf/fresh/", HTTP_ACCEPT="application/json")
    assert response.status_code == 403
    assert json.loads(response.content)["verify_url"] == step_up_url("/drf/fresh/")


def test_a_json_client_gets_the_step_up_url(clock: Clock, verified: Client) -> None:
    clock.advance(301)
    response = verified.get("/fresh/", HTTP_ACCEPT="application/json")
    assert response.status_code == 403
    assert json.loads(response.content)["verify_url"] == step_up_url("/fresh/")


# -- SINGLECONNECT_VERIFIED_MAX_AGE ------------------------------------------------------------


def test_verified_max_age_asks_again_on_every_protected_view(
    clock: Clock, verified: Client, settings: Any, simulator: Any
) -> None:
    settings.SINGLECONNECT_VERIFIED_MAX_AGE = 3600
    clock.advance(3600)
    assert verified.get("/").content == b"protected page"
    clock.advance(1)
    response = verified.get("/")
    assert response["Location"] == "/2fa/verify/?next=%2F"  # the ordinary code page
    page = verified.get(response["Location"])
    assert "Enter your sign-in code" in page.content.decode()
    verified.post("/2fa/verify/", {"token": simulator.current_code("alice"), "next": "/"})
    assert verified.get("/").content == b"protected page"


def test_verified_max_age_covers_the_admin_too(
    clock: Clock, staff: Any, client: Client, login: Any, pass_code: Any, settings: Any
) -> None:
    settings.SINGLECONNECT_VERIFIED_MAX_AGE = 60
    login(client, "root")
    pass_code(client, "root", "/admin/")
    assert client.get("/admin/").status_code == 200
    clock.advance(61)
    assert client.get("/admin/")["Location"].startswith("/2fa/verify/")
