"""
The code step: ``verify`` (GET shows the form and issues the code once per login, POST checks
it), ``resend`` and ``logout``. Every path where Single Connect gives no clear answer ends
on the 503 page, with nobody verified.
"""

from __future__ import annotations

import datetime as dt
import math
import time
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth import logout as auth_logout
from django.contrib.auth.signals import user_login_failed
from django.db import router, transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import resolve_url
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters, sensitive_variables
from django.views.decorators.http import require_http_methods, require_POST

from . import budget, lockout, policy, remember, replay, signals
from .client import SingleConnectClient
from .conf import get_config
from .exceptions import SingleConnectBusy, SingleConnectError
from .forms import TokenForm
from .models import VerificationEvent
from .secrecy import hidden_on_debug_pages
from .state import (
    get_pending,
    is_verified,
    mark_verified,
    save_pending,
    start_pending,
)
from .step import Step, requested_max_age, safe_next_url

Event = VerificationEvent.Kind


def _begin(request: HttpRequest, *, check_lockout: bool = True) -> Step | HttpResponse:
    """
    What every code view does first; a response means: answer with it and stop. A code POST
    skips the lockout check: reserving an attempt makes it, in the same statement.
    """
    next_url = safe_next_url(request)
    if not request.user.is_authenticated:
        return HttpResponseRedirect(_login_url(next_url))
    max_age = requested_max_age(request)
    if is_verified(request, max_age):
        return HttpResponseRedirect(next_url)
    # Verified, but not recently enough for the view that sent the user here: a step-up.
    step_up = max_age is not None and is_verified(request)
    config = get_config()
    step = Step(
        request=request,
        config=config,
        pending=get_pending(request, step_up=step_up),
        next_url=next_url,
        max_age=max_age if step_up else None,
    )
    if time.time() - step.pending["started"] > config.PENDING_TIMEOUT:
        if step_up:
            # An abandoned step-up: begin another; the user stays signed in and verified.
            step.pending = start_pending(request.session, request.user, step_up=True)
        else:
            step.audit(Event.EXPIRED)
            step.send(signals.step_expired)
            auth_logout(request)
            return step.render("expired.html", login_url=_login_url(next_url))
    if not step.username:
        # SINGLECONNECT_USERNAME gave no name (logged where it happened): never guess one.
        step.audit(Event.NOT_SET_UP)
        return step.render("not_set_up.html", status=403)
    if step.pending["denied"]:
        return step.render("denied.html", status=403)
    if not step.ip:
        return step.render("no_address.html", status=400)
    if check_lockout:
        until = step.locked_until()
        if until is not None:
            return _locked(step, until)
    return step


def _login_url(next_url: str) -> str:
    return f"{resolve_url(settings.LOGIN_URL)}?{urlencode({'next': next_url})}"


def _locked(step: Step, until: dt.datetime) -> HttpResponse:
    seconds = max(1, math.ceil((until - timezone.now()).total_seconds()))
    response = step.render(
        "locked.html", status=429, locked_until=until, minutes=math.ceil(seconds / 60)
    )
    response["Retry-After"] = str(seconds)
    return response


def _count_lockout(step: Step, counted: lockout.WrongCode) -> None:
    """The audit row and signals of a lockout that this attempt started, if it did."""
    if not counted.started_lockout:
        return
    assert counted.locked_until is not None
    # Someone is guessing with the password: no browser skips the code meanwhile.
    forgotten = remember.forget_username(step.key)
    details = [f"lockout {counted.series} in a row" if counted.series > 1 else ""]
    details.append(f"{forgotten} remembered browsers forgotten" if forgotten else "")
    step.audit(Event.LOCKED_OUT, "; ".join(filter(None, details)))
    step.send(signals.user_locked_out, locked_until=counted.locked_until)
    if counted.series > 1:
        step.send(
            signals.repeated_lockout, lockouts=counted.series, locked_until=counted.locked_until
        )


def _pin_node(step: Step, node: str | None) -> bool:
    """Record the node that issued (or may have issued) this login's newest code."""
    if not node or step.pending.get("node") == node:
        return False
    step.pending["node"] = node
    save_pending(step.request, step.pending)
    return True


def _unavailable(
    step: Step, error: SingleConnectError, *, checking: bool, counted: bool = False
) -> HttpResponse:
    """
    The 503 page; ``checking``: a typed code could not be checked, else none could be sent;
    ``counted``: that code's check may have reached Single Connect, so it cost an attempt.
    """
    step.audit(Event.SERVICE_UNAVAILABLE, error.cause, node=error.node or "")
    step.send(signals.service_unavailable, error=error.detached(), node=error.node or "")
    response = step.render(
        "unavailable.html",
        status=503,
        retry_url=step.verify_url,
        checking=checking,
        counted=counted,
    )
    response["Retry-After"] = "30"
    return response


def _verified(step: Step, method: str) -> HttpResponse:
    mark_verified(step.request, method)
    return _let_in(step, method)


def _let_in(step: Step, method: str) -> HttpResponse:
    """The session is marked verified: tell the receivers, and go on to ``next``."""
    step.send(signals.verification_succeeded, method=method)
    return HttpResponseRedirect(step.next_url)


def _challenge(step: Step, *, resend: bool) -> HttpResponse | str | None:
    """
    Take a code from the username's budget, then ask Single Connect to issue it. None: the
    form is shown; a string: a notice for the form instead (no code was sent); a response:
    answer with it.
    """
    taken = budget.take(
        step.key,
        step.pending["login"],
        step.code_limits,
        first=not resend,
        known=step.code_budget,  # the row last_challenge read: no second SELECT
    )
    if taken.refused == "issued":
        return None  # a request alongside asked for this login's first code
    if taken.refused in ("cooldown", "login_cap"):
        return "cooldown" if taken.refused == "cooldown" else "too_many"
    if taken.refused == "busy":
        busy = SingleConnectBusy("otpstatus: not called, codes contended")
        return _unavailable(step, busy, checking=False)
    if not taken.granted:
        return _codes_spent(step, taken.retry_after)
    try:
        client = SingleConnectClient(step.config)
        active = client.otp_status(step.username, step.ip)
    except SingleConnectError as error:
        if error.may_have_reached:
            budget.failed(taken)
            # That node may have sent a code, the newest: its otpvalid goes there. Saved
            # now (with a step begun in this request): Django keeps no session change of
            # a response of 500 or more.
            if _pin_node(step, error.node) or step.request.session.modified:
                step.request.session.save()
        else:
            budget.give_back(taken)
        return _unavailable(step, error, checking=False)
    # The code's otpvalid goes to the node that issued it, and to no other, even when the
    # list of nodes changes before the code is typed.
    _pin_node(step, client.last_node)
    if not active:
        decision = policy.decide(step.config.OTP_INACTIVE_POLICY, step.request.user, step.username)
        if decision == "allow":
            step.audit(Event.OTP_INACTIVE_ALLOWED)
            return _verified(step, "otp_inactive")
        step.audit(Event.OTP_INACTIVE_DENIED)
        step.send(signals.verification_denied)
        step.pending["denied"] = True
        save_pending(step.request, step.pending)
        return step.render("denied.html", status=403)
    assert taken.outlook is not None
    step.codes = taken.outlook  # what budget.outlook would read now
    if step.step_up and not resend:
        step.audit(Event.STEP_UP, f"max_age {step.max_age}")
        step.send(signals.step_up_started, max_age=step.max_age)
    step.audit(Event.CHALLENGE_SENT, "resend" if resend else "")
    step.send(signals.challenge_sent, resend=resend)
    return None


def _codes_spent(step: Step, retry_after: int) -> HttpResponse:
    """The username's codes for the hour are spent: no call, a page that says until when."""
    step.audit(Event.CODES_SPENT)
    step.send(signals.codes_spent, retry_after=retry_after)
    response = step.render(
        "codes_spent.html",
        status=429,
        available_at=timezone.now() + dt.timedelta(seconds=retry_after),
        minutes=math.ceil(retry_after / 60),
    )
    response["Retry-After"] = str(retry_after)
    return response


def _form_page(step: Step, form: TokenForm) -> HttpResponse:
    notice = step.pending.get("notice", "")
    if notice:
        step.pending["notice"] = ""
        save_pending(step.request, step.pending)
    codes = step.codes
    resend_in = codes.wait if codes.refused == "cooldown" else 0
    return step.render(
        "verify.html",
        form=form,
        can_remember=remember.may_remember(step.request.user, step.config),
        remember_days=step.config.REMEMBER_DAYS,
        notice=notice,
        # What "Send a new code" would meet: a wait, or no more codes (no button then).
        resend_in=resend_in,
        resend_clock=f"{resend_in // 60}:{resend_in % 60:02d}",
        can_resend=codes.refused not in ("login_cap", "budget"),
        # A code sent before the newest is refused: say so once there are several.
        codes_sent=len(codes.issued),
        digits=step.config.TOKEN_DIGITS,
        signed_in_as=_display_name(step.request.user),
    )


def _display_name(user: Any) -> str:
    """The user's full name when the user model has one, else the username."""
    get_full_name = getattr(user, "get_full_name", None)
    full_name = get_full_name() if callable(get_full_name) else ""
    return str(full_name or "").strip() or str(user.get_username())


@hidden_on_debug_pages
@never_cache
@sensitive_post_parameters("token")
@sensitive_variables("token")
@csrf_protect
@require_http_methods(["GET", "POST"])
def verify(request: HttpRequest) -> HttpResponse:
    step = _begin(request, check_lockout=request.method == "GET")
    if isinstance(step, HttpResponse):
        return step
    if request.method == "GET":
        if step.last_challenge is None:
            # A remembered browser counts as verified, never as fresh: not for a step-up.
            browser = None if step.step_up else remember.recognised(request, step.key, step.config)
            if browser is not None:
                step.audit(Event.REMEMBERED, f"browser {browser.pk}")
                return _verified(step, "remembered")
            refused = _challenge(step, resend=False)
            if isinstance(refused, HttpResponse):
                return refused
        return _form_page(
            step, TokenForm(digits=step.config.TOKEN_DIGITS, initial={"next": step.next_url})
        )

    form = TokenForm(request.POST, digits=step.config.TOKEN_DIGITS)
    if not form.is_valid():
        if step.last_challenge is None:
            return HttpResponseRedirect(step.verify_url)  # the GET issues the first code
        until = lockout.locked_until(step.key)
        return _form_page(step, form) if until is None else _locked(step, until)
    token = form.cleaned_data["token"]

    remember_it = form.cleaned_data["remember"] and remember.may_remember(request.user, step.config)
    # One statement: the attempt is taken only when a code was issued in this login (else
    # the GET issues one first) and the user is not locked out.
    reservation = lockout.reserve(
        step.key, step.limits, provided=budget.issued_subquery(step.key, step.pending["login"])
    )
    if not reservation.granted:
        if step.last_challenge is None:
            return HttpResponseRedirect(step.verify_url)
        if reservation.locked_until is not None and reservation.locked_until > timezone.now():
            return _locked(step, reservation.locked_until)
        return _still_checking(step, form)
    step.issued = True  # the attempt was taken because a code was issued in this login
    # A code that already verified a login is a wrong code, whatever Single Connect says:
    # its INSERT in ``_keep_and_verify`` fails. Asked first, it would cost a SELECT in
    # every login to spare a call only an attacker's replay makes (counted all the same).
    try:
        # To the node that issued the code: when it cannot be reached, the 503 page and
        # the attempt given back, never the code sent to another node.
        valid = SingleConnectClient(step.config).otp_valid(
            step.username, token, node=step.pending.get("node") or None
        )
    except SingleConnectError as error:
        if not error.may_have_reached:
            lockout.give_back(reservation, step.limits)
            return _unavailable(step, error, checking=True)
        # It may have reached Single Connect, which then spent an attempt on it: so
        # does this count. Given back, an answer a gateway turns into a 400 or a hang
        # would let anyone with the password guess without end.
        kept = lockout.record_wrong(reservation, step.limits)
        _count_lockout(step, kept)
        if kept.locked_until is not None:
            return _locked(step, kept.locked_until)
        return _unavailable(step, error, checking=True, counted=True)
    # Of two requests with one code checked side by side, only the first counts.
    replayed = valid and not _keep_and_verify(step, token, remember_it)
    if valid and not replayed:
        response = _let_in(step, "otp")
        if remember_it:
            remember.remember(request, response, step.key, step.config)
        return response

    wrong = lockout.record_wrong(reservation, step.limits)
    step.audit(Event.FAILED, "replayed code" if replayed else "")
    step.send(signals.verification_failed, attempts_left=wrong.attempts_left)
    if step.config.SEND_LOGIN_FAILED:
        # For rate limiters that count Django's failed logins (django-axes): never the code.
        user_login_failed.send(
            sender=__name__,
            credentials={get_user_model().USERNAME_FIELD: request.user.get_username()},
            request=request,
        )
    _count_lockout(step, wrong)
    if wrong.locked_until is not None:
        # Locked out by this code, or by a wrong code checked alongside it.
        return _locked(step, wrong.locked_until)
    form.add_error("token", _wrong_code_message(wrong.attempts_left))
    return _form_page(step, form)


def _keep_and_verify(step: Step, token: str, remember_it: bool) -> bool:
    """
    What a right code writes, in one transaction; the old session's deletion included when
    the sessions live in the same database (the new key is written when the response saves
    the session). The used code comes first: of two requests with one code (side by side,
    or a code typed again), the second's INSERT fails before anything else is written, so
    its transaction is rolled back whole, with no savepoint. False: this request was that
    second one.
    """
    using = router.db_for_write(VerificationEvent)
    seconds = step.config.REPLAY_SECONDS

    def verified(keep: bool) -> None:
        with transaction.atomic(using=using):
            if keep:
                replay.keep(step.key, token)
            lockout.reset(step.key)
            step.audit(Event.VERIFIED, "browser remembered" if remember_it else "")
            mark_verified(step.request, "otp")

    try:
        verified(keep=True)
    except replay.Kept:
        # Kept before the window (its row is taken over, by one request only), or in use.
        if not replay.take_over(step.key, token, seconds):
            return False
        verified(keep=False)
    replay.purge_now_and_then(seconds)
    return True


def _still_checking(step: Step, form: TokenForm) -> HttpResponse:
    """Every attempt left is being checked right now (the same form sent several times)."""
    form.add_error(None, _("Your last code is still being checked. Wait a moment and try again."))
    response = _form_page(step, form)
    response.status_code = 429
    # Those checks end within the deadline of a call.
    response["Retry-After"] = str(math.ceil(sum(step.config.TIMEOUT)))
    return response


def _wrong_code_message(attempts_left: int) -> str:
    return ngettext(
        "That code is incorrect. %(count)d attempt left.",
        "That code is incorrect. %(count)d attempts left.",
        attempts_left,
    ) % {"count": attempts_left}


@hidden_on_debug_pages
@never_cache
@csrf_protect
@require_POST
def resend(request: HttpRequest) -> HttpResponse:
    step = _begin(request)
    if isinstance(step, HttpResponse):
        return step
    refused = _challenge(step, resend=True)
    if isinstance(refused, HttpResponse):
        return refused
    step.pending["notice"] = refused or "resent"
    save_pending(request, step.pending)
    return HttpResponseRedirect(step.verify_url)


@never_cache
@csrf_protect
@require_POST
def logout(request: HttpRequest) -> HttpResponse:
    """Leave the code step: sign out, back to the login page."""
    auth_logout(request)
    return HttpResponseRedirect(resolve_url(settings.LOGIN_URL))
