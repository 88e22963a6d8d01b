from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _

from . import doors
from .access import (
    HEADER_CREDENTIALS,
    TOKEN_REFUSED,
    json_refusal,
    redirect_to_verify,
    verify_url,
)
from .conf import get_config
from .state import is_verified


class SingleConnectMiddleware:
    """
    Keeps password-only sessions out of the Django admin (and, with ``SINGLECONNECT_ENFORCE
    = "all"``, out of every view). Put it after ``AuthenticationMiddleware``.

    Views decorated with ``singleconnect_required`` check themselves. A verified request
    costs no database query beyond Django's own session and user loading.
    """

    sync_capable = True
    async_capable = True

    def __init__(
        self,
        get_response: Callable[[HttpRequest], HttpResponse | Awaitable[HttpResponse]],
    ) -> None:
        self.get_response = get_response
        self.async_mode = iscoroutinefunction(self.get_response)
        if self.async_mode:
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest) -> Any:
        if self.async_mode:
            return self.__acall__(request)
        return self.get_response(request)

    async def __acall__(self, request: HttpRequest) -> HttpResponse:
        return await self.get_response(request)  # type: ignore[misc, no-any-return]

    def process_view(
        self,
        request: HttpRequest,
        view_func: Callable[..., Any],
        view_args: tuple[Any, ...],
        view_kwargs: dict[str, Any],
    ) -> HttpResponse | None:
        # Django runs a sync process_view in a thread for async requests, so the
        # session and user may be loaded here in both modes.
        if doors.always_protected(request, view_func):
            # The admin and password changes: no decorator, setting or mode opens them.
            return _unless_verified(request)
        if doors.is_token_endpoint(view_func):
            return _token_endpoint(request)
        if getattr(view_func, "singleconnect_exempt", False) or getattr(
            view_func, "singleconnect_required", False
        ):
            return None
        if not _enforced_here(request, view_func):
            return None
        if doors.carries_header_credentials(request) and not _verified_session(request):
            # DRF's token and Basic authentication happen inside the view, where this
            # middleware cannot follow: such a request would pass as anonymous.
            return json_refusal(
                HEADER_CREDENTIALS,
                _(
                    "This site accepts credentials in the Authorization header only on the "
                    "views it leaves open; sign in with your password and the code instead."
                ),
            )
        return _unless_verified(request)


def _verified_session(request: HttpRequest) -> bool:
    return bool(request.user.is_authenticated and is_verified(request))


def _unless_verified(request: HttpRequest) -> HttpResponse | None:
    if not request.user.is_authenticated or is_verified(request):
        return None
    return redirect_to_verify(request)


def _token_endpoint(request: HttpRequest) -> HttpResponse | None:
    """
    With ``SINGLECONNECT_ENFORCE = "all"``, tokens are handed out only to a verified
    session, and only for that session's own user: a password alone gets none.
    """
    if get_config().ENFORCE != "all":
        return None
    if _verified_session(request) and doors.posted_username(request) == (
        request.user.get_username()
    ):
        return None
    return json_refusal(
        TOKEN_REFUSED,
        _("Tokens are given only to a session that passed the code, for its own user."),
        verify_url=verify_url(request.get_full_path()),
    )


def _enforced_here(request: HttpRequest, view_func: Callable[..., Any]) -> bool:
    """Whether ``SINGLECONNECT_ENFORCE = "all"`` covers this view."""
    # Read only now: the admin, the busiest protected place, needs no configuration, so a
    # verified admin request never waits for a cold cache or the database.
    config = get_config()
    if config.ENFORCE != "all":
        return False
    return not doors.is_exempt(request, view_func, config.EXEMPT_URLS)
