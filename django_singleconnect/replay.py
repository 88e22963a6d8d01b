"""
A code that verified a login is refused for the same user for
``SINGLECONNECT_REPLAY_SECONDS``, whatever Single Connect would say. Only a keyed hash of
the username and the code is kept, in the database, so every process and host agrees.
"""

from __future__ import annotations

import datetime as dt
import threading
import time

from django.db import IntegrityError, router, transaction
from django.utils import timezone
from django.utils.crypto import salted_hmac

from .models import UsedCode

SALT = "django_singleconnect.replay"
#: Rows older than the window are deleted at most this often by each process. They do not
#: count either way before that: both functions below only look inside the window.
PURGE_INTERVAL = 60.0

_purge_lock = threading.Lock()
_next_purge = 0.0


def _digest(username: str, token: str) -> str:
    return salted_hmac(SALT, f"{username}\x00{token}", algorithm="sha256").hexdigest()


def _window(seconds: int) -> dt.datetime:
    return timezone.now() - dt.timedelta(seconds=seconds)


def was_used(username: str, token: str, seconds: int) -> bool:
    """Whether this code verified a login of ``username`` in the last ``seconds``."""
    return UsedCode.objects.filter(
        digest=_digest(username, token), created_at__gt=_window(seconds)
    ).exists()


class Kept(Exception):
    """The code is kept already (``keep``)."""


def keep(username: str, token: str) -> None:
    """
    Keep the code's hash, as the first statement of the caller's transaction: when the
    INSERT fails (``Kept``), nothing was written before it and the transaction is rolled back
    as a whole, so it needs no savepoint. ``take_over`` tells whether the row is outdated.
    """
    try:
        UsedCode.objects.create(digest=_digest(username, token))
    except IntegrityError:
        raise Kept from None


def take_over(username: str, token: str, seconds: int) -> bool:
    """The kept code verified a login before the window: one request only takes its row."""
    return bool(
        UsedCode.objects.filter(
            digest=_digest(username, token), created_at__lte=_window(seconds)
        ).update(created_at=timezone.now())
    )


def remember(username: str, token: str, seconds: int) -> bool:
    """
    Keep the code's hash. False when the code is already kept: a request checked alongside
    this one, which ``was_used`` could not see yet, used it first.
    """
    digest = _digest(username, token)
    try:
        with transaction.atomic(using=router.db_for_write(UsedCode)):
            UsedCode.objects.create(digest=digest)
        created = True
    except IntegrityError:
        # The same code verified a login before the window: the row is taken over, by one
        # request only, or the code is in use now.
        created = bool(
            UsedCode.objects.filter(digest=digest, created_at__lte=_window(seconds)).update(
                created_at=timezone.now()
            )
        )
    purge_now_and_then(seconds)
    return created


def purge_now_and_then(seconds: int) -> None:
    """Delete the rows older than the window, once a ``PURGE_INTERVAL`` in this process."""
    global _next_purge
    now = time.monotonic()
    with _purge_lock:
        if now < _next_purge:
            return
        _next_purge = now + PURGE_INTERVAL
    UsedCode.objects.filter(created_at__lte=_window(seconds)).delete()
