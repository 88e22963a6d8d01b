"""
The second-factor state kept in the session.

The verified mark names the user and the session's authentication hash (which changes with
the password), and it is dropped at every login, so it holds for one user in one login and
nothing else. No code is ever stored.
"""

from __future__ import annotations

import secrets
import time
from typing import Any, TypedDict, cast

from django.contrib.auth import HASH_SESSION_KEY
from django.contrib.sessions.backends.base import SessionBase
from django.http import HttpRequest
from django.utils.crypto import constant_time_compare

from .conf import Settings, get_config
from .identity import map_username

VERIFIED_KEY = "_singleconnect_verified"
PENDING_KEY = "_singleconnect_pending"


class Mark(TypedDict):
    user: str
    auth: str
    #: When the session was marked, whatever marked it (SINGLECONNECT_VERIFIED_MAX_AGE).
    at: float
    method: str
    #: When a code was last typed in this login: None when a remembered browser marked it.
    code_at: float | None


class Pending(TypedDict):
    user: str
    auth: str
    started: float
    #: A random name of this login, under which the code budget keeps its codes.
    login: str
    #: The Single Connect username, fixed when the login started ("" when there is none).
    username: str
    notice: str
    #: Single Connect said OTP is not active and the policy denied the step.
    denied: bool
    #: The node that issued the latest code: its otpvalid goes there. Until the first, the
    #: first node when the login started, so that the usual first code (from that node)
    #: changes nothing in the session. A step begun by an earlier release may have none or
    #: "": read it with ``.get("node", "")``.
    node: str


def _binding(user: Any, session_hash: Any) -> tuple[str, str]:
    return str(user.pk), str(session_hash or "")


def _holds(value: Any, user: Any, session_hash: Any) -> bool:
    if not isinstance(value, dict) or user is None or not user.is_authenticated:
        return False
    user_pk, auth = _binding(user, session_hash)
    return value.get("user") == user_pk and constant_time_compare(str(value.get("auth", "")), auth)


def fresh_enough(mark: Any, max_age: float | None = None) -> bool:
    """
    Whether a verified mark is young enough: marked within ``SINGLECONNECT_VERIFIED_MAX_AGE``
    (settings.py only, so no cache is read), and, for ``max_age``, a code typed within it.
    """
    now = time.time()
    limit = Settings().VERIFIED_MAX_AGE
    if limit is not None and now - float(mark.get("at", 0)) > limit:
        return False
    if max_age is None:
        return True
    code_at = mark.get("code_at")
    if code_at is None and "code_at" not in mark and mark.get("method") == "otp":
        code_at = mark.get("at")  # a mark of an earlier release
    return code_at is not None and now - float(code_at) <= max_age


def is_verified(request: HttpRequest, max_age: float | None = None) -> bool:
    """
    Whether this request's user passed the second-factor step in this login; with
    ``max_age``, by typing a code no more than that many seconds ago.
    """
    session = getattr(request, "session", None)
    if session is None:
        return False
    mark = session.get(VERIFIED_KEY)
    if mark is None:
        return False
    user = getattr(request, "user", None)
    return _holds(mark, user, session.get(HASH_SESSION_KEY)) and fresh_enough(mark, max_age)


async def ais_verified(request: HttpRequest, max_age: float | None = None) -> bool:
    """``is_verified`` for async code, where the session and user must be loaded with await."""
    session = getattr(request, "session", None)
    if session is None:
        return False
    mark = await session.aget(VERIFIED_KEY)
    if mark is None:
        return False
    user = await request.auser()
    holds = _holds(mark, user, await session.aget(HASH_SESSION_KEY))
    return holds and fresh_enough(mark, max_age)


def start_pending(session: SessionBase, user: Any, *, step_up: bool = False) -> Pending:
    """
    A new login: drop any earlier mark, start the step's clock and fix whom Single Connect
    is asked about for the rest of this login. A step-up (a fresh code for a view that
    needs one) keeps the mark: the user stays verified for the other views meanwhile.
    """
    if not step_up:
        session.pop(VERIFIED_KEY, None)
    user_pk, auth = _binding(user, session.get(HASH_SESSION_KEY))
    config = get_config()
    nodes = config.NODES
    pending: Pending = {
        "user": user_pk,
        "auth": auth,
        "started": time.time(),
        "login": secrets.token_urlsafe(12),
        "username": map_username(user, config),
        "notice": "",
        "denied": False,
        "node": nodes[0] if nodes else "",
    }
    session[PENDING_KEY] = pending
    return pending


def get_pending(request: HttpRequest, *, step_up: bool = False) -> Pending:
    """
    The step under way for this login. A session that reached here without a login the
    app saw (installed mid-session, or the password changed since), starts one now; so
    does a verified session asked for a fresh code (``step_up``).
    """
    session = request.session
    pending = session.get(PENDING_KEY)
    holds = _holds(pending, request.user, session.get(HASH_SESSION_KEY))
    # A step begun by an earlier release has no login name nor fixed username: begin anew.
    if not holds or "login" not in cast(Pending, pending):
        return start_pending(session, request.user, step_up=step_up)
    return cast(Pending, pending)


def save_pending(request: HttpRequest, pending: Pending) -> None:
    request.session[PENDING_KEY] = pending


def mark_verified(request: HttpRequest, method: str) -> None:
    """
    Mark the session verified, under a new session key. ``method``: ``"otp"`` (a code was
    typed), ``"otp_inactive"`` (the policy let a user without OTP pass) or ``"remembered"``
    (a remembered browser: verified, but no code typed, so no step-up is satisfied).

    The key is cycled as ``flush`` does it: the old session is deleted now and the data
    kept in memory, so that the new key is created when the session is saved, with the
    mark, in one write. (``cycle_key`` writes the new session twice: once when the key is
    made, once more with the mark.) Until that save, ``session_key`` is None.
    """
    session = request.session
    data = dict(session.items())
    session.flush()
    session.update(data)
    user_pk, auth = _binding(request.user, session.get(HASH_SESSION_KEY))
    now = time.time()
    mark: Mark = {
        "user": user_pk,
        "auth": auth,
        "at": now,
        "method": method,
        "code_at": None if method == "remembered" else now,
    }
    session[VERIFIED_KEY] = mark
    session.pop(PENDING_KEY, None)


def on_user_logged_in(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    """Every password login, the admin's included, starts a new second-factor step."""
    if request is not None and hasattr(request, "session"):
        start_pending(request.session, user)
