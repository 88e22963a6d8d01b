"""
Values computed from ``django.conf.settings``, kept until the settings change.

Each value is computed once per settings object: ``override_settings`` (and pytest-django's
``settings`` fixture, which uses it) puts another object in force, which starts afresh, and
``setting_changed`` drops everything too. A settings object changed in place at run time
(``settings.X = ...`` outside ``override_settings``, which Django does not support) is not seen.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from django.conf import settings
from django.core.signals import setting_changed
from django.utils.functional import empty

T = TypeVar("T")


class _Computed:
    """The values computed from one settings object."""

    def __init__(self, source: object) -> None:
        self.source = source
        self.values: dict[str, Any] = {}


_computed = _Computed(empty)


def computed(key: str, read: Callable[[Any, str], Any], convert: Callable[[Any], T]) -> T:
    """
    ``convert(read(settings, key))``, computed once per settings object. Every call for one
    ``key`` must pass the same ``read`` and ``convert``.

    No lock: two threads may both compute a value, and then keep the same one.
    """
    global _computed
    # The settings object in force (django-stubs types ``settings`` as that object itself).
    source = settings._wrapped  # type: ignore[misc]
    if source is empty:  # not set up yet: this read sets them up, the next one keeps it
        return convert(read(settings, key))
    kept = _computed
    if kept.source is not source:
        kept = _computed = _Computed(source)
    try:
        return kept.values[key]  # type: ignore[no-any-return]
    except KeyError:
        pass
    # Read from ``source``, not through the lazy object: what is kept for a settings object
    # is what that object holds, even while another thread puts other settings in force.
    value = kept.values[key] = convert(read(source, key))
    return value


def forget(**kwargs: Any) -> None:
    """Drop every value (``setting_changed``'s receiver)."""
    global _computed
    _computed = _Computed(empty)


# Connected here, not in ready(): the values are never kept without the receiver that drops them.
setting_changed.connect(forget, dispatch_uid="django_singleconnect.settings_cache.forget")
