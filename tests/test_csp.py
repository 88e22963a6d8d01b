"""
Strict Content Security Policy: no template of the package holds inline style, inline script
or an event attribute, and every page links the stylesheet, a static file of the package.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from django.contrib.staticfiles import finders
from django.template import Context, Template
from django.template.loader import render_to_string
from django.test import Client, RequestFactory
from django.utils import timezone

import django_singleconnect
from django_singleconnect.forms import TokenForm

# From the package, not the source tree: the suite also runs against the installed wheel.
PACKAGE = Path(django_singleconnect.__file__).parent
TEMPLATES = PACKAGE / "templates"
STYLESHEET = "django_singleconnect/singleconnect.css"
LINK = f'<link rel="stylesheet" href="/static/{STYLESHEET}">'
SCRIPT = "django_singleconnect/singleconnect.js"
SCRIPT_TAG = f'<script src="/static/{SCRIPT}" defer></script>'

# What `default-src 'self'` refuses: inline style and script, and script in attributes or URLs.
INLINE = {
    "a <style> element": re.compile(r"<style\b", re.IGNORECASE),
    "a <script> without src": re.compile(r"<script\b(?![^>]*\ssrc=)[^>]*>", re.IGNORECASE),
    "a style attribute": re.compile(r"\sstyle\s*=", re.IGNORECASE),
    "an event attribute": re.compile(r"\son[a-z]+\s*=", re.IGNORECASE),
    "a javascript: URL": re.compile(r"javascript:", re.IGNORECASE),
}

NAMES = sorted(path.relative_to(TEMPLATES).as_posix() for path in TEMPLATES.rglob("*.html"))


def contexts() -> list[dict[str, Any]]:
    """Enough for every page, and each branch of the code page."""
    now = timezone.now()
    common = {
        "next_url": "/",
        "login_url": "/accounts/login/?next=/",
        "retry_url": "/2fa/verify/?next=/",
        "locked_until": now,
        "available_at": now,
        "minutes": 3,
        "digits": 6,
    }
    wrong = TokenForm({"token": "12"})
    wrong.is_valid()
    return [
        {**common, "form": TokenForm(), "notice": "", "resend_in": 0, "can_resend": True},
        *(
            {
                **common,
                "form": wrong,
                "notice": notice,
                "resend_in": 30,
                "resend_clock": "0:30",
                "can_resend": notice != "too_many",
                "codes_sent": 2,
                "signed_in_as": "alice",
            }
            for notice in ("resent", "cooldown", "too_many", "")
        ),
    ]


def inline_code(html: str) -> list[str]:
    return [
        f"{what}: {match.group()!r}" for what, rx in INLINE.items() for match in rx.finditer(html)
    ]


def test_every_template_is_covered() -> None:
    assert "django_singleconnect/base.html" in NAMES
    assert "django_singleconnect/verify.html" in NAMES


@pytest.mark.parametrize("name", NAMES)
def test_no_inline_code_in_the_source(name: str) -> None:
    # The source too: a branch no context below takes must not hide inline code.
    assert inline_code((TEMPLATES / name).read_text(encoding="utf-8")) == []


@pytest.mark.parametrize("name", NAMES)
def test_no_inline_code_on_the_page(name: str, rf: RequestFactory) -> None:
    request = rf.get("/2fa/verify/")
    for context in contexts():
        html = render_to_string(name, context, request=request)
        assert inline_code(html) == [], context
        source = (TEMPLATES / name).read_text(encoding="utf-8")
        if (
            name.endswith("/base.html")
            or '{% extends "django_singleconnect/base.html" %}' in source
        ):
            assert LINK in html
            assert SCRIPT_TAG in html


def test_the_stylesheet_is_a_static_file_of_the_package() -> None:
    found = finders.find(STYLESHEET)
    assert found is not None
    assert Path(str(found)).resolve() == (PACKAGE / "static" / STYLESHEET).resolve()
    assert "max-width: 26rem" in Path(str(found)).read_text(encoding="utf-8")


def test_the_script_is_a_static_file_of_the_package() -> None:
    found = finders.find(SCRIPT)
    assert found is not None
    assert Path(str(found)).resolve() == (PACKAGE / "static" / SCRIPT).resolve()
    source = Path(str(found)).read_text(encoding="utf-8")
    # What a strict policy refuses besides inline code (script-src without 'unsafe-eval'),
    # and HTML written from strings.
    for refused in ("eval(", "new Function", "innerHTML", "outerHTML", "document.write"):
        assert refused not in source
    assert "setTimeout(tick, 250)" in source  # a function, never a string, to setTimeout


def test_a_site_can_replace_the_stylesheet() -> None:
    template = Template(
        '{% extends "django_singleconnect/base.html" %}'
        '{% block style %}<link rel="stylesheet" href="/static/site.css">{% endblock %}'
    )
    html = template.render(Context())
    assert '<link rel="stylesheet" href="/static/site.css">' in html
    assert STYLESHEET not in html


def test_the_code_page_from_its_view(signed_in: Client) -> None:
    response = signed_in.get("/2fa/verify/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "<form" in html
    assert LINK in html
    assert inline_code(html) == []
