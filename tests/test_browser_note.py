"""
What plain ``pytest`` says on a machine without Chromium: the README promises a note, not a
number of skips lost among the dots. Run in a subprocess where Chromium's path leads nowhere.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.helpers import ROOT, environment

#: pytest on the browser tests, with Chromium missing; whatever follows is pytest's options.
WITHOUT_CHROMIUM = """
import sys
import pytest
import tests.e2e.support

tests.e2e.support.CHROMIUM = "/nonexistent/chromium"
sys.exit(pytest.main(["tests/e2e/test_browser.py", *sys.argv[1:]]))
"""


def pytest_without_chromium(*options: str, **variables: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", WITHOUT_CHROMIUM, *options],
        cwd=ROOT,
        env=environment(PYTHONPATH=str(ROOT), **variables),
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=120,
    )


def test_plain_pytest_says_why_the_browser_tests_did_not_run() -> None:
    result = pytest_without_chromium()
    # Skipped at collection: pytest counts no test, which is no failure.
    assert result.returncode == pytest.ExitCode.NO_TESTS_COLLECTED, result.stdout + result.stderr
    note = result.stdout[result.stdout.index("browser tests not run") :]
    assert "1 skipped" in note  # after the note: the last line of the run
    assert (
        "The browser tests in tests/e2e/ were skipped: Chromium is not installed at "
        "/nonexistent/chromium (Debian: apt-get install chromium)."
    ) in note
    assert "SINGLECONNECT_REQUIRE_BROWSER=1" in note


def test_no_note_when_the_browser_is_required() -> None:
    result = pytest_without_chromium(SINGLECONNECT_REQUIRE_BROWSER="1")
    assert result.returncode != 0
    assert "SINGLECONNECT_REQUIRE_BROWSER=1 requires them" in result.stdout
    assert "browser tests not run" not in result.stdout
