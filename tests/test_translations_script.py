"""scripts/translations.py: what it lists, what it writes in, what it refuses."""

from __future__ import annotations

import gettext
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import ROOT

SCRIPT = ROOT / "scripts" / "translations.py"

pytestmark = [
    # The release matrix runs a copy of the suite without scripts/.
    pytest.mark.skipif(not SCRIPT.is_file(), reason="scripts/ is not in this copy of the suite"),
    pytest.mark.skipif(
        shutil.which("msgattrib") is None or shutil.which("msgfmt") is None,
        reason="needs GNU gettext's msgattrib and msgfmt",
    ),
]

# A catalogue as makemessages leaves it: a new header, an empty entry, an empty plural and a
# fuzzy entry (its msgid changed since it was translated).
NEW_CATALOGUE = r"""# SOME DESCRIPTIVE TITLE.
#
#, fuzzy
msgid ""
msgstr ""
"Project-Id-Version: PACKAGE VERSION\n"
"PO-Revision-Date: YEAR-MO-DA HO:MI+ZONE\n"
"Last-Translator: FULL NAME <EMAIL@ADDRESS>\n"
"Language-Team: LANGUAGE <LL@li.org>\n"
"Language: \n"
"Content-Type: text/plain; charset=UTF-8\n"
"Plural-Forms: nplurals=6; plural=n==0 ? 0 : n==1 ? 1 : n==2 ? 2 : n%100>=3 "
"&& n%100<=10 ? 3 : n%100>=11 && n%100<=99 ? 4 : 5;\n"

#: views.py:1
msgid "Verify"
msgstr ""

#: views.py:2
#, python-format
msgid "%(count)d attempt left."
msgid_plural "%(count)d attempts left."
msgstr[0] ""
msgstr[1] ""
msgstr[2] ""
msgstr[3] ""
msgstr[4] ""
msgstr[5] ""

#: views.py:3
#, fuzzy
#| msgid "A new code is on its way."
msgid "A new code is on its way to you."
msgstr "رمز جديد في الطريق."
"""

ATTEMPTS = [
    "%(count)d محاولة",
    "محاولة واحدة",
    "محاولتان",
    "%(count)d محاولات",
    "%(count)d محاولةً",
    "%(count)d محاولة",
]


@pytest.fixture
def locale(tmp_path: Path) -> Path:
    folder = tmp_path / "locale"
    (folder / "ar" / "LC_MESSAGES").mkdir(parents=True)
    (folder / "ar" / "LC_MESSAGES" / "django.po").write_text(NEW_CATALOGUE, encoding="utf-8")
    return folder


def run(locale: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SCRIPT), "--locale", str(locale), *args],
        capture_output=True,
        text=True,
        encoding="utf-8",
        check=False,
    )


def test_todo_lists_the_empty_and_the_fuzzy(locale: Path) -> None:
    result = run(locale, "todo")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {
        "ar": [
            {"msgid": "Verify"},
            {
                "msgid": "%(count)d attempt left.",
                "msgid_plural": "%(count)d attempts left.",
                "forms": 6,
            },
            {
                "msgid": "A new code is on its way to you.",
                "was": ["A new code is on its way."],
                "fuzzy_translation": ["رمز جديد في الطريق."],
            },
        ]
    }
    assert run(locale, "check").returncode == 1


def test_fill_writes_compiles_and_settles_the_header(locale: Path, tmp_path: Path) -> None:
    done = tmp_path / "done.json"
    translations = {
        "Verify": "تحقّق",
        "%(count)d attempt left.": ATTEMPTS,
        "A new code is on its way to you.": "رمز جديد في الطريق إليك.",
    }
    done.write_text(json.dumps({"ar": translations}), encoding="utf-8")
    result = run(locale, "fill", str(done))
    assert result.returncode == 0, result.stdout + result.stderr

    po = (locale / "ar" / "LC_MESSAGES" / "django.po").read_text(encoding="utf-8")
    assert "fuzzy" not in po
    assert "#|" not in po
    assert '"Language: ar\\n"' in po
    assert '"Language-Team: Arabic\\n"' in po
    assert "# Arabic translation of django-singleconnect." in po
    assert "YEAR-MO-DA" not in po
    with (locale / "ar" / "LC_MESSAGES" / "django.mo").open("rb") as mo:
        catalogue = gettext.GNUTranslations(mo)
    assert catalogue.gettext("A new code is on its way to you.") == "رمز جديد في الطريق إليك."
    plural = ("%(count)d attempt left.", "%(count)d attempts left.")
    said = [catalogue.ngettext(*plural, n) for n in (0, 1, 2, 3, 11, 100)]
    assert said == ATTEMPTS
    assert run(locale, "check").returncode == 0
    assert run(locale, "todo").stdout.strip() == "{}"


@pytest.mark.parametrize(
    ("translations", "problem"),
    [
        ({"Verify": "تحقّق", "Nope": "x"}, "no entry 'Nope'"),
        ({"%(count)d attempt left.": ATTEMPTS[:2]}, "needs 6 forms, got 2"),
        ({"Verify": ["a", "b"]}, "'Verify' is not a plural"),
        ({"Verify": " "}, "an empty translation"),
        ({"%(count)d attempt left.": ["%(n)d", *ATTEMPTS[1:]]}, "placeholders differ"),
        # Only a form for one number alone (here 0, 1 and 2) may leave the count out.
        (
            {"%(count)d attempt left.": [*ATTEMPTS[:3], "محاولات", *ATTEMPTS[4:]]},
            "placeholders differ",
        ),
    ],
)
def test_fill_refuses_and_writes_nothing(
    locale: Path, tmp_path: Path, translations: dict[str, object], problem: str
) -> None:
    before = (locale / "ar" / "LC_MESSAGES" / "django.po").read_text(encoding="utf-8")
    done = tmp_path / "done.json"
    done.write_text(json.dumps({"ar": translations}), encoding="utf-8")
    result = run(locale, "fill", str(done))
    assert result.returncode == 1
    assert problem in result.stdout
    assert (locale / "ar" / "LC_MESSAGES" / "django.po").read_text(encoding="utf-8") == before
    assert not (locale / "ar" / "LC_MESSAGES" / "django.mo").exists()


def test_a_folder_without_catalogues_fails(tmp_path: Path) -> None:
    result = run(tmp_path, "check")
    assert result.returncode == 1
    assert "no catalogue" in result.stderr
