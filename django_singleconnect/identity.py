"""
Whom Single Connect is asked about: the user's Single Connect username, worked out once when
the login starts the step, and the normalised key every counter of that name is kept under.
"""

from __future__ import annotations

import logging
import unicodedata
from typing import Any

from django.utils.module_loading import import_string

from .conf import Settings
from .logs import fields

logger = logging.getLogger("django_singleconnect")


def map_username(user: Any, config: Settings) -> str:
    """
    The user's name in Single Connect: ``SINGLECONNECT_USERNAME``, else the username. An
    empty string when the mapping gives no usable name (None, blank) or raises: the code
    page then refuses the step, and Single Connect is never called.
    """
    try:
        name = import_string(config.USERNAME)(user) if config.USERNAME else user.get_username()
    except Exception:
        logger.exception(
            "SINGLECONNECT_USERNAME (%s) raised for user pk=%s: no Single Connect username",
            config.USERNAME,
            getattr(user, "pk", None),
            extra=fields("no_username", outcome="not_set_up", cause="raised"),
        )
        return ""
    if name is None or not str(name).strip():
        logger.error(
            "SINGLECONNECT_USERNAME (%s) gave no name for user pk=%s: no Single Connect username",
            config.USERNAME or "get_username()",
            getattr(user, "pk", None),
            extra=fields("no_username", outcome="not_set_up", cause="no_name"),
        )
        return ""
    return str(name)


def counter_key(username: str) -> str:
    """The key of the lockout, the code budget and the replay guard: "Vic" and "vic" share one."""
    return unicodedata.normalize("NFKC", username).casefold()
