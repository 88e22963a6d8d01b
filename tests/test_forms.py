"""The code form."""

from __future__ import annotations

import re

import pytest

from django_singleconnect.forms import TokenForm, token_pattern


@pytest.mark.parametrize(
    ("digits", "typed", "cleaned"),
    [
        (6, "123456", "123456"),
        (6, "000000", "000000"),
        (6, " 123456\n", "123456"),
        (4, "0042", "0042"),
        (8, "12345678", "12345678"),
        # Pasted from a text message, grouped for reading.
        (6, "385 189", "385189"),
        (6, "385-189", "385189"),
        (6, " 385 - 189 ", "385189"),
        (6, "38 51 89", "385189"),
        (6, "385\u00a0189", "385189"),  # a no-break space
        (6, "385\u2013189", "385189"),  # an en dash
        (6, "385\u2011189", "385189"),  # a non-breaking hyphen
        (8, "1234 5678", "12345678"),
    ],
)
def test_exactly_the_digits(digits, typed, cleaned):
    form = TokenForm({"token": typed}, digits=digits)
    assert form.is_valid(), form.errors
    assert form.cleaned_data["token"] == cleaned


@pytest.mark.parametrize(
    "typed",
    [
        "12345",
        "1234567",
        "12a456",
        "12 456",
        "12-456",
        "385 1890",
        "+12345",
        "-123456",
        "123456-",
        "123_456",
        "123.456",
        "123/456",
        "\uff11\uff12\uff13 \uff14\uff15\uff16",
        "\uff11\uff12\uff13\uff14\uff15\uff16",  # fullwidth
        "\u0661\u0662\u0663\u0664\u0665\u0666",  # Arabic-Indic
        "\u06f1\u06f2\u06f3\u06f4\u06f5\u06f6",  # extended Arabic-Indic
        "\u0967\u0968\u0969\u096a\u096b\u096c",  # Devanagari
        "12345\u0666",
        "\u00b9\u00b2\u00b3\u2074\u2075\u2076",
    ],
)
def test_anything_else_is_refused(typed):
    form = TokenForm({"token": typed})
    assert not form.is_valid()
    assert form.errors["token"] == ["Enter the 6-digit code."]
    assert form.has_error("token", code="format")


def test_a_null_character_is_refused():
    assert not TokenForm({"token": "123456\x00"}).is_valid()


@pytest.mark.parametrize("typed", ["", "   "])
def test_a_code_is_required(typed):
    form = TokenForm({"token": typed})
    assert form.errors["token"] == ["This field is required."]


def test_the_field_helps_phones_and_password_managers():
    html = str(TokenForm(digits=8)["token"])
    assert 'autocomplete="one-time-code"' in html
    assert 'inputmode="numeric"' in html
    assert f'pattern="{token_pattern(8)}"' in html
    # A code pasted as "1234 5678" or "1234 - 5678" is not cut short.
    assert 'maxlength="18"' in html
    assert 'spellcheck="false"' in html
    assert "autofocus" in html


@pytest.mark.parametrize("typed", ["123456", "12a456"])
def test_the_typed_code_is_never_written_back(typed):
    form = TokenForm({"token": typed})
    form.is_valid()
    assert typed not in str(form["token"])
    assert "value=" not in str(form["token"])


@pytest.mark.parametrize(
    ("digits", "typed", "matches"),
    [
        (6, "385189", True),
        (6, "385 189", True),
        (6, "385-189", True),
        (6, "3-8-5-1-8-9", True),
        (6, "38518", False),
        (6, "3851890", False),
        (6, "385 18", False),
        (6, "-385189", False),
        (6, "385189-", False),
        (6, "38a189", False),
        (4, "00 42", True),
    ],
)
def test_the_pattern_says_what_the_form_takes(digits, typed, matches):
    # What Chromium checks the input against (tests/e2e checks it compiles there, v flag).
    assert bool(re.fullmatch(token_pattern(digits), typed)) is matches
    assert TokenForm({"token": typed}, digits=digits).is_valid() is matches
