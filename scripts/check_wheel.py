"""
Build the wheel and check what it ships: the app with its templates, static files,
compiled messages, migrations and py.typed; never the tests or the example project.

    python scripts/check_wheel.py [--wheel PATH]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = "django_singleconnect"

LANGUAGES = ("ar", "de", "es", "fr", "ru", "tr")
REQUIRED = [
    f"{PACKAGE}/py.typed",
    f"{PACKAGE}/migrations/0001_initial.py",
    *(f"{PACKAGE}/locale/{language}/LC_MESSAGES/django.mo" for language in LANGUAGES),
    f"{PACKAGE}/templates/django_singleconnect/base.html",
    f"{PACKAGE}/templates/django_singleconnect/verify.html",
    f"{PACKAGE}/static/django_singleconnect/singleconnect.css",
    f"{PACKAGE}/management/commands/singleconnect_simulator.py",
]
FORBIDDEN_PREFIXES = ("tests/", "example_project/", "benchmarks/", "scripts/", "docs/")


def build(out: Path) -> Path:
    subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--outdir", str(out), str(ROOT)],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    (wheel,) = out.glob("*.whl")
    return wheel


def problems(wheel: Path) -> list[str]:
    names = set(zipfile.ZipFile(wheel).namelist())
    found = [f"missing: {name}" for name in REQUIRED if name not in names]
    found += [
        f"must not ship: {name}" for name in sorted(names) if name.startswith(FORBIDDEN_PREFIXES)
    ]
    for folder, kind in (("templates", "template"), ("static", "static file")):
        on_disk = {
            path.relative_to(ROOT).as_posix()
            for path in (ROOT / PACKAGE / folder).rglob("*")
            if path.is_file()
        }
        found += [f"missing {kind}: {name}" for name in sorted(on_disk - names)]
    migrations = {
        path.relative_to(ROOT).as_posix() for path in (ROOT / PACKAGE / "migrations").glob("0*.py")
    }
    found += [f"missing migration: {name}" for name in sorted(migrations - names)]
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--wheel", type=Path, help="check this wheel instead of building one")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as out:
        wheel = args.wheel or build(Path(out))
        found = problems(wheel)
        for problem in found:
            print(problem)
        count = len(zipfile.ZipFile(wheel).namelist())
        print(f"{wheel.name}: {'FAILED' if found else 'ok'} ({count} files)")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
