"""
The trace a change of the Single Connect settings leaves: each field's old and new value,
a log warning and a signal. ``SingleConnectConfiguration.save`` writes the audit row.

The settings row decides whom the site trusts (the host name verifies every code), so no
change of it may go unseen, whichever way it was made.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from . import signals
from .conf import OPTIONS
from .logs import fields

logger = logging.getLogger("django_singleconnect")

MASK = "•••"
#: The audit row's one-line ``detail`` holds this much; the full values are in ``changes``.
DETAIL_LENGTH = 255

Changes = dict[str, list[Any]]


def _kept(setting: str, value: Any) -> Any:
    """A value as the trace keeps it: a secret masked, an empty one as None."""
    if value in (None, ""):
        return None
    return MASK if OPTIONS[setting].secret else value


def changes(before: Any, after: Any, fields: Mapping[str, str]) -> Changes:
    """
    ``{field: [old, new]}`` for each of ``fields`` (field -> setting name) that differs
    between two rows; ``before`` is None for a new row.
    """
    found = {}
    for field, setting in fields.items():
        old = _kept(setting, getattr(before, field, None))
        new = _kept(setting, getattr(after, field))
        if old != new:
            found[field] = [old, new]
    return found


def describe(found: Changes) -> str:
    """One line for the audit list and the log, e.g. ``hostname: 'a' → 'b'``."""
    text = "; ".join(f"{field}: {old!r} → {new!r}" for field, (old, new) in found.items())
    return text if len(text) <= DETAIL_LENGTH else text[: DETAIL_LENGTH - 1] + "…"


def who(user: Any) -> Any:
    """The signed-in user who made a change, or None (a shell, a migration)."""
    return user if user is not None and user.is_authenticated else None


def announce(sender: type, found: Changes, user: Any) -> None:
    """The log warning and the ``settings_changed`` signal for one saved change."""
    logger.warning(
        "Single Connect settings changed by %s: %s",
        repr(user.get_username()) if user is not None else "nobody signed in",
        describe(found),
        # The staff user is no Single Connect username: only the message names them.
        extra=fields("settings_changed", outcome="changed"),
    )
    signals.settings_changed.send(
        sender=sender,
        user=user,
        changes={field: (old, new) for field, (old, new) in found.items()},
    )
