"""
Remembered browsers: a login from a browser the user asked to remember skips the code.

The cookie holds a row's number and a random secret, signed; the row (``RememberedBrowser``)
keeps only the secret's hash, and binds the browser to the user, to their password (a new
password ends it) and to the Single Connect username. So the cookie is worth nothing for
another user, after a password change, once revoked or once expired, and every remembered
browser can be listed and forgotten, by its user and by staff.

Each user has a cookie of their own, named after them: a second user signing in on the same
browser neither gets in by the first one's cookie nor loses their own.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from typing import Any

from django.core import signing
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import constant_time_compare

from .conf import Settings
from .models import RememberedBrowser

COOKIE_PREFIX = "singleconnect_browser_"
SALT = "django_singleconnect.remember"
LABEL_LENGTH = 200


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def cookie_name(user: Any) -> str:
    return f"{COOKIE_PREFIX}{user.pk}"


def _cookie_path() -> str:
    """Only the package's own pages need the cookie: the folder of the code page."""
    return reverse("singleconnect:verify").rstrip("/").rpartition("/")[0] + "/"


def may_remember(user: Any, config: Settings) -> bool:
    """Whether the code page offers "remember this browser" to ``user``."""
    if config.REMEMBER_DAYS <= 0:
        return False
    return config.REMEMBER_STAFF or not (user.is_staff or user.is_superuser)


def remember(
    request: HttpRequest, response: HttpResponse, username_key: str, config: Settings
) -> RememberedBrowser:
    """Remember this browser for ``request.user``: a row, and the cookie on ``response``."""
    user: Any = request.user  # signed in: the code page saw to it
    secret = secrets.token_urlsafe(32)
    days = config.REMEMBER_DAYS
    browser = RememberedBrowser.objects.create(
        user=user,
        username=username_key,
        secret_digest=_digest(secret),
        password_digest=_digest(user.password or ""),
        label=request.headers.get("User-Agent", "")[:LABEL_LENGTH],
        expires_at=timezone.now() + dt.timedelta(days=days),
    )
    response.set_cookie(
        cookie_name(user),
        signing.dumps({"id": browser.pk, "s": secret}, salt=SALT),
        max_age=days * 86400,
        path=_cookie_path(),
        secure=request.is_secure(),
        httponly=True,
        samesite="Lax",
    )
    return browser


def recognised(
    request: HttpRequest, username_key: str, config: Settings
) -> RememberedBrowser | None:
    """
    The row of this browser when its cookie holds for ``request.user`` now: signed, not
    expired or revoked, of this user, this password and this Single Connect username.
    """
    if config.REMEMBER_DAYS <= 0 or not may_remember(request.user, config):
        return None
    user: Any = request.user
    raw = request.COOKIES.get(cookie_name(user))
    if not raw:
        return None
    try:
        # SECRET_KEY_FALLBACKS are tried too: a key rotation keeps browsers remembered.
        value = signing.loads(raw, salt=SALT, max_age=config.REMEMBER_DAYS * 86400)
        number, secret = int(value["id"]), str(value["s"])
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        return None
    now = timezone.now()
    browser = RememberedBrowser.objects.filter(pk=number, expires_at__gt=now).first()
    if (
        browser is None
        or browser.user_id != user.pk
        or browser.username != username_key
        or not constant_time_compare(browser.secret_digest, _digest(secret))
        or not constant_time_compare(
            browser.password_digest,
            _digest(user.password or ""),
        )
    ):
        return None
    RememberedBrowser.objects.filter(pk=browser.pk).update(last_used_at=now)
    return browser


def forget_cookie(response: HttpResponse, user: Any) -> None:
    response.delete_cookie(cookie_name(user), path=_cookie_path(), samesite="Lax")


def forget_username(username_key: str) -> int:
    """Revoke every browser remembered for a Single Connect username (a lockout)."""
    count, _ = RememberedBrowser.objects.filter(username=username_key).delete()
    return count
