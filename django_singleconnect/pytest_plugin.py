"""
A pytest fixture for integrators' own tests (needs pytest-django).

Enable it in your ``conftest.py``::

    pytest_plugins = ["django_singleconnect.pytest_plugin"]

then take ``singleconnect_simulator`` in a test: a running :class:`Simulator`, with the
``SINGLECONNECT_*`` settings pointing at it for the duration of the test.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

import pytest

from django_singleconnect.conf import forget_overrides
from django_singleconnect.simulator import Simulator


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
