"""
The release matrix: every supported Python x Django pair runs the suite against the built
wheel, not the source tree. ``nox -s tests`` runs them all; ``nox -s "tests-3.13(django='6.1')"``
one of them. Interpreters come from PATH (pyenv: set PYENV_VERSION to list them all).
"""

from __future__ import annotations

import glob
import os
import shutil
from pathlib import Path

import nox

ROOT = Path(__file__).parent
# What the suite needs besides the package; the package itself comes from the wheel.
SUITE = [
    "tests",
    "example_project",
    "manage.py",
    "pyproject.toml",
    "README.md",
    "CONTRIBUTING.md",
    "Makefile",
    "docs",
]

nox.options.default_venv_backend = "venv"
nox.options.reuse_existing_virtualenvs = False

# requires-python and the classifiers in pyproject.toml say the same; Django 6 needs 3.12.
MATRIX = [
    ("3.10", "5.2"),
    ("3.11", "5.2"),
    ("3.12", "5.2"),
    ("3.12", "6.0"),
    ("3.12", "6.1"),
    ("3.13", "5.2"),
    ("3.13", "6.0"),
    ("3.13", "6.1"),
]


@nox.session
@nox.parametrize(("python", "django"), MATRIX)
def tests(session: nox.Session, django: str) -> None:
    wheel = _build_wheel(session)
    session.install(f"{wheel}[test]", f"django~={django}.0")
    # Run a copy of the suite in a folder without the source tree, so that every import of
    # django_singleconnect finds the installed wheel.
    suite = Path(session.create_tmp()) / "suite"
    shutil.rmtree(suite, ignore_errors=True)
    suite.mkdir()
    for name in SUITE:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, suite / name, ignore=shutil.ignore_patterns("*.sqlite3"))
        elif source.exists():
            shutil.copy2(source, suite / name)
    session.chdir(suite)
    session.run("python", "-m", "pytest", *session.posargs, env={"SINGLECONNECT_EXPECT_WHEEL": "1"})


def _build_wheel(session: nox.Session) -> str:
    # CI builds the wheel once and hands it to every session.
    prebuilt = os.environ.get("SINGLECONNECT_WHEEL")
    if prebuilt:
        return prebuilt
    session.install("build")
    out = Path(session.create_tmp()) / "dist"
    shutil.rmtree(out, ignore_errors=True)
    session.run("python", "-m", "build", "--wheel", "--outdir", str(out), str(ROOT), silent=True)
    (wheel,) = glob.glob(f"{out}/*.whl")
    return wheel
