"""
The README, followed as written: the two commands it leads with, "Installation in your
project" on a project fresh from ``django-admin startproject``, then the example of "Testing
your project" run by pytest in that project. The snippets are taken from the README itself,
so they cannot drift from it.
"""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from django_singleconnect.simulator import Simulator
from tests.helpers import ROOT, environment

README = (ROOT / "README.md").read_text(encoding="utf-8")
MAKEFILE = (ROOT / "Makefile").read_text(encoding="utf-8")
FENCE = re.compile(r"^( *)```[a-z]*\n(.*?)^\1```$", re.MULTILINE | re.DOTALL)
CHECK_ID = re.compile(r"\(([a-z_.]+\.[EW]\d{3})\)")


def block(first_line: str) -> str:
    """The README's code block that starts with ``first_line``, unindented."""
    found = [textwrap.dedent(body) for _, body in FENCE.findall(README) if body.strip()]
    matching = [body for body in found if body.splitlines()[0] == first_line]
    assert len(matching) == 1, f"no single README block starts with {first_line!r}"
    return matching[0]


def section(heading: str) -> str:
    """The README's section under ``## heading``, up to the next one."""
    start = README.index(f"\n## {heading}\n")
    end = README.find("\n## ", start + 1)
    return README[start : end if end != -1 else len(README)]


def run(*args: str, cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    # The package of this checkout, whatever pip installed.
    env = environment(PYTHONPATH=str(ROOT))
    return subprocess.run(
        [sys.executable, *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=timeout,
    )


def insert_after(text: str, anchor: str, line: str) -> str:
    """``line`` after the line of ``text`` holding ``anchor``."""
    index = text.index("\n", text.index(anchor)) + 1
    return text[:index] + line + "\n" + text[index:]


def install(site: Path, simulator: Simulator) -> None:
    """The steps of "Installation in your project", as a newcomer types them."""
    settings = site / "mysite" / "settings.py"
    text = settings.read_text()
    text = insert_after(text, "INSTALLED_APPS = [", '    "django_singleconnect",')  # step 2
    text = insert_after(  # step 3
        text,
        "AuthenticationMiddleware",
        '    "django_singleconnect.middleware.SingleConnectMiddleware",',
    )
    assert "'DIRS': []," in text
    text = text.replace("'DIRS': [],", '"DIRS": [BASE_DIR / "templates"],')  # step 5
    text += "\n" + block("# mysite/settings.py, at the end")  # step 6
    text += "\n" + block("# mysite/settings.py, for development")
    # The only line not in the README: the simulator of this test is on a port of its own.
    text += f"\nSINGLECONNECT_HOSTNAME = {simulator.hostname!r}\n"
    settings.write_text(text)
    (site / "mysite" / "urls.py").write_text(block("# mysite/urls.py"))  # step 4
    (site / "templates" / "registration").mkdir(parents=True)
    (site / "templates" / "registration" / "login.html").write_text(
        block("{# templates/registration/login.html #}")
    )
    (site / "mysite" / "views.py").write_text(block("# mysite/views.py"))  # step 8


#: A person's way through the fresh site, with Django's test client.
WALK = """
import json, urllib.request
from django.test import Client
from django.test.utils import setup_test_environment
from django.contrib.auth.models import User

setup_test_environment()
simulator = SIMULATOR_URL
User.objects.create_user("alice", password="pw")
client = Client()
seen = []
response = client.get("/")
seen.append((response.status_code, response["Location"]))
seen.append(client.get(response["Location"]).status_code)
response = client.post("/accounts/login/", {"username": "alice", "password": "pw"})
seen.append((response.status_code, response["Location"]))
response = client.get("/")
seen.append((response.status_code, response["Location"]))
seen.append(client.get(response["Location"]).status_code)
with urllib.request.urlopen(simulator + "/_simulator/otp?username=alice") as answer:
    code = answer.read().decode().strip()
response = client.post("/2fa/verify/", {"token": code})
seen.append((response.status_code, response["Location"]))
response = client.get("/")
seen.append((response.status_code, response.content.decode()))
print(json.dumps(seen))
"""

#: Not in the README: the test a newcomer forgets the simulator in.
FORGOTTEN = """
from django.test import override_settings


@override_settings(SINGLECONNECT_HOSTNAME="singleconnect.example.com")
def test_the_simulator_forgotten(client, django_user_model):
    client.force_login(django_user_model.objects.create_user("carol"))
    client.get("/2fa/verify/")
"""


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh ``django-admin startproject mysite``."""
    site = tmp_path_factory.mktemp("fresh") / "site"
    site.mkdir()
    result = run("-m", "django", "startproject", "mysite", str(site), cwd=site)
    assert result.returncode == 0, result.stderr
    return site


def test_the_installation_steps_on_a_fresh_project(site: Path, server: Simulator) -> None:
    install(site, server)

    result = run("manage.py", "check", cwd=site)
    assert result.returncode == 0, result.stderr
    # Only the warning the README announces for the simulator's http.
    assert CHECK_ID.findall(result.stdout + result.stderr) == ["django_singleconnect.W001"]

    result = run("manage.py", "migrate", "--no-input", cwd=site)
    assert result.returncode == 0, result.stderr

    result = run(
        "manage.py", "shell", "-c", WALK.replace("SIMULATOR_URL", repr(server.url)), cwd=site
    )
    assert result.returncode == 0, result.stderr
    seen = result.stdout.strip().splitlines()[-1]
    assert seen == (
        '[[302, "/accounts/login/?next=/"], 200, [302, "/"], '
        '[302, "/2fa/verify/?next=%2F"], 200, [302, "/"], '
        '[200, "Hello alice, you passed the Single Connect step."]]'
    )

    # "Testing your project", in the same project.
    (site / "pyproject.toml").write_text(block("[tool.pytest.ini_options]"))
    (site / "conftest.py").write_text(block("# conftest.py"))
    (site / "tests").mkdir()
    (site / "tests" / "test_dashboard.py").write_text(block("# tests/test_dashboard.py"))
    (site / "tests" / "test_forgotten.py").write_text(FORGOTTEN)
    result = run("-m", "pytest", "-p", "no:cacheprovider", "-rA", cwd=site)
    output = result.stdout + result.stderr
    assert "1 failed, 3 passed" in output, output
    assert "PASSED tests/test_dashboard.py::test_the_dashboard" in output
    assert "PASSED tests/test_dashboard.py::test_the_password_alone_is_not_enough" in output
    assert "PASSED tests/test_dashboard.py::test_the_code_step_itself" in output
    assert "FAILED tests/test_forgotten.py::test_the_simulator_forgotten" in output
    assert "A test called Single Connect at 'singleconnect.example.com'" in output


def test_the_installation_names_what_a_fresh_project_lacks() -> None:
    installation = README[
        README.index("## Installation in your project") : README.index("## How it works")
    ]
    for needed in (
        "git+https://",
        "/path/to/django-singleconnect",
        'include("django.contrib.auth.urls")',
        "registration/login.html",
        'LOGIN_REDIRECT_URL = "/"',
        'SINGLECONNECT_SCHEME = "http"',
        "manage.py singleconnect_simulator --port 8765",
    ):
        assert needed in installation, needed


def test_the_readme_leads_with_the_two_commands() -> None:
    first = README.index("\n## ")
    assert README[first:].startswith("\n## Try it: two commands\n")
    try_it = section("Try it: two commands")
    assert block("make demo") == "make demo\n"
    assert block("make test") == "make test\n"
    assert "make demo ADDRPORT=127.0.0.1:8001" in try_it
    assert "skipped with a note when Chromium is" in try_it
    # Targets of the Makefile, which also takes the variables the README names.
    targets = re.findall(r"^([a-z]+):", MAKEFILE, re.MULTILINE)
    assert {"demo", "test", "install", "screenshots"} <= set(targets)
    for variable in ("ADDRPORT", "PYTHON", "EXTRAS"):
        assert re.search(rf"^{variable} \?= ", MAKEFILE, re.MULTILINE), variable


def test_the_pictures_the_readme_shows_are_committed() -> None:
    shown = re.findall(r'<img src="([^"]+)"', README)
    assert shown == ["docs/images/code-page.png", "docs/images/phone.png"]
    for name in shown:
        assert (ROOT / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", name
    # Every picture CONTRIBUTING.md lists, and no other, is in docs/images/.
    contributing = (ROOT / "CONTRIBUTING.md").read_text(encoding="utf-8")
    start = contributing.index("## Screenshots")
    section = contributing[start : contributing.index("```sh", start)]
    listed = set(re.findall(r"`([a-z-]+\.png)`", section))
    assert listed == {path.name for path in (ROOT / "docs" / "images").glob("*.png")}


def test_the_integrators_path_comes_before_the_contributors() -> None:
    headings = re.findall(r"^## (.+)$", README, re.MULTILINE)
    assert headings[:4] == [
        "Try it: two commands",
        "Requirements",
        "Installation in your project",
        "How it works",
    ]
    assert headings[-1] == "Contributing"
    # The gates live in CONTRIBUTING.md, which the README points to.
    assert "](CONTRIBUTING.md)" in section("Try it: two commands")
    assert "](CONTRIBUTING.md)" in section("Contributing")
    contributing = (ROOT / "CONTRIBUTING.md").read_text(encoding="utf-8")
    for heading in ("Each gate alone", "Mutation testing", "Benchmarks", "Translations"):
        assert f"\n## {heading}\n" in contributing
        assert heading not in README
    assert "scripts/translations.py fill" in contributing
