"""
Which views the middleware guards: the ways into a site that must pass the code page, and
the few that must stay open for a user to sign in or out.

- Always guarded, in both modes, whatever is exempt: every view of every admin site and
  everything mounted under an admin site's URL prefix (admindocs at ``admin/doc/`` has no
  namespace of its own), and Django's password change views: whoever holds only the
  password must not be able to change it.
- With ``SINGLECONNECT_ENFORCE = "all"``, every other view but the exempt ones: the login
  and logout views, the package's own, ``LOGIN_URL``, static files served by Django's
  static files views, and ``SINGLECONNECT_EXEMPT_URLS`` (URL names, or path prefixes that
  match on whole path segments). There, a request with credentials in its
  ``Authorization`` header (DRF's tokens, HTTP Basic, a JWT) reaches only the exempt views,
  and the views that hand out tokens serve only a verified session, for its own user.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.contrib.admin.sites import all_sites
from django.contrib.auth import get_user_model
from django.contrib.auth.views import (
    LoginView,
    LogoutView,
    PasswordChangeDoneView,
    PasswordChangeView,
)
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.http import HttpRequest
from django.shortcuts import resolve_url
from django.urls import NoReverseMatch, get_urlconf, reverse
from django.utils.translation import get_language
from django.views import static

#: The admin's own views a password-only session may reach: the way in and the way out.
ADMIN_OPEN_VIEWS = frozenset({"login", "logout"})


def _view_class(view_func: Callable[..., Any]) -> type | None:
    view_class = getattr(view_func, "view_class", None)
    return view_class if isinstance(view_class, type) else None


def under(path: str, prefix: str) -> bool:
    """Whether ``path`` is ``prefix`` or below it, on a path-segment boundary."""
    base = prefix.rstrip("/")
    return path == base or path.startswith(base + "/")


@lru_cache(maxsize=16)
def _admin_prefixes(
    urlconf: str | None, sites: frozenset[str], language: str | None
) -> tuple[str, ...]:
    """The URL prefix of each admin site this URLconf includes, e.g. ``("/admin/",)``."""
    prefixes = []
    for name in sorted(sites):
        try:
            prefixes.append(reverse(f"{name}:index", urlconf=urlconf))
        except NoReverseMatch:  # a site this URLconf does not include
            continue
    return tuple(prefixes)


@receiver(setting_changed)
def _forget_prefixes(*, setting: str, **kwargs: Any) -> None:
    if setting == "ROOT_URLCONF":
        _admin_prefixes.cache_clear()


def _in_an_admin_site(request: HttpRequest) -> bool:
    match = request.resolver_match
    if match is not None and match.app_name == "admin":
        return match.url_name not in ADMIN_OPEN_VIEWS
    urlconf = getattr(request, "urlconf", None) or get_urlconf()
    sites = frozenset(site.name for site in all_sites)
    # reverse() gives the path with the script prefix, and with the language prefix of the
    # active language under i18n_patterns: compare with request.path, per language.
    prefixes = _admin_prefixes(urlconf, sites, get_language())
    return any(under(request.path, prefix) for prefix in prefixes)


#: django-allauth's ways in and out, by class (its views live in private modules, named here
#: without them): a user who has not typed the code can still sign in, sign up, reset a
#: forgotten password and sign out.
ALLAUTH_OPEN = frozenset(
    f"allauth.account.views.{name}"
    for name in (
        "LoginView",
        "LogoutView",
        "SignupView",
        "RequestLoginCodeView",
        "ConfirmLoginCodeView",
        "PasswordResetView",
        "PasswordResetDoneView",
        "PasswordResetFromKeyView",
        "PasswordResetFromKeyDoneView",
        "ConfirmPasswordResetCodeView",
        "CompletePasswordResetView",
        "ConfirmEmailView",
        "EmailVerificationSentView",
        "ConfirmEmailVerificationCodeView",
        "AccountInactiveView",
    )
)
#: django-allauth's views that change how the account signs in: like Django's password
#: change, no way for whoever holds only the password.
ALLAUTH_PROTECTED = frozenset(
    f"allauth.account.views.{name}"
    for name in ("PasswordChangeView", "PasswordSetView", "EmailView", "ChangePhoneView")
)


def _paths(view_class: type) -> set[str]:
    """``module.Class`` of the class and its bases, private submodules left out."""
    paths = set()
    for base in view_class.__mro__:
        module = ".".join(part for part in base.__module__.split(".") if not part.startswith("_"))
        paths.add(f"{module}.{base.__qualname__}")
    return paths


def _a_way_in_or_out(request: HttpRequest, view_class: type | None) -> bool:
    """
    The login and logout views (Django's, allauth's, any class called ``LogoutView``) and
    the package's own: open, or nobody could sign in or out.
    """
    if view_class is not None:
        if issubclass(view_class, (LoginView, LogoutView)):
            return True
        if any(base.__name__ == "LogoutView" for base in view_class.__mro__):
            return True
        if _paths(view_class) & ALLAUTH_OPEN:
            return True
    match = request.resolver_match
    return match is not None and "singleconnect" in match.namespaces


def always_protected(request: HttpRequest, view_func: Callable[..., Any]) -> bool:
    """The admin and the password change: guarded in both modes, never exempt."""
    view_class = _view_class(view_func)
    if view_class is not None and (
        issubclass(view_class, (PasswordChangeView, PasswordChangeDoneView))
        or _paths(view_class) & ALLAUTH_PROTECTED
    ):
        return True
    # An admin site mounted at "/" must not swallow the code page or the login.
    return not _a_way_in_or_out(request, view_class) and _in_an_admin_site(request)


def _serves_static_files(request: HttpRequest, view_func: Callable[..., Any]) -> bool:
    """Django's own static files views, and only under ``STATIC_URL`` (never media)."""
    static_url = settings.STATIC_URL or ""
    if not static_url.startswith("/") or not under(request.path_info, static_url):
        return False
    if view_func is static.serve:
        return True
    # django.contrib.staticfiles is optional: compare by name, import nothing.
    return (
        getattr(view_func, "__module__", None) == "django.contrib.staticfiles.views"
        and getattr(view_func, "__name__", None) == "serve"
    )


def is_exempt(request: HttpRequest, view_func: Callable[..., Any], exempt: Iterable[str]) -> bool:
    """Whether ``SINGLECONNECT_ENFORCE = "all"`` leaves this view open."""
    path = request.path_info
    match = request.resolver_match
    if _a_way_in_or_out(request, _view_class(view_func)):
        return True
    if _serves_static_files(request, view_func):
        return True
    if path == resolve_url(settings.LOGIN_URL):
        return True
    for entry in exempt:
        if entry.startswith("/"):
            if under(path, entry):
                return True
        elif match is not None and match.view_name == entry:
            return True
    return False


#: Views that hand out a token for a password (by class, so that nothing is imported):
#: DRF's ``obtain_auth_token``, Simple JWT's obtain views, dj-rest-auth's login.
TOKEN_VIEWS = frozenset(
    {
        "rest_framework.authtoken.views.ObtainAuthToken",
        "rest_framework_simplejwt.views.TokenObtainPairView",
        "rest_framework_simplejwt.views.TokenObtainSlidingView",
        "dj_rest_auth.views.LoginView",
    }
)


def is_token_endpoint(view_func: Callable[..., Any]) -> bool:
    view_class = _view_class(view_func)
    return view_class is not None and any(
        f"{base.__module__}.{base.__qualname__}" in TOKEN_VIEWS for base in view_class.__mro__
    )


def carries_header_credentials(request: HttpRequest) -> bool:
    """Credentials the middleware cannot see through: a token, HTTP Basic, a bearer JWT."""
    return bool(request.META.get("HTTP_AUTHORIZATION", "").strip())


def posted_username(request: HttpRequest) -> str | None:
    """The username a token request posts (a form or a JSON object), or None."""
    field = get_user_model().USERNAME_FIELD
    if request.content_type == "application/json":
        try:
            data = json.loads(request.body or b"{}")
        except (ValueError, UnicodeDecodeError):
            return None
        value = data.get(field) if isinstance(data, dict) else None
    else:
        value = request.POST.get(field)
    return value if isinstance(value, str) else None
