"""
One request's view of the login's second-factor step (``Step``): who is asked, under which
counters and limits, where the user goes next; its audit rows, signals and pages. The
views in ``views`` build one per request and decide with it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render, resolve_url
from django.utils.http import url_has_allowed_host_and_scheme

from . import budget, lockout
from .access import verify_url
from .client import SingleConnectClient
from .conf import Settings
from .forms import small_number
from .identity import counter_key
from .models import VerificationEvent
from .network import client_ip
from .state import Pending


def safe_next_url(request: HttpRequest) -> str:
    """``next`` from the form or the query string when it stays on this site, else the default."""
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return resolve_url(settings.LOGIN_REDIRECT_URL)


def requested_max_age(request: HttpRequest) -> int | None:
    """The ``max_age`` a view asked for (a step-up), from the form or the query string."""
    raw = request.POST.get("max_age") or request.GET.get("max_age") or ""
    return small_number(raw)


@dataclass
class Step:
    """One request's view of the login's second-factor step."""

    request: HttpRequest
    config: Settings
    pending: Pending
    next_url: str
    #: A verified session asked for a fresh code (a view's ``max_age``), or None.
    max_age: int | None = None
    #: Whether a code was issued in this login, when the request knows it without reading
    #: the code budget (an attempt taken on the POST needs one); None: ``codes`` tells.
    issued: bool | None = None

    @property
    def step_up(self) -> bool:
        return self.max_age is not None

    @property
    def verify_url(self) -> str:
        """This page again, for the same ``next`` and ``max_age``."""
        return verify_url(self.next_url, self.max_age)

    @property
    def username(self) -> str:
        """The Single Connect username, fixed when the login started."""
        return self.pending["username"]

    @property
    def node(self) -> str:
        """
        The node of this login's code, for audit rows and signals: the one recorded when it
        was issued, "" before the first code. (The login names the first node from its
        start, where its otpvalid would go: that is not yet a node asked.) For a step begun
        by an earlier release, the only node there is ("" when there are several).
        """
        nodes = self.config.NODES
        node = self.pending.get("node", "") or (nodes[0] if len(nodes) == 1 else "")
        if not node:
            return ""
        issued = self.issued if self.issued is not None else bool(self.codes.issued)
        return node if issued else ""

    @property
    def key(self) -> str:
        """The normalised username every counter is kept under."""
        return counter_key(self.username)

    @property
    def limits(self) -> lockout.Limits:
        return lockout.Limits(
            self.config.MAX_ATTEMPTS,
            self.config.LOCKOUT_SECONDS,
            self.config.LOCKOUT_SERIES_SECONDS,
            self.config.MAX_LOCKOUT_SECONDS,
        )

    @property
    def code_limits(self) -> budget.Limits:
        return budget.Limits(
            self.config.MAX_CODES_PER_HOUR,
            self.config.RESEND_COOLDOWN,
            self.config.MAX_CHALLENGES_PER_HOUR,
        )

    @property
    def ip(self) -> str:
        return client_ip(self.request, self.config.TRUSTED_PROXIES)

    @cached_property
    def code_budget(self) -> budget.Row:
        """The username's code budget as this request first read it."""
        return budget.read(self.key)

    def locked_until(self) -> dt.datetime | None:
        """When the lockout ends (None: not locked out), read with the code budget's row
        when that is still to be read: one SELECT for both, once the user has a budget."""
        if "code_budget" not in self.__dict__:
            row, until = budget.read_with(self.key, lockout.locked_until_subquery(self.key))
            self.__dict__["code_budget"] = row  # what the cached property would have read
            if row is not None:
                return until  # type: ignore[no-any-return]
        return lockout.locked_until(self.key)

    @cached_property
    def codes(self) -> budget.Outlook:
        """This login's codes, and whether "Send a new code" would send one now."""
        return budget.outlook_of(self.code_budget, self.pending["login"], self.code_limits)

    @property
    def last_challenge(self) -> float | None:
        """When the newest code of this login was taken, or None before the first."""
        return self.codes.issued[-1] if self.codes.issued else None

    def audit(self, event: str, detail: str = "", node: str | None = None) -> None:
        """An audit row; ``node`` by default the node of this login's code."""
        user = self.request.user
        VerificationEvent.objects.create(
            user=user if user.is_authenticated else None,
            username=self.username,
            ip_address=self.ip or None,
            event=event,
            detail=detail,
            node=self.node if node is None else node,
        )

    def send(self, signal: Any, **kwargs: Any) -> None:
        kwargs.setdefault("node", self.node)
        signal.send(
            sender=SingleConnectClient,
            request=self.request,
            user=self.request.user,
            username=self.username,
            **kwargs,
        )

    def render(self, template: str, status: int = 200, **context: Any) -> HttpResponse:
        context.update(
            next_url=self.next_url,
            username=self.username,
            max_age=self.max_age,
            step_up=self.step_up,
        )
        return render(self.request, f"django_singleconnect/{template}", context, status=status)
