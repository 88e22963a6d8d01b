"""Kron Single Connect one-time-password check as a second login step for Django."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from django.http import HttpRequest

__version__ = "0.1.0"

__all__ = ["__version__", "ais_verified", "is_verified"]


def is_verified(request: HttpRequest) -> bool:
    """Whether this request's user passed the Single Connect step in this login."""
    from .state import is_verified as _is_verified

    return _is_verified(request)


async def ais_verified(request: HttpRequest) -> bool:
    """``is_verified`` for async views: it loads the session and the user with ``await``."""
    from .state import ais_verified as _ais_verified

    return await _ais_verified(request)
