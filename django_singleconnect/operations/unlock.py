"""
What ``manage.py singleconnect_unlock`` does: clear lockouts, as the admin's action "Clear
the lockout" does, each clearance a "Lockout cleared" row of the audit log naming who.

Only the wrong-code counter is cleared: remembered browsers forgotten by the lockout, the
code budget and the sessions stay as they are.
"""

from __future__ import annotations

import getpass
import logging
import os
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.db import router, transaction
from django.utils import timezone

from .. import lockout
from ..conf import Settings
from ..history import DETAIL_LENGTH
from ..identity import counter_key, map_username
from ..lockout import Cleared
from ..logs import fields
from ..models import AttemptCounter, VerificationEvent

logger = logging.getLogger("django_singleconnect")


class NoSingleConnectName(Exception):
    """``SINGLECONNECT_USERNAME`` gives no Single Connect name for this Django user."""


@dataclass(frozen=True)
class Target:
    """Whose counter to clear: the key it is kept under, and the Django user it came from."""

    key: str
    django_user: Any = None
    single_connect_name: str = ""


def operator() -> str:
    """Who runs the command, as the operating system knows them."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # a uid with no name (a container), no LOGNAME or USER
        return f"uid {os.getuid()}" if hasattr(os, "getuid") else "unknown"


def target(name: str, config: Settings, *, as_is: bool = False) -> Target:
    """
    The counter of ``name``, a Single Connect username. A Django username is mapped through
    ``SINGLECONNECT_USERNAME`` first (``as_is`` skips that), as the code page does.
    """
    if not as_is:
        model: Any = get_user_model()
        user = model._default_manager.filter(**{model.USERNAME_FIELD: name}).first()
        if user is not None:
            mapped = map_username(user, config)
            if not mapped:
                raise NoSingleConnectName(name)
            return Target(counter_key(mapped), user, mapped)
    return Target(counter_key(name))


def unlock(key: str, who: str) -> Cleared | None:
    """Clear the counter kept under ``key``; None when it held nothing to clear."""
    now = timezone.now()
    with transaction.atomic(using=router.db_for_write(AttemptCounter)):
        row = AttemptCounter.objects.select_for_update().filter(username=key).first()
        if row is None:
            return None
        cleared = Cleared.of(row, now)
        if not (cleared.failures or cleared.locked_until or cleared.lockouts):
            return None
        lockout.reset(key)
        detail = f"by singleconnect_unlock (OS user {who}): {cleared.describe()}"
        VerificationEvent.objects.create(
            user=None,
            username=key,
            event=VerificationEvent.Kind.LOCKOUT_CLEARED,
            detail=detail[:DETAIL_LENGTH],
        )
    logger.warning(
        "Lockout of %r cleared %s",
        key,
        detail,
        extra=fields("lockout_cleared", username=key, outcome="cleared"),
    )
    return cleared


def unlock_all(who: str) -> list[Cleared]:
    """Clear every lockout in force now, the oldest lockout first."""
    locked = (
        AttemptCounter.objects.filter(locked_until__gt=timezone.now())
        .order_by("last_lockout_at", "pk")
        .values_list("username", flat=True)
    )
    cleared = [unlock(key, who) for key in list(locked)]
    return [each for each in cleared if each is not None]
