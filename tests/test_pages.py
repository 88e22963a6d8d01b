"""What the pages say besides the flow itself: times with their zone, who is signing in."""

# Turkish spells with the dotless i (U+0131), which RUF001 takes for a look-alike of i.
# ruff: noqa: RUF001

from __future__ import annotations

import datetime as dt
import html

import pytest
from django.template.loader import render_to_string
from django.utils import timezone, translation

TRY_AGAIN = "django_singleconnect/_try_again.html"


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
