from __future__ import annotations

import io
import os
import re
import types
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.core.cache import caches
from django.test import Client
from django.utils import translation

from django_singleconnect import budget, signals, state, views
from django_singleconnect.client import close_sessions
from django_singleconnect.conf import forget_overrides
from django_singleconnect.simulator import Simulator

pytest_plugins = ["django_singleconnect.pytest_plugin"]

PASSWORD = "correct horse"


@pytest.fixture(autouse=True)
def _fresh_cache_and_pool() -> Iterator[None]:
    for cache in caches.all():
        cache.clear()
    forget_overrides()  # and this process's copy of the admin's values
    yield
    forget_overrides()
    close_sessions()


@pytest.fixture(autouse=True)
def _no_language_left() -> Iterator[None]:
    """LocaleMiddleware leaves the last request's language active in the thread: without
    this, a test that ends on a Russian page would turn the next tests' messages Russian."""
    yield
    translation.deactivate()


@pytest.fixture
def server() -> Iterator[Simulator]:
    """A simulator of its own; the settings still point at sc.example.com."""
    with Simulator(output=io.StringIO()) as running:
        yield running


@pytest.fixture
def simulator(singleconnect_simulator: Simulator) -> Simulator:
    """The Single Connect simulator, with the settings pointing at it."""
    return singleconnect_simulator


@pytest.fixture
def password() -> str:
    """The password of every user the fixtures create."""
    return PASSWORD


@pytest.fixture
def user(django_user_model: Any) -> Any:
    return django_user_model.objects.create_user("alice", password=PASSWORD)


@pytest.fixture
def staff(django_user_model: Any) -> Any:
    return django_user_model.objects.create_superuser("root", password=PASSWORD)


@pytest.fixture
def login() -> Callable[..., Any]:
    """Sign a client in with the password form, as a person would."""

    def login(client: Client, username: str = "alice", password: str = PASSWORD) -> Any:
        response = client.post("/accounts/login/", {"username": username, "password": password})
        assert response.status_code == 302, response.content
        return response

    return login


@pytest.fixture
def pass_code(simulator: Simulator) -> Callable[..., Any]:
    """Take a signed-in client through the code page with the right code."""

    def pass_code(client: Client, username: str = "alice", next_url: str = "/") -> Any:
        response = client.get("/2fa/verify/", {"next": next_url})
        assert response.status_code == 200, response.content
        code = simulator.current_code(username)
        assert code
        response = client.post("/2fa/verify/", {"token": code, "next": next_url})
        assert response.status_code == 302, response.content
        return response

    return pass_code


@pytest.fixture
def signed_in(client: Client, user: Any, login: Callable[..., Any], simulator: Simulator) -> Client:
    """``client``, signed in as alice with her password only."""
    login(client)
    return client


@pytest.fixture
def verified(signed_in: Client, pass_code: Callable[..., Any]) -> Client:
    """``client``, signed in as alice and past the code page."""
    pass_code(signed_in)
    return signed_in


class Clock:
    """Stands in for ``time.time()`` where the code step reads it."""

    def __init__(self, now: float = 1_750_000_000.0) -> None:
        self.now = now

    def time(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    clock = Clock()
    fake = types.SimpleNamespace(time=clock.time)
    monkeypatch.setattr(views, "time", fake)
    monkeypatch.setattr(state, "time", fake)
    monkeypatch.setattr(budget, "time", fake)
    return clock


@pytest.fixture
def hidden_next() -> Callable[[Any], list[str]]:
    """The ``next`` values of a page's hidden inputs."""

    def hidden_next(response: Any) -> list[str]:
        html = response.content.decode()
        return [
            value.replace("&amp;", "&")
            for value in re.findall(r'<input type="hidden" name="next" value="([^"]*)">', html)
        ]

    return hidden_next


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix: None) -> None:
    """Under mutmut, whose workers run side by side, a test database for each process."""
    if "MUTANT_UNDER_TEST" not in os.environ:
        return
    from django.conf import settings

    for database in settings.DATABASES.values():
        test = database.setdefault("TEST", {})
        if database["ENGINE"].endswith("sqlite3") and test.get("NAME"):
            test["NAME"] = f"{test['NAME']}.{os.getpid()}"


@pytest.fixture
def calls() -> Iterator[list[dict[str, Any]]]:
    """What ``singleconnect_called`` was sent with, call by call."""
    heard: list[dict[str, Any]] = []

    def receiver(**kwargs: Any) -> None:
        heard.append(kwargs)

    signals.singleconnect_called.connect(receiver)
    yield heard
    signals.singleconnect_called.disconnect(receiver)
