"""The Turkish catalogue: complete, compiled, and what a Turkish browser is shown."""

# Turkish spells with the dotless i (U+0131), which RUF001 takes for a look-alike of i.
# ruff: noqa: RUF001

from __future__ import annotations

import ast
import gettext
import html
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import django_singleconnect

# From the package, not the source tree: the suite also runs against the installed wheel.
LC_MESSAGES = Path(django_singleconnect.__file__).parent / "locale" / "tr" / "LC_MESSAGES"
PO = LC_MESSAGES / "django.po"
MO = LC_MESSAGES / "django.mo"

VERIFY = "/2fa/verify/"
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")


def read_po(path: Path) -> list[dict[str, Any]]:
    """The entries of a .po file: ``flags`` and each keyword (msgid, msgstr[0], ...) unquoted.

    The header is the entry whose msgid is empty. Obsolete (``#~``) entries are left out.
    """
    entries: list[dict[str, Any]] = []
    entry: dict[str, Any] = {"flags": set()}
    keyword = None

    def flush() -> None:
        nonlocal entry, keyword
        if "msgid" in entry:
            entries.append(entry)
        entry, keyword = {"flags": set()}, None

    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line:
            flush()
        elif line.startswith("#,"):
            if "msgid" in entry:
                flush()
            entry["flags"].update(flag.strip() for flag in line[2:].split(","))
        elif line.startswith("#"):
            continue
        elif line.startswith('"'):
            assert keyword is not None, line
            entry[keyword] += ast.literal_eval(line)
        else:
            keyword, _, quoted = line.partition(" ")
            if keyword == "msgid" and "msgid" in entry:
                flush()
                keyword = "msgid"
            entry[keyword] = ast.literal_eval(quoted)
    flush()
    return entries


def translations(entry: dict[str, Any]) -> list[str]:
    return [value for key, value in entry.items() if key.startswith("msgstr")]


def test_the_catalogue_header_says_turkish():
    (header,) = [entry for entry in read_po(PO) if entry["msgid"] == ""]
    assert "fuzzy" not in header["flags"]
    fields = dict(line.split(": ", 1) for line in header["msgstr"].splitlines() if ": " in line)
    assert fields["Language"] == "tr"
    assert fields["Content-Type"] == "text/plain; charset=UTF-8"
    # The same rule as Django's own Turkish catalogue, so that the two are merged.
    assert fields["Plural-Forms"] == "nplurals=2; plural=(n > 1);"
    assert fields["Last-Translator"] == "django-singleconnect maintainers"


def test_every_entry_is_translated_and_not_fuzzy():
    entries = [entry for entry in read_po(PO) if entry["msgid"]]
    assert entries
    for entry in entries:
        assert "fuzzy" not in entry["flags"], entry["msgid"]
        if "msgid_plural" in entry:
            assert {"msgstr[0]", "msgstr[1]"} <= entry.keys(), entry["msgid"]
        else:
            assert "msgstr" in entry, entry["msgid"]
        assert all(translations(entry)), entry["msgid"]


def test_translations_keep_the_placeholders():
    for entry in read_po(PO):
        expected = set(PLACEHOLDER.findall(entry["msgid"]))
        for translation in translations(entry):
            assert set(PLACEHOLDER.findall(translation)) == expected, entry["msgid"]


def test_the_compiled_catalogue_is_there():
    assert MO.is_file()


def test_the_compiled_catalogue_matches_the_po(tmp_path):
    msgfmt = shutil.which("msgfmt")
    if msgfmt is None:
        pytest.skip("GNU gettext's msgfmt is not installed")
    fresh = tmp_path / "django.mo"
    subprocess.run([msgfmt, "--check-format", "-o", str(fresh), str(PO)], check=True)
    with MO.open("rb") as shipped, fresh.open("rb") as compiled:
        shipped_catalog = gettext.GNUTranslations(shipped)._catalog  # type: ignore[attr-defined]
        compiled_catalog = gettext.GNUTranslations(compiled)._catalog  # type: ignore[attr-defined]
    assert shipped_catalog == compiled_catalog, "django.mo is stale: run compilemessages"


# -- what a Turkish browser sees ----------------------------------------------------------------


@pytest.fixture
def turkish(signed_in):
    """``signed_in``, with a browser that asks for Turkish."""
    signed_in.defaults["HTTP_ACCEPT_LANGUAGE"] = "tr"
    return signed_in


def page(response: Any) -> str:
    return html.unescape(response.content.decode())


def wrong_code(simulator: Any, username: str = "alice") -> str:
    code = simulator.current_code(username)
    return f"{(int(code) + 1) % 10**6:06d}"


@pytest.mark.django_db
def test_the_code_page_is_turkish(turkish, simulator):
    response = turkish.get(VERIFY)
    assert response.status_code == 200
    text = page(response)
    assert 'lang="tr"' in text
    assert "<title>Doğrulama kodu</title>" in text
    assert "Doğrulama kodunuzu girin" in text
    assert (
        "Single Connect, 6 haneli doğrulama kodunu size SMS, e-posta veya Kron uygulaması "
        "aracılığıyla gönderdi." in text
    )
    assert "Doğrula</button>" in text
    assert "Yeni kod gönder" in text
    assert "Oturumu kapat" in text
    assert "Enter your sign-in code" not in text


@pytest.mark.django_db
def test_a_wrong_code_is_refused_in_turkish(turkish, simulator, settings):
    settings.SINGLECONNECT_MAX_ATTEMPTS = 3
    turkish.get(VERIFY)
    response = turkish.post(VERIFY, {"token": wrong_code(simulator)})
    assert response.status_code == 200
    text = page(response)
    assert 'lang="tr"' in text
    assert "Kod hatalı. 2 deneme hakkınız kaldı." in text
    assert "That code is incorrect" not in text
    response = turkish.post(VERIFY, {"token": wrong_code(simulator)})
    assert "Kod hatalı. 1 deneme hakkınız kaldı." in page(response)


@pytest.mark.django_db
def test_a_malformed_code_is_refused_in_turkish(turkish, simulator):
    turkish.get(VERIFY)
    response = turkish.post(VERIFY, {"token": "12"})
    assert response.status_code == 200
    assert "6 haneli kodu girin." in page(response)


@pytest.mark.django_db
def test_the_unavailable_page_is_turkish(turkish, simulator):
    simulator.set_fault("error", endpoint="otpstatus")
    response = turkish.get(VERIFY)
    assert response.status_code == 503
    text = page(response)
    assert 'lang="tr"' in text
    assert "<title>Doğrulama kodu hizmetine şu anda ulaşılamıyor</title>" in text
    assert "size doğrulama kodu gönderilemedi." in text
    assert "Tekrar dene</button>" in text
    assert "Oturumu kapat" in text
    assert "Sign-in codes are unavailable" not in text


@pytest.mark.django_db
def test_a_code_that_cannot_be_checked_is_said_in_turkish(turkish, simulator):
    turkish.get(VERIFY)
    simulator.set_fault("error", endpoint="otpvalid")
    response = turkish.post(VERIFY, {"token": simulator.current_code("alice")})
    assert response.status_code == 503
    text = page(response)
    assert "girdiğiniz kod doğrulanamadı. Bu durum hatalı deneme olarak sayılmadı." in text
    assert "could not be checked" not in text


@pytest.mark.django_db
def test_without_accept_language_the_pages_stay_english(signed_in, simulator):
    text = page(signed_in.get(VERIFY))
    assert 'lang="en"' in text
    assert "Enter your sign-in code" in text


@pytest.mark.skipif(shutil.which("xgettext") is None, reason="needs GNU gettext's xgettext")
def test_every_message_of_the_source_is_in_the_catalogue(tmp_path):
    """A new string in the code or a template without its entry in the .po fails here."""
    package = Path(django_singleconnect.__file__).parent
    copy = tmp_path / "django_singleconnect"
    shutil.copytree(package, copy, ignore=shutil.ignore_patterns("__pycache__", "*.mo"))
    subprocess.run(
        [sys.executable, "-m", "django", "makemessages", "-l", "tr", "--no-obsolete"],
        cwd=copy,
        env={k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"},
        check=True,
        capture_output=True,
    )
    extracted = {entry["msgid"] for entry in read_po(copy / "locale/tr/LC_MESSAGES/django.po")}
    catalogued = {entry["msgid"] for entry in read_po(PO)}
    assert extracted - catalogued == set()
