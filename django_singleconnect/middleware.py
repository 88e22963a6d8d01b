from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.conf import settings
from django.contrib.auth.views import LoginView, LogoutView
from django.http import HttpRequest, HttpResponse
from django.shortcuts import resolve_url

from .access import redirect_to_verify
from .conf import Settings, get_config
from .state import is_verified

ADMIN_OPEN_VIEWS = {"login", "logout"}


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
        if getattr(view_func, "singleconnect_exempt", False) or getattr(
            view_func, "singleconnect_required", False
        ):
            return None
        if not _is_protected(request, view_func):
            return None
        if not request.user.is_authenticated or is_verified(request):
            return None
        return redirect_to_verify(request)


def _is_protected(request: HttpRequest, view_func: Callable[..., Any]) -> bool:
    match = request.resolver_match
    if match is not None and match.app_name == "admin":
        return match.url_name not in ADMIN_OPEN_VIEWS
    # Read only now: the admin, the busiest protected place, needs no configuration, so a
    # verified admin request never waits for a cold cache or the database.
    config = get_config()
    if config.ENFORCE != "all":
        return False
    return not _is_exempt(request, view_func, config)


def _is_exempt(request: HttpRequest, view_func: Callable[..., Any], config: Settings) -> bool:
    path = request.path_info
    match = request.resolver_match
    view_class = getattr(view_func, "view_class", None)
    if isinstance(view_class, type) and issubclass(view_class, (LoginView, LogoutView)):
        return True
    if match is not None and "singleconnect" in match.namespaces:
        return True
    static_url = settings.STATIC_URL or ""
    if static_url.startswith("/") and path.startswith(static_url):
        return True
    if path == resolve_url(settings.LOGIN_URL):
        return True
    for entry in config.EXEMPT_URLS:
        if entry.startswith("/"):
            if path.startswith(entry):
                return True
        elif match is not None and match.view_name == entry:
            return True
    return False
