"""
Keeps the package's secret settings off Django's technical error pages.

The DEBUG 500 and 400 pages list the settings, hiding those whose names match
``SafeExceptionReporterFilter.hidden_settings`` (``API``, ``TOKEN``, ``KEY``, ``SECRET``,
``PASS``...). ``SINGLECONNECT_COOKIES`` and ``SINGLECONNECT_EXTRA_HEADERS`` match none of
them, nor does ``SINGLECONNECT_PROXIES``, whose URLs may carry a password; the app adds
them when it starts, so a site has nothing to configure. And on the package's own views
the filter stays active with DEBUG on, so that the code never shows in the POST data or in
a frame's variables (:func:`hidden_on_debug_pages`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.views.debug import SafeExceptionReporterFilter, get_default_exception_reporter_filter

from .conf import OPTIONS

HIDDEN = tuple(
    sorted(
        {option.setting for option in OPTIONS.values() if option.secret} | {"SINGLECONNECT_PROXIES"}
    )
)


def hide_secret_settings(reporter: type[SafeExceptionReporterFilter] | None = None) -> None:
    """Add :data:`HIDDEN` to the names the error reporter's filter hides (once)."""
    reporter = reporter or SafeExceptionReporterFilter
    current = reporter.hidden_settings
    names = "|".join(re.escape(name) for name in HIDDEN)
    extra = f"^(?:{names})$"
    if extra in current.pattern:
        return
    reporter.hidden_settings = re.compile(f"{current.pattern}|{extra}", current.flags)


_always_active_classes: dict[type, type] = {}


def _always_active(filter_class: type) -> type:
    """The site's own filter class, active with DEBUG on too (made once per class)."""

    def is_active(self: SafeExceptionReporterFilter, request: HttpRequest) -> bool:
        return True

    if filter_class not in _always_active_classes:
        _always_active_classes[filter_class] = type(
            f"SingleConnect{filter_class.__name__}", (filter_class,), {"is_active": is_active}
        )
    return _always_active_classes[filter_class]


def hidden_on_debug_pages(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """
    Django's error reporter filter is active only with DEBUG off: on a DEBUG page the code
    would show in the POST data and in every frame's variables. On the package's views it
    is active whatever DEBUG says (the site's own filter class, extended).
    """

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        site_filter = get_default_exception_reporter_filter()
        request.exception_reporter_filter = _always_active(type(site_filter))()
        return view(request, *args, **kwargs)

    return wrapper
