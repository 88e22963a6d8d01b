"""The catalogues (Turkish, Arabic, German, Spanish, French, Russian): complete, compiled, and
what a browser that asks for each language is shown."""

# Turkish spells with the dotless i (U+0131), Russian with Cyrillic letters, which RUF001
# takes for look-alikes of Latin ones.
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

import django
import pytest
from django.utils import translation
from django.utils.translation import ngettext

import django_singleconnect

# From the package, not the source tree: the suite also runs against the installed wheel.
LOCALE = Path(django_singleconnect.__file__).parent / "locale"
LANGUAGES = ["tr", "ar", "de", "es", "fr", "ru"]
NAMES = {
    "tr": "Turkish",
    "ar": "Arabic",
    "de": "German",
    "es": "Spanish",
    "fr": "French",
    "ru": "Russian",
}
LC_MESSAGES = LOCALE / "tr" / "LC_MESSAGES"
PO = LC_MESSAGES / "django.po"

VERIFY = "/2fa/verify/"
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")


def po_of(language: str) -> Path:
    return LOCALE / language / "LC_MESSAGES" / "django.po"


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


def header_fields(path: Path) -> dict[str, str]:
    (header,) = [entry for entry in read_po(path) if entry["msgid"] == ""]
    assert "fuzzy" not in header["flags"], path
    return dict(line.split(": ", 1) for line in header["msgstr"].splitlines() if ": " in line)


def plural_rule(path: Path) -> tuple[int, Any]:
    """How many plural forms the catalogue has, and its rule as a function of n."""
    plural_forms = header_fields(path)["Plural-Forms"]
    nplurals = int(re.search(r"nplurals=(\d+)", plural_forms).group(1))  # type: ignore[union-attr]
    rule = re.search(r"plural=([^;]+)", plural_forms).group(1)  # type: ignore[union-attr]
    return nplurals, gettext.c2py(rule)


def single_number_forms(path: Path) -> set[int]:
    """The forms the rule picks for one number alone (Arabic's zero, one and two)."""
    _, rule = plural_rule(path)
    picked = [rule(n) for n in range(1000)]
    return {form for form in set(picked) if picked.count(form) == 1}


by_language = pytest.mark.parametrize("language", LANGUAGES)


@by_language
def test_the_catalogue_header(language):
    fields = header_fields(po_of(language))
    assert fields["Language"] == language
    assert fields["Language-Team"] == NAMES[language]
    assert fields["Content-Type"] == "text/plain; charset=UTF-8"
    assert fields["Last-Translator"] == "django-singleconnect maintainers"
    # The rule of Django's own catalogue of the language when it was written (Russian: four
    # forms, the last for fractions; Spanish: three, one for whole millions). Django's
    # rules change between releases (6.0's Spanish has two forms) and Django keeps a
    # catalogue of another rule apart, so what must agree is which numbers are singular.
    django_po = Path(django.__file__).parent / "conf" / "locale" / language / "LC_MESSAGES"
    ours = gettext.c2py(fields["Plural-Forms"].split("plural=", 1)[1].rstrip(";"))
    theirs_rule = header_fields(django_po / "django.po")["Plural-Forms"]
    theirs = gettext.c2py(theirs_rule.split("plural=", 1)[1].rstrip(";"))
    for n in (*range(1001), 10**6, 2 * 10**6 + 1):
        assert (ours(n) == 0) == (theirs(n) == 0), (language, n)


def test_the_plural_rules_have_the_forms_of_each_language():
    forms = {language: plural_rule(po_of(language))[0] for language in LANGUAGES}
    assert forms == {"tr": 2, "ar": 6, "de": 2, "es": 3, "fr": 2, "ru": 4}


@by_language
def test_every_entry_is_translated_and_not_fuzzy(language):
    path = po_of(language)
    nplurals, _ = plural_rule(path)
    entries = [entry for entry in read_po(path) if entry["msgid"]]
    assert entries
    for entry in entries:
        assert "fuzzy" not in entry["flags"], (language, entry["msgid"])
        if "msgid_plural" in entry:
            wanted = {f"msgstr[{n}]" for n in range(nplurals)}
            assert {key for key in entry if key.startswith("msgstr")} == wanted, (
                language,
                entry["msgid"],
            )
        else:
            assert "msgstr" in entry, (language, entry["msgid"])
        assert all(translations(entry)), (language, entry["msgid"])


@by_language
def test_translations_keep_the_placeholders(language):
    path = po_of(language)
    single = single_number_forms(path)
    for entry in read_po(path):
        expected = sorted(PLACEHOLDER.findall(entry["msgid"]))
        assert sorted(PLACEHOLDER.findall(entry.get("msgid_plural", entry["msgid"]))) == expected
        for key, translation_ in entry.items():
            if not key.startswith("msgstr"):
                continue
            found = sorted(PLACEHOLDER.findall(translation_))
            if found == expected:
                continue
            # A form for one number alone may name it in words instead ("محاولتان", two
            # attempts): it leaves out one placeholder, nothing else.
            form = int(key[7:-1]) if key != "msgstr" else None
            missing = [name for name in expected if name not in found]
            where = (language, entry["msgid"], key, translation_)
            assert form in single, where
            assert len(missing) == 1, where
            assert set(found) <= set(expected), where


def test_the_forms_for_one_number_alone():
    # Where a form stands for 1 only (German, Spanish) or 0, 1 and 2 (Arabic) it may say the
    # number in words; Turkish and French share their first form between 0 and 1.
    assert {language: single_number_forms(po_of(language)) for language in LANGUAGES} == {
        "tr": set(),
        "ar": {0, 1, 2},
        "de": {0},
        "es": {0},
        "fr": set(),
        "ru": set(),
    }


@by_language
def test_the_compiled_catalogue_is_there(language):
    assert po_of(language).with_suffix(".mo").is_file()


@by_language
def test_the_compiled_catalogue_matches_the_po(language, tmp_path):
    msgfmt = shutil.which("msgfmt")
    if msgfmt is None:
        pytest.skip("GNU gettext's msgfmt is not installed")
    po = po_of(language)
    fresh = tmp_path / "django.mo"
    subprocess.run([msgfmt, "--check-format", "-o", str(fresh), str(po)], check=True)
    with po.with_suffix(".mo").open("rb") as shipped, fresh.open("rb") as compiled:
        shipped_catalog = gettext.GNUTranslations(shipped)._catalog  # type: ignore[attr-defined]
        compiled_catalog = gettext.GNUTranslations(compiled)._catalog  # type: ignore[attr-defined]
    assert shipped_catalog == compiled_catalog, f"{language}: django.mo is stale"


WRONG_CODE = (
    "That code is incorrect. %(count)d attempt left.",
    "That code is incorrect. %(count)d attempts left.",
)


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        (
            "ar",
            {
                0: "هذا الرمز غير صحيح. تبقّت لديك 0 محاولة.",
                1: "هذا الرمز غير صحيح. تبقّت لديك محاولة واحدة.",
                2: "هذا الرمز غير صحيح. تبقّت لديك محاولتان.",
                3: "هذا الرمز غير صحيح. تبقّت لديك 3 محاولات.",
                10: "هذا الرمز غير صحيح. تبقّت لديك 10 محاولات.",
                11: "هذا الرمز غير صحيح. تبقّت لديك 11 محاولةً.",
                100: "هذا الرمز غير صحيح. تبقّت لديك 100 محاولة.",
            },
        ),
        (
            "ru",
            {
                1: "Неверный код. Осталась 1 попытка.",
                2: "Неверный код. Осталось 2 попытки.",
                5: "Неверный код. Осталось 5 попыток.",
                11: "Неверный код. Осталось 11 попыток.",
                21: "Неверный код. Осталась 21 попытка.",
                22: "Неверный код. Осталось 22 попытки.",
            },
        ),
        (
            "fr",
            {
                0: "Ce code est erroné. Il vous reste 0 tentative.",
                2: "Ce code est erroné. Il vous reste 2 tentatives.",
            },
        ),
        (
            "de",
            {
                1: "Dieser Code ist falsch. Sie haben noch 1 Versuch.",
                0: "Dieser Code ist falsch. Sie haben noch 0 Versuche.",
            },
        ),
        (
            "es",
            {
                1: "Ese código es incorrecto. Le queda 1 intento.",
                3: "Ese código es incorrecto. Le quedan 3 intentos.",
            },
        ),
    ],
)
def test_each_count_takes_its_plural_form(language, expected):
    with translation.override(language):
        said = {n: ngettext(*WRONG_CODE, n) % {"count": n} for n in expected}
    assert said == expected


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
    # A 500 answer: the check may have reached Single Connect, so it counts.
    assert "yazdığınız kod doğrulanamadı. Kod Single Connect'e ulaşmış olabileceğinden" in text
    assert "could not be checked" not in text


@pytest.mark.django_db
def test_without_accept_language_the_pages_stay_english(signed_in, simulator):
    text = page(signed_in.get(VERIFY))
    assert '<html lang="en" dir="ltr">' in text
    assert "Enter your sign-in code" in text


@pytest.fixture(scope="module")
def source_messages(tmp_path_factory: pytest.TempPathFactory) -> set[str]:
    """Every msgid of the code and the templates, as makemessages extracts them now."""
    if shutil.which("xgettext") is None:
        pytest.skip("needs GNU gettext's xgettext")
    package = Path(django_singleconnect.__file__).parent
    copy = tmp_path_factory.mktemp("source") / "django_singleconnect"
    shutil.copytree(package, copy, ignore=shutil.ignore_patterns("__pycache__", "locale"))
    (copy / "locale").mkdir()
    subprocess.run(
        [sys.executable, "-m", "django", "makemessages", "-l", "en", "--no-obsolete"],
        cwd=copy,
        env={k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"},
        check=True,
        capture_output=True,
    )
    entries = read_po(copy / "locale/en/LC_MESSAGES/django.po")
    return {entry["msgid"] for entry in entries if entry["msgid"]}


@by_language
def test_every_message_of_the_source_is_in_the_catalogue(language, source_messages):
    """A new string in the code or a template without its entry in a .po fails here."""
    assert source_messages
    catalogued = {entry["msgid"] for entry in read_po(po_of(language))}
    assert source_messages - catalogued == set(), f"{NAMES[language]}: run makemessages"


# -- every language on the code page ------------------------------------------------------------

# What the code page says, as a person who reads the language expects it (not read from the
# catalogue, so that a message moved to the wrong entry fails too).
CODE_PAGE = {
    "tr": (
        "Doğrulama kodu",
        "Doğrulama kodunuzu girin",
        "Doğrula",
        "Yeni kod gönder",
        "Oturumu kapat",
    ),
    "ar": ("رمز تسجيل الدخول", "أدخل رمز تسجيل الدخول", "تحقّق", "إرسال رمز جديد", "تسجيل الخروج"),
    "de": (
        "Anmeldecode",
        "Geben Sie Ihren Anmeldecode ein",
        "Bestätigen",
        "Neuen Code senden",
        "Abmelden",
    ),
    "es": (
        "Código de acceso",
        "Introduzca su código de acceso",
        "Verificar",
        "Enviar un nuevo código",
        "Cerrar sesión",
    ),
    "fr": (
        "Code de connexion",
        "Saisissez votre code de connexion",
        "Vérifier",
        "Envoyer un nouveau code",
        "Se déconnecter",
    ),
    "ru": ("Код для входа", "Введите код для входа", "Подтвердить", "Отправить новый код", "Выйти"),
}
WRONG_CODE_PAGE = {
    "tr": ("Kod hatalı. 2 deneme hakkınız kaldı.", "Kod hatalı. 1 deneme hakkınız kaldı."),
    "ar": (
        "هذا الرمز غير صحيح. تبقّت لديك محاولتان.",
        "هذا الرمز غير صحيح. تبقّت لديك محاولة واحدة.",
    ),
    "de": (
        "Dieser Code ist falsch. Sie haben noch 2 Versuche.",
        "Dieser Code ist falsch. Sie haben noch 1 Versuch.",
    ),
    "es": (
        "Ese código es incorrecto. Le quedan 2 intentos.",
        "Ese código es incorrecto. Le queda 1 intento.",
    ),
    "fr": (
        "Ce code est erroné. Il vous reste 2 tentatives.",
        "Ce code est erroné. Il vous reste 1 tentative.",
    ),
    "ru": ("Неверный код. Осталось 2 попытки.", "Неверный код. Осталась 1 попытка."),
}


@by_language
@pytest.mark.django_db
def test_the_code_page_in_each_language(language, signed_in, simulator):
    title, heading, verify, resend, sign_out = CODE_PAGE[language]
    response = signed_in.get(VERIFY, HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 200
    text = page(response)
    direction = "rtl" if language == "ar" else "ltr"
    assert f'<html lang="{language}" dir="{direction}">' in text
    assert f"<title>{title}</title>" in text
    assert f"<h1>{heading}</h1>" in text
    assert f">{verify}</button>" in text
    assert f">{resend}</button>" in text
    assert f">{sign_out}</button>" in text
    for english in ("Enter your sign-in code", ">Verify<", "Send a new code", "Sign out"):
        assert english not in text, (language, english)


@by_language
@pytest.mark.django_db
def test_a_wrong_code_is_refused_in_each_language(language, signed_in, simulator, settings):
    settings.SINGLECONNECT_MAX_ATTEMPTS = 3
    signed_in.defaults["HTTP_ACCEPT_LANGUAGE"] = language
    signed_in.get(VERIFY)
    for said in WRONG_CODE_PAGE[language]:
        response = signed_in.post(VERIFY, {"token": wrong_code(simulator)})
        assert response.status_code == 200
        assert said in page(response), language
        assert "That code is incorrect" not in page(response)


# -- no language left behind ----------------------------------------------------------------------
# These two run in this order: LocaleMiddleware leaves the last request's language active in
# the thread, and conftest's fixture puts it back, or every later test would speak Russian.


@pytest.mark.django_db
def test_a_russian_request_activates_russian(signed_in, simulator):
    signed_in.get(VERIFY, HTTP_ACCEPT_LANGUAGE="ru")
    assert translation.get_language() == "ru"


def test_the_next_test_starts_in_the_default_language():
    assert translation.get_language() == "en"


ADMIN_INDEX = {
    "tr": ("Başarısız kod denemeleri", "Doğrulama olayları"),
    "ar": ("محاولات الرمز الفاشلة", "أحداث التحقق"),
    "de": ("Fehlgeschlagene Code-Eingaben", "Verifizierungsereignisse"),
    "es": ("Intentos de código fallidos", "Eventos de verificación"),
    "fr": ("Tentatives de code échouées", "Événements de vérification"),
    "ru": ("Неудачные попытки ввода кода", "События проверки"),
}


@by_language
@pytest.mark.django_db
def test_the_admin_labels_in_each_language(language, client, staff, login, pass_code):
    login(client, "root")
    pass_code(client, "root")
    response = client.get("/admin/", HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 200
    text = page(response)
    for label in ADMIN_INDEX[language]:
        assert f">{label}</a>" in text, (language, label)
    assert "Failed code attempts" not in text
