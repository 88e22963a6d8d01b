from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.core.cache import caches

from django_singleconnect.client import close_sessions

pytest_plugins = ["django_singleconnect.pytest_plugin"]


@pytest.fixture(autouse=True)
def _fresh_cache_and_pool() -> Iterator[None]:
    for cache in caches.all():
        cache.clear()
    yield
    close_sessions()
