"""
The example project and ``manage.py demo``. Each runs in a subprocess, because this suite
runs under tests.settings and the example project must build its settings from the
environment it is given, and nothing else.
"""

from __future__ import annotations

import ast
import gettext
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.helpers import MANAGE, ROOT, environment, free_port
from tests.test_translations import read_po, translations

CHECK_ID = re.compile(r"\(([a-z_.]+\.[EW]\d{3})\)")
HELLO = "Hello demo, you passed the Single Connect step."


def manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, MANAGE, *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=60,
    )


SETTINGS_SCRIPT = """
from django.conf import settings
from django.core.checks import run_checks
names = [name for name in dir(settings) if name.startswith("SINGLECONNECT_")] + [
    "DEBUG", "ALLOWED_HOSTS", "SECRET_KEY", "LANGUAGES", "LOGIN_URL", "LOGIN_REDIRECT_URL",
    "LOGOUT_REDIRECT_URL",
]
values = {name: getattr(settings, name) for name in names}
values["DATABASE"] = settings.DATABASES["default"]["NAME"]
values["CACHE"] = settings.CACHES["default"]["BACKEND"].rpartition(".")[2]
values["checks"] = sorted(message.id for message in run_checks())
print(repr(values))
"""


def example_settings(**variables: str) -> dict[str, Any]:
    """The example project's settings under ``variables``, and the ids its checks report."""
    result = manage("shell", "-c", SETTINGS_SCRIPT, env=environment(**variables))
    assert result.returncode == 0, result.stderr
    # The last line: Django's shell may first say what it imported.
    values: dict[str, Any] = ast.literal_eval(result.stdout.strip().splitlines()[-1])
    return values


def test_check_passes_with_an_empty_environment() -> None:
    result = manage("check", env=environment())
    assert result.returncode == 0, result.stderr
    # Only the expected warning: the default scheme is http, for the local simulator.
    assert CHECK_ID.findall(result.stdout + result.stderr) == ["django_singleconnect.W001"]


def test_migrate_into_database_url(tmp_path: Path) -> None:
    database = tmp_path / "example.sqlite3"
    result = manage("migrate", env=environment(DATABASE_URL=f"sqlite:///{database}"))
    assert result.returncode == 0, result.stderr
    with closing(sqlite3.connect(database)) as connection:
        tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master")}
    assert {"auth_user", "django_session", "django_singleconnect_attemptcounter"} <= tables


def test_defaults_point_at_the_local_simulator() -> None:
    values = example_settings()
    assert {name: values[name] for name in values if name.startswith("SINGLECONNECT_")} == {
        "SINGLECONNECT_HOSTNAME": "127.0.0.1:8765",
        "SINGLECONNECT_APPLICATION_NAME": "example-project",
        "SINGLECONNECT_SCHEME": "http",
    }
    assert values["DEBUG"] is True
    assert values["ALLOWED_HOSTS"] == ["localhost", "127.0.0.1"]
    assert values["SECRET_KEY"].startswith("django-insecure-")
    assert values["DATABASE"] == str(ROOT / "example_project" / "db.sqlite3")
    assert values["CACHE"] == "LocMemCache"
    assert ("tr", "Türkçe") in values["LANGUAGES"]
    assert (values["LOGIN_URL"], values["LOGIN_REDIRECT_URL"], values["LOGOUT_REDIRECT_URL"]) == (
        "/accounts/login/",
        "/",
        "/accounts/login/",
    )
    assert values["checks"] == ["django_singleconnect.W001"]


def test_every_setting_from_the_environment(tmp_path: Path) -> None:
    # The checks want these files to exist.
    for name in ("ca.pem", "client.pem", "client.key"):
        (tmp_path / name).write_text("")
    values = example_settings(
        DATABASE_URL=f"sqlite:///{tmp_path / 'other.sqlite3'}",
        SECRET_KEY="from-the-environment",
        DEBUG="false",
        ALLOWED_HOSTS="example.com,.example.org",
        SINGLECONNECT_HOSTNAME="sc.example.com:8443",
        SINGLECONNECT_APPLICATION_NAME="intranet",
        SINGLECONNECT_SCHEME="https",
        SINGLECONNECT_BASE_PATH="/custom/tfa",
        SINGLECONNECT_TIMEOUT="3.05,10",
        SINGLECONNECT_VERIFY=str(tmp_path / "ca.pem"),
        SINGLECONNECT_CLIENT_CERT=f"{tmp_path / 'client.pem'},{tmp_path / 'client.key'}",
        SINGLECONNECT_PROXIES="https=http://proxy.example.com:3128",
        SINGLECONNECT_EXTRA_HEADERS="X-Gateway=abc,X-Team=web",
        SINGLECONNECT_COOKIES="JSESSIONID=xyz",
        SINGLECONNECT_ENFORCE="all",
        SINGLECONNECT_EXEMPT_URLS="health,/status/",
        SINGLECONNECT_OTP_INACTIVE_POLICY="deny",
        SINGLECONNECT_TOKEN_DIGITS="8",
        SINGLECONNECT_MAX_ATTEMPTS="3",
        SINGLECONNECT_LOCKOUT_SECONDS="600",
        SINGLECONNECT_RESEND_COOLDOWN="30",
        SINGLECONNECT_MAX_CHALLENGES_PER_HOUR="4",
        SINGLECONNECT_PENDING_TIMEOUT="300",
        SINGLECONNECT_REPLAY_SECONDS="900",
        SINGLECONNECT_CIRCUIT_FAILURES="3",
        SINGLECONNECT_CIRCUIT_RESET_SECONDS="12.5",
        SINGLECONNECT_MAX_CONCURRENT_CALLS="3",
        SINGLECONNECT_SLOT_WAIT_SECONDS="0.5",
        SINGLECONNECT_MAX_SLOW_CALLS="3",
        SINGLECONNECT_SLOW_CALL_SECONDS="1.5",
        CACHE_URL="redis://127.0.0.1:6379/1",
        SINGLECONNECT_USERNAME="django.utils.text.slugify",
        SINGLECONNECT_TRUSTED_PROXIES="10.0.0.0/8,192.168.1.1",
        SINGLECONNECT_CACHE="default",
    )
    assert values == {
        "SINGLECONNECT_HOSTNAME": "sc.example.com:8443",
        "SINGLECONNECT_APPLICATION_NAME": "intranet",
        "SINGLECONNECT_SCHEME": "https",
        "SINGLECONNECT_BASE_PATH": "/custom/tfa",
        "SINGLECONNECT_TIMEOUT": (3.05, 10.0),
        "SINGLECONNECT_VERIFY": str(tmp_path / "ca.pem"),
        "SINGLECONNECT_CLIENT_CERT": (str(tmp_path / "client.pem"), str(tmp_path / "client.key")),
        "SINGLECONNECT_PROXIES": {"https": "http://proxy.example.com:3128"},
        "SINGLECONNECT_EXTRA_HEADERS": {"X-Gateway": "abc", "X-Team": "web"},
        "SINGLECONNECT_COOKIES": {"JSESSIONID": "xyz"},
        "SINGLECONNECT_ENFORCE": "all",
        "SINGLECONNECT_EXEMPT_URLS": ["health", "/status/"],
        "SINGLECONNECT_OTP_INACTIVE_POLICY": "deny",
        "SINGLECONNECT_TOKEN_DIGITS": 8,
        "SINGLECONNECT_MAX_ATTEMPTS": 3,
        "SINGLECONNECT_LOCKOUT_SECONDS": 600,
        "SINGLECONNECT_RESEND_COOLDOWN": 30,
        "SINGLECONNECT_MAX_CHALLENGES_PER_HOUR": 4,
        "SINGLECONNECT_PENDING_TIMEOUT": 300,
        "SINGLECONNECT_REPLAY_SECONDS": 900,
        "SINGLECONNECT_CIRCUIT_FAILURES": 3,
        "SINGLECONNECT_CIRCUIT_RESET_SECONDS": 12.5,
        "SINGLECONNECT_MAX_CONCURRENT_CALLS": 3,
        "SINGLECONNECT_SLOT_WAIT_SECONDS": 0.5,
        "SINGLECONNECT_MAX_SLOW_CALLS": 3,
        "SINGLECONNECT_SLOW_CALL_SECONDS": 1.5,
        "SINGLECONNECT_USERNAME": "django.utils.text.slugify",
        "SINGLECONNECT_TRUSTED_PROXIES": ["10.0.0.0/8", "192.168.1.1"],
        "SINGLECONNECT_CACHE": "default",
        "DEBUG": False,
        "ALLOWED_HOSTS": ["example.com", ".example.org"],
        "SECRET_KEY": "from-the-environment",
        "LANGUAGES": [
            ("en", "English"),
            ("ar", "العربية"),
            ("de", "Deutsch"),
            ("es", "Español"),
            ("fr", "Français"),
            ("ru", "Русский"),
            ("tr", "Türkçe"),
        ],
        "LOGIN_URL": "/accounts/login/",
        "LOGIN_REDIRECT_URL": "/",
        "LOGOUT_REDIRECT_URL": "/accounts/login/",
        "DATABASE": str(tmp_path / "other.sqlite3"),
        "CACHE": "RedisCache",
        # Every value has the type the package's checks ask for.
        "checks": [],
    }


@pytest.mark.parametrize(
    ("name", "raw", "expected"),
    [
        ("SINGLECONNECT_VERIFY", "true", True),
        ("SINGLECONNECT_VERIFY", "False", False),
        ("SINGLECONNECT_TIMEOUT", "5", 5.0),
        ("SINGLECONNECT_CLIENT_CERT", "/ssl/both.pem", "/ssl/both.pem"),
        ("SINGLECONNECT_MAX_CONCURRENT_CALLS", "None", None),
        ("SINGLECONNECT_MAX_SLOW_CALLS", "None", None),
    ],
)
def test_one_value_forms(name: str, raw: str, expected: object) -> None:
    value = example_settings(**{name: raw})[name]
    assert (value, type(value)) == (expected, type(expected))


# -- the demo ------------------------------------------------------------------------------


class Output:
    """A subprocess's output, read in a thread so the pipe never fills."""

    def __init__(self, stream: Any) -> None:
        self.lines: list[str] = []
        self._stream = stream
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        for line in self._stream:
            self.lines.append(line)

    @property
    def text(self) -> str:
        return "".join(self.lines)

    def wait_for(self, pattern: str, deadline: float) -> re.Match[str]:
        while time.monotonic() < deadline:
            match = re.search(pattern, self.text)
            if match:
                return match
            time.sleep(0.05)
        raise AssertionError(f"{pattern!r} never appeared in:\n{self.text}")

    def close(self) -> None:
        self._thread.join(timeout=5)
        self._stream.close()


def wait_for_server(url: str, deadline: float) -> None:
    while time.monotonic() < deadline:
        try:
            requests.get(url, timeout=1).close()
            return
        except requests.ConnectionError:
            time.sleep(0.1)
    raise AssertionError(f"{url} never answered")


def csrf_token(html: str) -> str:
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)
    assert match, html
    return match.group(1)


def stop(process: subprocess.Popen[str]) -> int:
    """CONTROL-C to the whole process group, as a terminal sends it; SIGKILL if ignored."""
    try:
        os.killpg(process.pid, signal.SIGINT)
        return process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        raise AssertionError("the demo did not stop on CONTROL-C") from None


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[tuple[str, Output]]:
    """``manage.py demo`` on a free port with a fresh database: (site URL, its output)."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, MANAGE, "demo", "--addrport", f"127.0.0.1:{port}", "--noreload"],
        env=environment(DATABASE_URL=f"sqlite:///{tmp_path / 'demo.sqlite3'}"),
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        encoding="utf-8",
        errors="replace",
        start_new_session=True,
    )
    output = Output(process.stdout)
    try:
        yield f"http://127.0.0.1:{port}", output
    finally:
        status = stop(process)
        output.close()
    assert status == 0, output.text
    assert "Demo stopped." in output.text
    # Nothing of the demo is left running: not runserver, not the simulator.
    with pytest.raises(ProcessLookupError):
        os.killpg(process.pid, 0)


def test_demo_end_to_end(demo: tuple[str, Output]) -> None:
    site, output = demo
    deadline = time.monotonic() + 15
    simulator = output.wait_for(r"Single Connect simulator on (http://[\d.]+:\d+)", deadline)[1]
    assert "Log in as demo, password demo" in output.text
    wait_for_server(f"{site}/accounts/login/", deadline)

    with requests.Session() as browser:
        page = browser.get(f"{site}/", timeout=5)
        assert page.url == f"{site}/accounts/login/?next=/"
        login = page.text
        page = browser.post(
            page.url,
            {
                "username": "demo",
                "password": "demo",
                "next": "/",
                "csrfmiddlewaretoken": csrf_token(page.text),
            },
            timeout=5,
        )
        # The password was right: on to the code page, where the simulator issued a code.
        assert page.status_code == 200
        assert page.url == f"{site}/2fa/verify/?next=%2F"
        # The login page has the package's look and the site's additions; the code page the
        # package's own. Served by the site itself (DEBUG is on).
        stylesheets = re.findall(r'<link rel="stylesheet" href="([^"]+)">', login + page.text)
        assert stylesheets == [
            "/static/django_singleconnect/singleconnect.css",
            "/static/example.css",
            "/static/django_singleconnect/singleconnect.css",
        ]
        for href in stylesheets:
            stylesheet = browser.get(f"{site}{href}", timeout=5)
            assert stylesheet.status_code == 200, href
            assert stylesheet.headers["Content-Type"].startswith("text/css"), href

        code = requests.get(f"{simulator}/_simulator/otp", {"username": "demo"}, timeout=5).text
        assert re.fullmatch(r"\d{6}", code)
        output.wait_for(f"code for demo: {code}", deadline)

        page = browser.post(
            f"{site}/2fa/verify/",
            {"token": code, "next": "/", "csrfmiddlewaretoken": csrf_token(page.text)},
            timeout=5,
        )
        assert page.status_code == 200
        assert page.url == f"{site}/"
        assert HELLO in page.text


# -- the example's own catalogue ---------------------------------------------------------------

EXAMPLE_LOCALE = ROOT / "example_project" / "locale"
EXAMPLE_PO = EXAMPLE_LOCALE / "tr" / "LC_MESSAGES" / "django.po"
#: The example speaks every language the package does.
EXAMPLE_LANGUAGES = ("ar", "de", "es", "fr", "ru", "tr")


@pytest.mark.parametrize("language", EXAMPLE_LANGUAGES)
def test_the_example_pages_are_translated(language: str) -> None:
    po = EXAMPLE_LOCALE / language / "LC_MESSAGES" / "django.po"
    entries = [entry for entry in read_po(po) if entry["msgid"]]
    assert {entry["msgid"] for entry in entries} == {
        entry["msgid"] for entry in read_po(EXAMPLE_PO) if entry["msgid"]
    }
    msgids = {entry["msgid"] for entry in entries}
    assert "Step one of two: your password. Single Connect then sends you a code." in msgids
    for entry in entries:
        assert "fuzzy" not in entry["flags"], entry["msgid"]
        assert all(translations(entry)), entry["msgid"]


def test_the_example_catalogue_is_compiled_and_complete(tmp_path: Path) -> None:
    msgfmt, xgettext = shutil.which("msgfmt"), shutil.which("xgettext")
    if msgfmt is None or xgettext is None:
        pytest.skip("GNU gettext's msgfmt and xgettext are not installed")
    for language in EXAMPLE_LANGUAGES:
        po = EXAMPLE_LOCALE / language / "LC_MESSAGES" / "django.po"
        fresh = tmp_path / f"{language}.mo"
        subprocess.run([msgfmt, "--check-format", "-o", str(fresh), str(po)], check=True)
        with po.with_suffix(".mo").open("rb") as shipped, fresh.open("rb") as compiled:
            assert (
                gettext.GNUTranslations(shipped)._catalog  # type: ignore[attr-defined]
                == gettext.GNUTranslations(compiled)._catalog  # type: ignore[attr-defined]
            ), f"example_project's {language} django.mo is stale: run compilemessages"

    copy = tmp_path / "example_project"
    shutil.copytree(
        ROOT / "example_project",
        copy,
        ignore=shutil.ignore_patterns("__pycache__", "*.mo", "staticfiles", "*.sqlite3"),
    )
    subprocess.run(
        [sys.executable, "-m", "django", "makemessages", "-l", "tr", "--no-obsolete"],
        cwd=copy,
        env={k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"},
        check=True,
        capture_output=True,
    )
    extracted = {entry["msgid"] for entry in read_po(copy / "locale/tr/LC_MESSAGES/django.po")}
    assert extracted - {entry["msgid"] for entry in read_po(EXAMPLE_PO)} == set()
