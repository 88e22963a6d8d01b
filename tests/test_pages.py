"""What the pages say besides the flow itself: times with their zone, who is signing in."""

# Turkish spells with the dotless i (U+0131), which RUF001 takes for a look-alike of i.
# ruff: noqa: RUF001

from __future__ import annotations

import datetime as dt
import html
import re
from collections.abc import Iterator
from typing import Any

import pytest
from django.template.loader import render_to_string
from django.test import Client
from django.utils import timezone, translation

from django_singleconnect import views

TRY_AGAIN = "django_singleconnect/_try_again.html"


@pytest.fixture(autouse=True)
def _english() -> Iterator[None]:
    """English unless a test asks: LocaleMiddleware leaves a request's language active."""
    with translation.override("en"):
        yield


def try_again(until: dt.datetime, minutes: int) -> str:
    text = render_to_string(TRY_AGAIN, {"until": until, "minutes": minutes})
    return " ".join(html.unescape(text).split())


@pytest.fixture
def now() -> dt.datetime:
    """Half past nine, UTC, today."""
    return timezone.now().replace(hour=9, minute=30, second=0, microsecond=0)


def test_the_time_is_relative_and_absolute_with_its_zone(now: dt.datetime) -> None:
    until = now + dt.timedelta(minutes=14)
    assert try_again(until, 14) == "Try again in 14 minutes, after 09:44 UTC."
    assert try_again(now + dt.timedelta(seconds=40), 1) == "Try again in 1 minute, after 09:30 UTC."


def test_in_the_sites_time_zone(now: dt.datetime) -> None:
    with timezone.override("Europe/Istanbul"):
        assert try_again(now + dt.timedelta(minutes=14), 14) == (
            "Try again in 14 minutes, after 12:44 +03."
        )
    with timezone.override("America/New_York"):
        assert try_again(now + dt.timedelta(minutes=14), 14).endswith(
            ("after 04:44 EST.", "after 05:44 EDT.")
        )


def test_hours_for_a_long_wait_and_the_date_for_another_day(now: dt.datetime) -> None:
    until = now + dt.timedelta(hours=2)
    assert try_again(until, 120) == "Try again in about 2 hours, after 11:30 UTC."
    tomorrow = now + dt.timedelta(days=1)
    expected = f"Try again in about 24 hours, after {tomorrow.day} {tomorrow:%B}, 09:30 UTC."
    assert try_again(tomorrow, 1440) == expected


def test_in_turkish(now: dt.datetime) -> None:
    with translation.override("tr"):
        assert try_again(now + dt.timedelta(minutes=14), 14) == (
            "14 dakika sonra (09:44 UTC itibarıyla) tekrar deneyin."
        )
        assert try_again(now + dt.timedelta(hours=3), 180) == (
            "Yaklaşık 3 saat sonra (12:30 UTC itibarıyla) tekrar deneyin."
        )


# -- who is signing in ----------------------------------------------------------------------------


VERIFY = "/2fa/verify/"


def account_line(response: Any) -> str:
    (form,) = re.findall(r'<form class="account"[^>]*>.*?</form>', response.content.decode())
    return form


@pytest.mark.django_db
def test_the_code_page_says_who_is_signing_in(signed_in: Client) -> None:
    form = account_line(signed_in.get(VERIFY))
    assert "Signed in as alice." in form
    assert "Not you?" in form
    # Signing out is a POST with the CSRF token, as everywhere.
    assert 'method="post" action="/2fa/logout/"' in form
    assert 'name="csrfmiddlewaretoken"' in form
    assert '<button type="submit" class="secondary">Sign out</button>' in form


@pytest.mark.django_db
def test_the_full_name_when_there_is_one(signed_in: Client, user: Any) -> None:
    user.first_name, user.last_name = "Alice", "<Smith>"
    user.save()
    form = account_line(signed_in.get(VERIFY))
    assert "Signed in as Alice &lt;Smith&gt;." in form


@pytest.mark.django_db
def test_in_turkish_too(signed_in: Client) -> None:
    form = account_line(signed_in.get(VERIFY, headers={"accept-language": "tr"}))
    assert "alice olarak oturum açtınız." in form
    assert "Siz değil misiniz?" in form
    assert "Oturumu kapat" in form


@pytest.mark.django_db
def test_sign_out_from_the_code_page(signed_in: Client) -> None:
    signed_in.get(VERIFY)
    response = signed_in.post("/2fa/logout/")
    assert response.status_code == 302
    assert signed_in.get(VERIFY)["Location"].startswith("/accounts/login/")


@pytest.mark.django_db
def test_the_buttons_carry_their_busy_labels(signed_in: Client) -> None:
    # What singleconnect.js shows on a button once its form is sent.
    html = signed_in.get(VERIFY).content.decode()
    assert '<button type="submit" data-busy-label="Checking…">Verify</button>' in html
    assert 'data-busy-label="Sending…"' in html
    html = signed_in.get(VERIFY, headers={"accept-language": "tr"}).content.decode()
    assert 'data-busy-label="Doğrulanıyor…"' in html
    assert 'data-busy-label="Gönderiliyor…"' in html


def test_a_user_model_without_full_names() -> None:
    class Member:
        """A custom user model on AbstractBaseUser: no get_full_name."""

        def get_username(self) -> str:
            return "m.yilmaz"

    class Blank(Member):
        def get_full_name(self) -> str:
            return "  "

    assert views._display_name(Member()) == "m.yilmaz"
    assert views._display_name(Blank()) == "m.yilmaz"
