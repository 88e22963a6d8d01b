"""
The one access rule, shared by the middleware, the decorator and the mixin: a signed-in
user who has not passed the second factor in this login goes to the code page.

A request that prefers JSON to HTML (its ``Accept`` says so; ``*/*`` does not) gets a 403
with a JSON body instead of a redirect to an HTML page: ``detail``, a stable ``code`` and
the URL to send the user to.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import resolve_url
from django.urls import reverse
from django.utils.translation import gettext as _

from .state import ais_verified, is_verified

#: The ``code`` of each JSON refusal; stable, for clients to act on.
NOT_AUTHENTICATED = "not_authenticated"
SINGLECONNECT_REQUIRED = "singleconnect_required"
HEADER_CREDENTIALS = "singleconnect_header_credentials"
TOKEN_REFUSED = "singleconnect_token_refused"  # noqa: S105 (a code, no secret)


def verify_url(next_url: str, max_age: float | None = None) -> str:
    """The code page, then ``next_url``; with ``max_age``, for a code typed that recently."""
    query: dict[str, Any] = {"next": next_url}
    if max_age is not None:
        query["max_age"] = int(max_age)
    return f"{reverse('singleconnect:verify')}?{urlencode(query)}"


def wants_json(request: HttpRequest) -> bool:
    """Whether the request prefers JSON to HTML; ``*/*`` and no ``Accept`` prefer HTML."""
    return request.get_preferred_type(["text/html", "application/json"]) == "application/json"


def json_refusal(code: str, detail: str, **urls: str) -> JsonResponse:
    return JsonResponse({"detail": detail, "code": code, **urls}, status=403)


def redirect_to_verify(request: HttpRequest, max_age: float | None = None) -> HttpResponse:
    """To the code page, and back here after it: a redirect, or a 403 JSON for an API."""
    url = verify_url(request.get_full_path(), max_age)
    if wants_json(request):
        return json_refusal(
            SINGLECONNECT_REQUIRED,
            _("Enter the sign-in code sent to you first, on the code page."),
            verify_url=url,
        )
    return HttpResponseRedirect(url)


def _to_login(request: HttpRequest, login_url: str | None) -> HttpResponse:
    if wants_json(request):
        return json_refusal(
            NOT_AUTHENTICATED,
            _("Sign in first."),
            login_url=resolve_url(login_url or settings.LOGIN_URL),
        )
    return redirect_to_login(request.get_full_path(), login_url)


def denial(
    request: HttpRequest, login_url: str | None = None, max_age: float | None = None
) -> HttpResponse | None:
    """
    The answer that keeps this request out, or None when it may go on. With ``max_age``,
    a verification older than that (or a remembered browser) goes through the code page
    again, without signing out.
    """
    if not request.user.is_authenticated:
        return _to_login(request, login_url)
    if not is_verified(request, max_age):
        return redirect_to_verify(request, max_age if is_verified(request) else None)
    return None


async def adenial(
    request: HttpRequest, login_url: str | None = None, max_age: float | None = None
) -> HttpResponse | None:
    user = await request.auser()
    if not user.is_authenticated:
        return _to_login(request, login_url)
    if not await ais_verified(request, max_age):
        stale = max_age is not None and await ais_verified(request)
        return redirect_to_verify(request, max_age if stale else None)
    return None
