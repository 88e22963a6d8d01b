"""
The HTTP sessions of the client: one pool per configuration, shared by every user, so they
keep no cookie; no redirect followed, no retry of a request that may have left.
"""

from __future__ import annotations

import http.cookiejar
import os
import threading
from typing import Any
from urllib.parse import urlencode

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from .. import __version__
from .deadline import POOL_CLASSES
from .slots import call_slots

POOL_MAXSIZE = 32

_sessions: dict[tuple[Any, ...], requests.Session] = {}
_sessions_lock = threading.Lock()


class _NoCookieJar(requests.cookies.RequestsCookieJar):
    """
    Keeps no cookie at all: one session serves every user, so a cookie that Single Connect
    (or a gateway in front of it) sets must never travel with another user's call.

    A cookie policy is not enough: requests copies the session's jar into a fresh one, with
    the default policy, for every request.
    """

    def set_cookie(self, cookie: http.cookiejar.Cookie, *args: Any, **kwargs: Any) -> None:
        return None


class _WatchedAdapter(HTTPAdapter):
    """Connections whose calls the deadline watchdog can cut short."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = POOL_CLASSES

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> Any:
        manager = super().proxy_manager_for(proxy, **proxy_kwargs)
        if not proxy.lower().startswith("socks"):  # SOCKS pools are classes of their own
            manager.pool_classes_by_scheme = POOL_CLASSES
        return manager


def _new_session(connect_retries: int = 1) -> requests.Session:
    session = requests.Session()
    # Trust comes from Django settings only: no REQUESTS_CA_BUNDLE, no *_PROXY, no .netrc.
    session.trust_env = False
    session.cookies = _NoCookieJar()
    session.headers["User-Agent"] = f"django-singleconnect/{__version__}"
    # A connection that could not be opened never carried the request, so one more try is
    # safe. Anything that may have reached the server (read errors, statuses) is not retried.
    # With several nodes the next node is that try (connect_retries 0), so that a dead node
    # costs one connect timeout, not two, before the next is asked.
    retry = Retry(
        total=connect_retries,
        connect=connect_retries,
        read=0,
        redirect=0,
        status=0,
        other=0,
        raise_on_redirect=False,
        raise_on_status=False,
        respect_retry_after_header=False,
    )
    adapter = _WatchedAdapter(pool_connections=4, pool_maxsize=POOL_MAXSIZE, max_retries=retry)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session


def prepared_post(
    session: requests.Session, url: str, form: dict[str, str], headers: dict[str, str]
) -> requests.PreparedRequest:
    """
    The POST of ``form`` as ``session.post`` would prepare it, for ``session.send``: the
    session's headers, then ``headers``; the form URL-encoded. Without ``Session.request``'s
    merges, which a pooled session (no cookie, no auth, no hooks, no environment) does not
    need and which cost more CPU than the rest of the call's Python (requests checks each
    mapping against a runtime protocol there).
    """
    merged = requests.structures.CaseInsensitiveDict(session.headers)
    merged.update(headers)
    merged.setdefault("Content-Type", "application/x-www-form-urlencoded")  # as requests does
    prepared = requests.PreparedRequest()
    prepared.prepare(method="POST", url=url, headers=merged, data=urlencode(form))
    return prepared


def pooled_session(key: tuple[Any, ...], connect_retries: int = 1) -> requests.Session:
    key = (*key, connect_retries)
    session = _sessions.get(key)
    if session is None:
        with _sessions_lock:
            session = _sessions.setdefault(key, _new_session(connect_retries))
    return session


def forget_sessions_in_child() -> None:
    # A forked worker must not share its parent's sockets: it opens its own, and counts
    # only its own calls.
    _sessions.clear()
    call_slots.start_over()


if hasattr(os, "register_at_fork"):  # not on Windows, which has no fork
    os.register_at_fork(after_in_child=forget_sessions_in_child)


def close_sessions() -> None:
    """Close every pooled connection (tests, and code that forks after first use)."""
    with _sessions_lock:
        for session in _sessions.values():
            session.close()
        _sessions.clear()
