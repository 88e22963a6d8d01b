"""
Pytest fixtures for integrators' own tests (needs pytest-django).

Enable them in your ``conftest.py``::

    pytest_plugins = ["django_singleconnect.pytest_plugin"]

- ``singleconnect_simulator``: a running :class:`Simulator`, with the ``SINGLECONNECT_*``
  settings pointing at it for the duration of the test.
- ``singleconnect_user``: a fresh user; ``singleconnect_verified_client`` and
  ``singleconnect_verified_async_client``: pytest-django's ``client`` and ``async_client``,
  signed in as that user and past the Single Connect step.
- ``singleconnect_verify``: :func:`django_singleconnect.testing.verify_client`, to verify
  any client for any user.

With the plugin loaded, every test that makes the package call Single Connect anywhere but
on this machine (``localhost``, ``127.0.0.0/8``, ``::1``) fails at once: in a real project the
host in settings.py is the production Single Connect, and a forgotten fixture would send
real codes to real phones. A test that means to reach another host says so with
``@pytest.mark.singleconnect_any_host``.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from django_singleconnect.conf import forget_overrides
from django_singleconnect.simulator import Simulator
from django_singleconnect.testing import is_loopback, verify_client

ANY_HOST_MARKER = "singleconnect_any_host"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{ANY_HOST_MARKER}: let this test call Single Connect hosts outside loopback.",
    )


@pytest.fixture(autouse=True)
def _singleconnect_loopback_only(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    if request.node.get_closest_marker(ANY_HOST_MARKER) is not None:
        return
    # Imported here: the plugin is loaded before Django is set up.
    from django.views.decorators.debug import sensitive_variables

    from django_singleconnect.client import SingleConnectClient

    call = SingleConnectClient._call

    @sensitive_variables()  # the form (the code), in this frame and every one below
    def loopback_only(self: SingleConnectClient, node: str, endpoint: str, *args: Any) -> Any:
        url = self.url(endpoint, node)
        if not is_loopback(url):
            # pytest.fail raises an exception that is no Exception, so no view or
            # ``except Exception`` between here and the test can swallow it.
            pytest.fail(
                f"A test called Single Connect at {node!r} ({url}). Outside "
                "loopback that may be a real server sending real codes. Take the "
                "singleconnect_simulator fixture, or singleconnect_verified_client to skip "
                "the code step; a test that must reach that host can be marked "
                f"@pytest.mark.{ANY_HOST_MARKER}."
            )
        return call(self, node, endpoint, *args)

    monkeypatch.setattr(SingleConnectClient, "_call", loopback_only)


@pytest.fixture
def singleconnect_simulator(settings: Any) -> Iterator[Simulator]:
    with Simulator(output=io.StringIO()) as simulator:
        for name, value in simulator.django_settings().items():
            setattr(settings, name, value)
        settings.SINGLECONNECT_APPLICATION_NAME = (
            getattr(settings, "SINGLECONNECT_APPLICATION_NAME", None) or "simulated-app"
        )
        forget_overrides()
        yield simulator


@pytest.fixture
def singleconnect_user(db: None, django_user_model: Any, django_username_field: str) -> Any:
    """A fresh user, with no usable password."""
    name = username_for(django_username_field)
    return django_user_model.objects.create_user(**{django_username_field: name})


def username_for(field: str) -> str:
    """The fresh user's name: an e-mail address where the user model signs in with one."""
    return "singleconnect@example.com" if field == "email" else "singleconnect"


@pytest.fixture
def singleconnect_verify() -> Callable[..., Any]:
    """``verify_client(client, user)``: sign a test client in, past the code step."""
    return verify_client


@pytest.fixture
def singleconnect_verified_client(client: Any, singleconnect_user: Any) -> Any:
    """pytest-django's ``client``, signed in as ``singleconnect_user`` and verified."""
    return verify_client(client, singleconnect_user)


@pytest.fixture
def singleconnect_verified_async_client(async_client: Any, singleconnect_user: Any) -> Any:
    """pytest-django's ``async_client``, signed in as ``singleconnect_user`` and verified."""
    return verify_client(async_client, singleconnect_user)
