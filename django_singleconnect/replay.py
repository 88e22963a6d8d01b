"""
A code that verified a login is refused for the same user for
``SINGLECONNECT_REPLAY_SECONDS``, whatever Single Connect would say. Only a keyed hash of
the username and the code is kept, in the database, so every process and host agrees.
"""

from __future__ import annotations

import datetime as dt

from django.utils import timezone
from django.utils.crypto import salted_hmac

from .models import UsedCode

SALT = "django_singleconnect.replay"


def _digest(username: str, token: str) -> str:
    return salted_hmac(SALT, f"{username}\x00{token}", algorithm="sha256").hexdigest()


def _window(seconds: int) -> dt.datetime:
    return timezone.now() - dt.timedelta(seconds=seconds)


def was_used(username: str, token: str, seconds: int) -> bool:
    """Whether this code verified a login of ``username`` in the last ``seconds``."""
    return UsedCode.objects.filter(
        digest=_digest(username, token), created_at__gt=_window(seconds)
    ).exists()


def remember(username: str, token: str, seconds: int) -> bool:
    """
    Keep the code's hash; forget those older than the window.

    False when the code is already kept: a request checked alongside this one, which
    ``was_used`` could not see yet, used it first.
    """
    UsedCode.objects.filter(created_at__lte=_window(seconds)).delete()
    _, created = UsedCode.objects.get_or_create(digest=_digest(username, token))
    return created
