"""
What the browser tests need besides the browser: whether one is there at all, the example
site in a subprocess, the simulator's test hooks, and the Turkish catalogue.

Nothing here imports Playwright, so this module loads where it is missing.
"""

from __future__ import annotations

import ast
import contextlib
import importlib
import importlib.util
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import pytest
import requests

import django_singleconnect
from tests.helpers import MANAGE, ROOT, environment, free_port

CHROMIUM = "/usr/bin/chromium"
# Without the background-networking flags, Chromium run as root on a closed network stalls
# on its own update and sync calls.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
REQUIRE_BROWSER = "SINGLECONNECT_REQUIRE_BROWSER"
#: How the reason of a skip for want of a browser starts (the run's summary looks for it).
SKIPPED_BROWSER_TESTS = "browser tests skipped"

PASSWORD = "correct horse"
# One user per scenario, so that wrong codes, lockouts and resends never meet.
USERS = (
    "alice",
    "bob",
    "carol",
    "dave",
    "erin",
    "ayse",
    "frank",
    "grace",
    "heidi",
    "amal",
    "gina",
    "hana",
    "ivan",
    "jack",
)
SUPERUSER = "root"
#: Those of tests/e2e/test_screenshots.py: the pictures of the docs show their names.
PICTURE_USERS = ("ada", "kim", "lin")

# The policies the scenarios rely on, small so that they run in seconds.
MAX_ATTEMPTS = 3
REMEMBER_DAYS = 30
LOCKOUT_SECONDS = 60
# Long enough that a new code asked for at once is refused even on a busy machine.
RESEND_COOLDOWN = 3
# A login's first code and one more: a single resend reaches the cap.
MAX_CHALLENGES_PER_HOUR = 2

SETUP_SCRIPT = f"""
from django.contrib.auth import get_user_model
from django.core.management import call_command

call_command("migrate", interactive=False, verbosity=0)
User = get_user_model()
for name in {USERS + PICTURE_USERS!r}:
    User.objects.create_user(name, password={PASSWORD!r})
User.objects.create_superuser({SUPERUSER!r}, password={PASSWORD!r})
"""

LC_MESSAGES = Path(django_singleconnect.__file__).parent / "locale" / "tr" / "LC_MESSAGES"


# -- is there a browser ------------------------------------------------------------------------


def browser_problem() -> str | None:
    """Why the browser tests cannot run here, or None."""
    if importlib.util.find_spec("playwright") is None:
        return 'Playwright is not installed (pip install -e ".[test]")'
    if not os.access(CHROMIUM, os.X_OK):
        return f"Chromium is not installed at {CHROMIUM} (Debian: apt-get install chromium)"
    return None


def import_playwright() -> ModuleType:
    """
    ``playwright.sync_api``. Without Playwright or Chromium, skip the calling test module; or,
    when ``SINGLECONNECT_REQUIRE_BROWSER=1`` (CI), fail the run.
    """
    problem = browser_problem()
    if problem is not None:
        if os.environ.get(REQUIRE_BROWSER) == "1":
            pytest.fail(
                f"The browser tests cannot run: {problem}. {REQUIRE_BROWSER}=1 requires them.",
                pytrace=False,
            )
        pytest.skip(f"{SKIPPED_BROWSER_TESTS}: {problem}", allow_module_level=True)
    return importlib.import_module("playwright.sync_api")


# -- the site ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Site:
    """The example project under gunicorn, and the simulator it asks."""

    url: str
    simulator_url: str
    log: Path

    def code(self, username: str) -> str:
        """The code Single Connect (the simulator) last sent to ``username``."""
        response = requests.get(
            f"{self.simulator_url}/_simulator/otp", {"username": username}, timeout=5
        )
        assert response.status_code == 200, f"no code for {username}: {response.text}"
        return response.text

    def codes_issued(self) -> int:
        """How many codes the simulator has issued (``otpstatus`` calls) so far."""
        return self.calls("otpstatus")

    def calls(self, endpoint: str) -> int:
        """How many calls of ``endpoint`` the simulator has answered so far."""
        response = requests.get(f"{self.simulator_url}/_simulator/stats", timeout=5)
        response.raise_for_status()
        return int(response.json()[endpoint])

    def fault(self, mode: str, endpoint: str = "", seconds: float = 0) -> None:
        """Make the simulator misbehave (``mode="none"`` stops it)."""
        response = requests.post(
            f"{self.simulator_url}/_simulator/fault",
            {"mode": mode, "endpoint": endpoint, "seconds": str(seconds)},
            timeout=5,
        )
        assert response.status_code == 204, response.text


def wrong_code(code: str) -> str:
    """A well-formed code that is certainly not ``code``."""
    return f"{(int(code) + 1) % 10**6:06d}"


def site_environment(directory: Path, simulator_settings: dict[str, str]) -> dict[str, str]:
    return environment(
        DATABASE_URL=f"sqlite:///{directory / 'site.sqlite3'}",
        **simulator_settings,
        SINGLECONNECT_MAX_ATTEMPTS=str(MAX_ATTEMPTS),
        SINGLECONNECT_LOCKOUT_SECONDS=str(LOCKOUT_SECONDS),
        SINGLECONNECT_RESEND_COOLDOWN=str(RESEND_COOLDOWN),
        SINGLECONNECT_REMEMBER_DAYS=str(REMEMBER_DAYS),
        SINGLECONNECT_MAX_CHALLENGES_PER_HOUR=str(MAX_CHALLENGES_PER_HOUR),
        # gunicorn 25.1+ opens a control socket, by default in ~/.gunicorn/, shared by every
        # gunicorn of this user; this keeps ours in the temporary folder.
        XDG_RUNTIME_DIR=str(directory),
    )


def prepare_database(env: dict[str, str]) -> None:
    result = subprocess.run(
        [sys.executable, MANAGE, "shell", "-c", SETUP_SCRIPT],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=120,
    )
    assert result.returncode == 0, f"setting up the database failed:\n{result.stderr}"


def start_gunicorn(env: dict[str, str], log: Path) -> tuple[subprocess.Popen[bytes], str]:
    """gunicorn serving the example project on a free port, in its own process group."""
    port = free_port()
    with log.open("wb") as output:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "example_project.wsgi",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                "2",
                "--graceful-timeout",
                "5",
                "--access-logfile",
                "-",
                "--error-logfile",
                "-",
            ],
            env=env,
            cwd=ROOT,
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    return process, f"http://127.0.0.1:{port}"


def wait_until_serving(process: subprocess.Popen[bytes], url: str, log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"gunicorn exited with {process.returncode}:\n{log_tail(log)}")
        try:
            with requests.get(f"{url}/accounts/login/", timeout=2) as response:
                if response.status_code == 200:
                    return
        except (requests.ConnectionError, requests.Timeout):  # not up yet, or a busy machine
            pass
        time.sleep(0.1)
    raise AssertionError(f"{url} did not answer within 30 s:\n{log_tail(log)}")


def stop_process_group(process: subprocess.Popen[bytes]) -> None:
    """Stop gunicorn and its workers: SIGTERM, then SIGKILL for whatever is left."""
    with contextlib.suppress(ProcessLookupError):  # already gone
        os.killpg(process.pid, signal.SIGTERM)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=10)
    # A worker that outlived its master, or a master that ignored SIGTERM.
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()


def log_tail(log: Path, lines: int = 40) -> str:
    if not log.is_file():
        return "(no log)"
    return "\n".join(log.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])


# -- the Turkish catalogue ---------------------------------------------------------------------


def turkish(msgids: tuple[str, ...]) -> dict[str, str] | str:
    """
    The Turkish ``msgstr`` of each of ``msgids`` (single-form entries), as
    ``locale/tr/LC_MESSAGES/django.po`` says; or why they cannot be expected on a page yet.
    """
    po, mo = LC_MESSAGES / "django.po", LC_MESSAGES / "django.mo"
    if not po.is_file():
        return f"{po} does not exist yet"
    if not mo.is_file():
        return f"{mo} is not compiled yet (manage.py compilemessages)"
    found = {}
    for block in po.read_text(encoding="utf-8").split("\n\n"):
        entry = _po_entry(block)
        if entry.get("msgid") in msgids:
            if "fuzzy" in entry.get("flags", ""):
                return f"{entry['msgid']!r} is fuzzy in {po}"
            found[entry["msgid"]] = entry.get("msgstr", "")
    missing = [msgid for msgid in msgids if not found.get(msgid)]
    if missing:
        return f"{po} has no translation for {missing}"
    return found


def _po_entry(block: str) -> dict[str, str]:
    """One .po entry: its ``#,`` flags and each keyword with its (joined) string."""
    entry: dict[str, str] = {}
    keyword = ""
    for line in block.strip().splitlines():
        if line.startswith("#,"):
            entry["flags"] = entry.get("flags", "") + line[2:]
        elif line.startswith("#"):
            continue
        elif line.startswith('"') and keyword:
            entry[keyword] += ast.literal_eval(line)
        elif " " in line:
            keyword, _, quoted = line.partition(" ")
            entry[keyword] = ast.literal_eval(quoted)
    return entry
