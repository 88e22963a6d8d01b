"""
Fill the package's catalogues without editing the .po files by hand.

    python scripts/translations.py todo [-l ar -l de ...] [-o todo.json]
    python scripts/translations.py fill done.json
    python scripts/translations.py check
    python scripts/translations.py --locale example_project/locale todo

``todo`` lists, per language, every entry that is untranslated or fuzzy: its msgid, its
msgid_plural and how many forms the language needs, and for a fuzzy one the old text and
the old translation. Copy it, write the translations in, and give it to ``fill``, which
takes a JSON object ``{"ar": {"msgid": "translation" or ["form 0", "form 1", ...]}}``
(a msgctxt goes before the msgid, joined by "\\u0004", as gettext does). ``fill`` refuses a
translation whose placeholders differ from the msgid's or whose plural has the wrong number
of forms, drops the fuzzy flag of what it fills, rewrites the file in gettext's own layout
(``msgattrib``, as makemessages does) and compiles it (``msgfmt --check-format``).
``check`` exits non-zero while an entry of any catalogue is empty or fuzzy.

New strings in the source: first ``cd django_singleconnect && django-admin makemessages -l tr
-l ar -l de -l es -l fr -l ru --no-obsolete``, then ``todo``, then ``fill``.

Only the standard library and GNU gettext's command-line tools.
"""

from __future__ import annotations

import argparse
import ast
import gettext
import json
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOCALE = ROOT / "django_singleconnect" / "locale"
# The folder the commands work on: the package's, unless --locale names another (the example
# project's, say).
locale_folder = LOCALE
# %(name)s, %(count)d, and str.format's {name} (the JSON answers and the checks use them).
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|\{\w*\}")
NPLURALS = re.compile(r"nplurals\s*=\s*(\d+)")


@dataclass
class Entry:
    comments: list[str] = field(default_factory=list)  # every "#" line but the flags
    flags: list[str] = field(default_factory=list)
    fields: dict[str, str] = field(default_factory=dict)  # msgctxt, msgid, msgstr[0], ...
    obsolete: bool = False

    @property
    def key(self) -> str:
        msgid = self.fields.get("msgid", "")
        return f"{self.fields['msgctxt']}\x04{msgid}" if "msgctxt" in self.fields else msgid

    @property
    def translations(self) -> list[str]:
        return [value for name, value in self.fields.items() if name.startswith("msgstr")]

    @property
    def done(self) -> bool:
        return "fuzzy" not in self.flags and all(self.translations)


def parse(text: str) -> list[Entry]:
    """The entries of a .po file, the header (msgid "") first, in the file's order."""
    entries = []
    for block in re.split(r"\n\s*\n", text.strip()):
        entry, keyword = Entry(), ""
        for line in block.splitlines():
            if line.startswith("#~"):
                entry.obsolete = True
                entry.comments.append(line)
            elif line.startswith("#,"):
                entry.flags += [flag.strip() for flag in line[2:].split(",") if flag.strip()]
            elif line.startswith("#"):
                entry.comments.append(line)
            elif line.startswith('"'):
                entry.fields[keyword] += ast.literal_eval(line)
            else:
                keyword, _, quoted = line.partition(" ")
                entry.fields[keyword] = ast.literal_eval(quoted)
        entries.append(entry)
    return entries


def quote(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\t", "\\t")
    return '"' + escaped.replace("\n", "\\n") + '"'


def render(entries: list[Entry]) -> str:
    blocks = []
    for entry in entries:
        lines = [line for line in entry.comments if not line.startswith("#~")]
        if entry.flags:
            lines.insert(_flags_position(lines), "#, " + ", ".join(entry.flags))
        if "fuzzy" not in entry.flags:
            lines = [line for line in lines if not line.startswith("#|")]
        for name, value in entry.fields.items():
            if "\n" in value.rstrip("\n") or (name == "msgstr" and entry.fields["msgid"] == ""):
                lines.append(f'{name} ""')
                lines += [quote(part) for part in value.splitlines(keepends=True)]
            else:
                lines.append(f"{name} {quote(value)}")
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks) + "\n"


def _flags_position(lines: list[str]) -> int:
    """Flags go after the translator's, extracted and reference comments, before "#|"."""
    for position, line in enumerate(lines):
        if line.startswith("#|"):
            return position
    return len(lines)


NAMES = {
    "ar": "Arabic",
    "de": "German",
    "es": "Spanish",
    "fr": "French",
    "ru": "Russian",
    "tr": "Turkish",
}
HEADER = {
    "Project-Id-Version": "django-singleconnect",
    "Last-Translator": "django-singleconnect maintainers",
}


def settle_header(header: Entry, language: str) -> None:
    """A new catalogue's header (fuzzy, with makemessages' placeholders) made the project's;
    an older one's revision date brought up to now."""
    if "fuzzy" not in header.flags:
        header.fields["msgstr"] = re.sub(
            r"PO-Revision-Date: [^\n]*", f"PO-Revision-Date: {_now()}", header.fields["msgstr"]
        )
        return
    name = NAMES.get(language, language)
    header.flags.remove("fuzzy")
    header.comments = [
        f"# {name} translation of django-singleconnect.",
        "# This file is distributed under the same license as the django-singleconnect package.",
        "#",
    ]
    values = {**HEADER, "Language-Team": name, "Language": language}
    lines = header.fields["msgstr"].splitlines(keepends=True)
    for index, line in enumerate(lines):
        name_, _, _ = line.partition(":")
        if name_ in values:
            lines[index] = f"{name_}: {values[name_]}\n"
        elif name_ == "PO-Revision-Date":
            lines[index] = line.replace("YEAR-MO-DA HO:MI+ZONE", _now())
    header.fields["msgstr"] = "".join(lines)


def _now() -> str:
    from datetime import datetime, timezone

    return datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M+0000")


def nplurals(entries: list[Entry]) -> int:
    header = entries[0].fields["msgstr"]
    found = NPLURALS.search(header)
    return int(found.group(1)) if found else 2


def catalogue(language: str) -> Path:
    return locale_folder / language / "LC_MESSAGES" / "django.po"


def languages() -> list[str]:
    found = locale_folder.glob("*/LC_MESSAGES/django.po")
    return sorted(path.parent.parent.name for path in found)


def todo(language: str) -> list[dict[str, object]]:
    entries = parse(catalogue(language).read_text(encoding="utf-8"))
    forms = nplurals(entries)
    wanted: list[dict[str, object]] = []
    for entry in entries[1:]:
        if entry.obsolete or entry.done:
            continue
        item: dict[str, object] = {"msgid": entry.key}
        if "msgid_plural" in entry.fields:
            item["msgid_plural"] = entry.fields["msgid_plural"]
            item["forms"] = forms
        if "fuzzy" in entry.flags:
            previous = [line[3:] for line in entry.comments if line.startswith("#| msgid ")]
            item["was"] = [ast.literal_eval(text.partition(" ")[2]) for text in previous]
            item["fuzzy_translation"] = entry.translations
        wanted.append(item)
    return wanted


def placeholders(text: str) -> list[str]:
    return sorted(PLACEHOLDER.findall(text))


def single_number_forms(entries: list[Entry]) -> set[int]:
    """The plural forms that the language's rule picks for one number only (Arabic's 0, 1, 2)."""
    found = re.search(r"plural\s*=\s*([^;]+)", entries[0].fields["msgstr"])
    if found is None:
        return set()
    rule = gettext.c2py(found.group(1))
    picked: dict[int, int] = {}
    for n in range(1000):
        picked[rule(n)] = picked.get(rule(n), 0) + 1
    return {form for form, count in picked.items() if count == 1}


def placeholders_fit(found: list[str], expected: list[str], single_number: bool) -> bool:
    """The msgid's placeholders; a form for one number alone may leave out one, its count
    ("محاولة واحدة", one attempt, as CLDR and Django's own Arabic catalogue write it)."""
    if found == expected:
        return True
    missing = [name for name in expected if name not in found]
    return single_number and len(missing) == 1 and sorted(found + missing) == expected


def fill(language: str, translated: dict[str, str | list[str]]) -> list[str]:
    """Write ``translated`` into the language's catalogue; what went wrong, if anything."""
    path = catalogue(language)
    entries = parse(path.read_text(encoding="utf-8"))
    forms = nplurals(entries)
    single_forms = single_number_forms(entries)
    by_key = {entry.key: entry for entry in entries[1:] if not entry.obsolete}
    settle_header(entries[0], language)
    problems = []
    for key, value in translated.items():
        entry = by_key.get(key)
        if entry is None:
            problems.append(f"{language}: no entry {key!r} (makemessages first?)")
            continue
        plural = "msgid_plural" in entry.fields
        values = [value] if isinstance(value, str) else list(value)
        if plural and len(values) != forms:
            problems.append(f"{language}: {key!r} needs {forms} forms, got {len(values)}")
            continue
        if not plural and len(values) != 1:
            problems.append(f"{language}: {key!r} is not a plural")
            continue
        expected = placeholders(entry.fields.get("msgid_plural", entry.fields["msgid"]))
        for index, text in enumerate(values):
            if not text.strip():
                problems.append(f"{language}: {key!r}: an empty translation")
            elif not placeholders_fit(
                placeholders(text), expected, plural and index in single_forms
            ):
                problems.append(f"{language}: {key!r}: placeholders differ in {text!r}")
        if problems:
            continue
        if plural:
            for index, text in enumerate(values):
                entry.fields[f"msgstr[{index}]"] = text
        else:
            entry.fields["msgstr"] = values[0]
        entry.flags = [flag for flag in entry.flags if flag != "fuzzy"]
    if problems:
        return problems
    path.write_text(render(entries), encoding="utf-8")
    # gettext's own layout, so that the next makemessages changes nothing but what is new.
    subprocess.run(
        [gettext_tool("msgattrib"), "--no-obsolete", "-o", str(path), str(path)], check=True
    )
    compile_catalogue(language)
    return []


def gettext_tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise SystemExit(f"{name} is not installed (GNU gettext; Debian: apt-get install gettext)")
    return path


def compile_catalogue(language: str) -> None:
    po = catalogue(language)
    mo = po.with_suffix(".mo")
    subprocess.run([gettext_tool("msgfmt"), "--check-format", "-o", str(mo), str(po)], check=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--locale", type=Path, default=LOCALE, help=f"the locale folder (default: {LOCALE})"
    )
    commands = parser.add_subparsers(dest="command", required=True)
    todo_parser = commands.add_parser("todo", help="list what is untranslated or fuzzy")
    todo_parser.add_argument("-l", "--language", action="append", dest="languages")
    todo_parser.add_argument("-o", "--output", type=Path)
    fill_parser = commands.add_parser("fill", help="write translations in, then compile")
    fill_parser.add_argument("translations", type=Path)
    commands.add_parser("check", help="fail while any entry is empty or fuzzy")
    arguments = parser.parse_args(argv)
    global locale_folder
    locale_folder = arguments.locale
    if not languages():
        print(f"no catalogue in {locale_folder} (*/LC_MESSAGES/django.po)", file=sys.stderr)
        return 1

    if arguments.command == "todo":
        wanted = {language: todo(language) for language in arguments.languages or languages()}
        text = json.dumps({k: v for k, v in wanted.items() if v}, ensure_ascii=False, indent=1)
        if arguments.output:
            arguments.output.write_text(text + "\n", encoding="utf-8")
        else:
            print(text)
        return 0
    if arguments.command == "fill":
        translations = json.loads(arguments.translations.read_text(encoding="utf-8"))
        problems = [
            problem
            for language, translated in translations.items()
            for problem in fill(language, translated)
        ]
        print("\n".join(problems) or "filled and compiled: " + ", ".join(translations))
        return 1 if problems else 0
    missing = {language: len(todo(language)) for language in languages()}
    for language, count in missing.items():
        print(f"{language}: {count or 'complete'}{' to do' if count else ''}")
    return 1 if any(missing.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
