"""
System checks for the settings. Ids are never reused: a retired check keeps its number.

They read settings.py only (no database), so they run anywhere ``manage.py check`` does.
"""

from __future__ import annotations

import difflib
import ipaddress
from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.conf.urls.i18n import is_language_prefix_patterns_used
from django.core.checks import CheckMessage, Error, Warning
from django.urls import NoReverseMatch, Resolver404, resolve, reverse
from django.utils import translation
from django.utils.module_loading import import_string

from .conf import OPTIONS, PREFIX, REQUIRED, timeout_value
from .network import UNIX_SOCKET
from .nodes import node_list
from .validators import hostname_problem, is_allowed_hostname

ID = "django_singleconnect.{}"
MIDDLEWARE = "django_singleconnect.middleware.SingleConnectMiddleware"
SESSION_MIDDLEWARE = "django.contrib.sessions.middleware.SessionMiddleware"
AUTH_MIDDLEWARE = "django.contrib.auth.middleware.AuthenticationMiddleware"


def _value(name: str) -> Any:
    option = OPTIONS[name]
    return getattr(settings, option.setting, option.default)


def _is_int(value: Any, minimum: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= minimum


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0


def _is_timeout(value: Any) -> bool:
    """Seconds, or a (connect, read) pair of them."""
    return _is_number(value) or (
        isinstance(value, (list, tuple)) and len(value) == 2 and all(map(_is_number, value))
    )


def _is_str_dict(value: Any) -> bool:
    return isinstance(value, dict) and all(
        isinstance(key, str) and isinstance(item, str) for key, item in value.items()
    )


def _is_str_sequence(value: Any) -> bool:
    return isinstance(value, (list, tuple)) and all(isinstance(item, str) for item in value)


def _is_hostname_list(value: Any) -> bool:
    return _is_str_sequence(value) and all(hostname_problem(item) is None for item in value)


def _is_network(value: str) -> bool:
    if value == UNIX_SOCKET:
        return True
    try:
        ipaddress.ip_network(value, strict=False)
    except ValueError:
        return False
    return True


def _is_callable_path(value: Any, *, optional: bool = True) -> bool:
    if value is None:
        return optional
    if not isinstance(value, str):
        return False
    try:
        return callable(import_string(value))
    except (ImportError, ValueError, TypeError):
        # ".x" and "..x" make importlib raise ValueError and TypeError, not ImportError.
        return False


def _is_path(value: Any) -> bool:
    # Whether the file exists is not checked: certificates are often mounted only when the
    # site runs, after the checks of collectstatic or of a container build.
    return isinstance(value, str) and bool(value.strip())


def _is_verify(value: Any) -> bool:
    # An empty string would make requests skip certificate verification without a word.
    return isinstance(value, bool) or _is_path(value)


def _is_client_cert(value: Any) -> bool:
    if value is None or _is_path(value):
        return True
    return isinstance(value, (list, tuple)) and len(value) == 2 and all(map(_is_path, value))


# Each type rule: setting, test, check id, what the value must be.
TYPE_RULES: Sequence[tuple[str, Callable[[Any], bool], str, str]] = (
    ("SCHEME", lambda v: v in ("https", "http"), "E007", '"https" or "http"'),
    (
        "TIMEOUT",
        _is_timeout,
        "E008",
        "a (connect, read) pair of positive seconds, e.g. (3.05, 10)",
    ),
    (
        "VERIFY",
        _is_verify,
        "E009",
        "True, False or the path of a CA bundle file or directory",
    ),
    (
        "CLIENT_CERT",
        _is_client_cert,
        "E010",
        "None, a path, or a (certificate, key) pair of paths",
    ),
    ("PROXIES", lambda v: v is None or _is_str_dict(v), "E011", "None or a dict of str to str"),
    ("EXTRA_HEADERS", _is_str_dict, "E012", "a dict of str to str"),
    ("COOKIES", _is_str_dict, "E013", "a dict of str to str"),
    ("ENFORCE", lambda v: v in ("decorated", "all"), "E014", '"decorated" or "all"'),
    ("EXEMPT_URLS", _is_str_sequence, "E015", "a list of URL names or paths"),
    (
        "OTP_INACTIVE_POLICY",
        lambda v: v in ("allow", "deny", "deny_staff") or _is_callable_path(v, optional=False),
        "E016",
        '"allow", "deny", "deny_staff" or the dotted path of a callable taking a user',
    ),
    ("TOKEN_DIGITS", lambda v: _is_int(v, 4) and v <= 12, "E017", "an int from 4 to 12"),
    ("MAX_ATTEMPTS", lambda v: _is_int(v, 1), "E018", "an int of 1 or more"),
    ("LOCKOUT_SECONDS", lambda v: _is_int(v, 1), "E019", "an int of 1 or more"),
    ("RESEND_COOLDOWN", lambda v: _is_int(v, 0), "E020", "an int of 0 or more"),
    ("MAX_CHALLENGES_PER_HOUR", lambda v: _is_int(v, 1), "E021", "an int of 1 or more"),
    ("PENDING_TIMEOUT", lambda v: _is_int(v, 1), "E022", "an int of 1 or more"),
    ("MAX_CODES_PER_HOUR", lambda v: _is_int(v, 1), "E040", "an int of 1 or more"),
    ("LOCKOUT_SERIES_SECONDS", lambda v: _is_int(v, 0), "E041", "an int of 0 or more"),
    ("MAX_LOCKOUT_SECONDS", lambda v: _is_int(v, 1), "E042", "an int of 1 or more"),
    (
        "VERIFIED_MAX_AGE",
        lambda v: v is None or _is_int(v, 1),
        "E070",
        "None (no limit) or an int of 1 or more seconds",
    ),
    ("SEND_LOGIN_FAILED", lambda v: isinstance(v, bool), "E071", "True or False"),
    ("REMEMBER_DAYS", lambda v: _is_int(v, 0), "E072", "an int of 0 (off) or more days"),
    ("REMEMBER_STAFF", lambda v: isinstance(v, bool), "E073", "True or False"),
    (
        "AUDIT_RETENTION_DAYS",
        lambda v: _is_int(v, 1),
        "E074",
        "an int of 1 or more days, e.g. 365",
    ),
    (
        "ALLOWED_HOSTNAMES",
        _is_hostname_list,
        "E043",
        'a list of host or host:port values, e.g. ["sc1.example.com", "sc2.example.com"]',
    ),
    (
        "USERNAME",
        _is_callable_path,
        "E023",
        "None or the dotted path of a callable taking a user",
    ),
    (
        "TRUSTED_PROXIES",
        lambda v: _is_str_sequence(v) and all(_is_network(item) for item in v),
        "E024",
        'a list of IP addresses or networks, or "unix", e.g. ["10.0.0.0/8"]',
    ),
    ("CACHE", lambda v: isinstance(v, str) and v in settings.CACHES, "E025", "a CACHES alias"),
    ("BASE_PATH", lambda v: isinstance(v, str) and v.startswith("/"), "E026", 'a path like "/x/y"'),
    ("REPLAY_SECONDS", lambda v: _is_int(v, 0), "E028", "an int of 0 or more"),
    ("CIRCUIT_FAILURES", lambda v: _is_int(v, 1), "E029", "an int of 1 or more"),
    ("CIRCUIT_RESET_SECONDS", _is_number, "E030", "a positive number of seconds"),
    (
        "MAX_CONCURRENT_CALLS",
        lambda v: v is None or _is_int(v, 1),
        "E031",
        "None (no limit) or an int of 1 or more, e.g. half the threads of a worker",
    ),
    (
        "SLOT_WAIT_SECONDS",
        lambda v: isinstance(v, (int, float)) and not isinstance(v, bool) and v >= 0,
        "E032",
        "a number of seconds, 0 or more",
    ),
    (
        "MAX_SLOW_CALLS",
        lambda v: v is None or _is_int(v, 1),
        "E036",
        "None (no limit) or an int of 1 or more, under the threads of a worker",
    ),
    ("SLOW_CALL_SECONDS", _is_number, "E037", "a positive number of seconds, e.g. 1"),
)

HOSTNAME_IDS = {"scheme": "E003", "path": "E004", "port": "E005", "invalid": "E006"}


def _nodes(value: Any) -> list[str]:
    """The nodes of a SINGLECONNECT_HOSTNAME value; none when it is of no usable type."""
    if value is REQUIRED:
        return []
    try:
        return node_list(value)
    except TypeError:
        return []


def _required(name: str, check_id: str) -> Error:
    what = "at least one host name" if name == "HOSTNAME" else "a non-empty string"
    return Error(
        f"SINGLECONNECT_{name} must be set to {what}.",
        hint=f"Add SINGLECONNECT_{name} to your settings; staff can override it "
        "in the admin under Single Connect settings.",
        id=ID.format(check_id),
    )


def check_settings(**kwargs: Any) -> list[CheckMessage]:
    errors: list[CheckMessage] = []

    nodes = _nodes(_value("HOSTNAME"))
    if not nodes:
        errors.append(_required("HOSTNAME", "E001"))
    application_name = _value("APPLICATION_NAME")
    if not isinstance(application_name, str) or not application_name.strip():
        errors.append(_required("APPLICATION_NAME", "E002"))
    # With several nodes, each message names the one that is wrong.
    owner = "SINGLECONNECT_HOSTNAME's node" if len(nodes) > 1 else "SINGLECONNECT_HOSTNAME"
    for node in nodes:
        named = f"{owner} {node!r}"
        problem = hostname_problem(node)
        if problem is not None:
            errors.append(
                Error(
                    f"{named} is not a host or host:port.",
                    hint="Give the host name alone, e.g. 'sc.example.com' or "
                    "'sc.example.com:8443'; the scheme is SINGLECONNECT_SCHEME and the "
                    "path SINGLECONNECT_BASE_PATH. Separate several nodes with commas.",
                    id=ID.format(HOSTNAME_IDS[problem]),
                )
            )

    allowed = _value("ALLOWED_HOSTNAMES")
    if _is_hostname_list(allowed):
        for node in nodes:
            if is_allowed_hostname(node, allowed):
                continue
            errors.append(
                Error(
                    f"{owner} {node!r} is not in SINGLECONNECT_ALLOWED_HOSTNAMES.",
                    hint="Add it to SINGLECONNECT_ALLOWED_HOSTNAMES, or correct it.",
                    id=ID.format("E044"),
                )
            )

    for name, test, check_id, expected in TYPE_RULES:
        value = _value(name)
        if not test(value):
            errors.append(
                Error(
                    f"SINGLECONNECT_{name} is {value!r}.",
                    hint=f"Set SINGLECONNECT_{name} to {expected}, or remove it for the default.",
                    id=ID.format(check_id),
                )
            )

    if _value("SCHEME") == "http":
        errors.append(
            Warning(
                "SINGLECONNECT_SCHEME is 'http': codes and cookies cross the network in clear.",
                hint="Use 'https' anywhere but against the local simulator.",
                id=ID.format("W001"),
            )
        )
    if _value("VERIFY") is False:
        errors.append(
            Warning(
                "SINGLECONNECT_VERIFY is False: anyone between this site and Single Connect "
                "can answer in its name.",
                hint="Set SINGLECONNECT_VERIFY to the path of your CA bundle instead.",
                id=ID.format("W002"),
            )
        )
    errors.extend(_slow_limit_reachable())
    if settings.SESSION_ENGINE == "django.contrib.sessions.backends.signed_cookies":
        errors.append(
            Warning(
                "Signed-cookie sessions cannot be revoked: a copied cookie stays verified "
                "after a logout.",
                hint="Use a server-side SESSION_ENGINE (database, cache or cached_db).",
                id=ID.format("W004"),
            )
        )
    return errors


def _slow_limit_reachable() -> list[CheckMessage]:
    """A slow-call threshold past the whole call's deadline: the limit would never apply."""
    timeout, slow = _value("TIMEOUT"), _value("SLOW_CALL_SECONDS")
    if _value("MAX_SLOW_CALLS") is None or not (_is_number(slow) and _is_timeout(timeout)):
        return []  # off, or a type error said elsewhere
    connect, read = timeout_value(timeout)
    if slow < connect + read:
        return []
    return [
        Warning(
            f"SINGLECONNECT_SLOW_CALL_SECONDS ({slow:g}) is not under the whole call's "
            f"deadline, SINGLECONNECT_TIMEOUT's connect + read ({connect + read:g} s): no call "
            "is ever slow, so SINGLECONNECT_MAX_SLOW_CALLS never protects the site from a "
            "hung Single Connect.",
            hint="Set SINGLECONNECT_SLOW_CALL_SECONDS well under the deadline (the default, 1).",
            id=ID.format("W005"),
        )
    ]


def check_middleware(**kwargs: Any) -> list[CheckMessage]:
    middleware = list(settings.MIDDLEWARE)
    if MIDDLEWARE not in middleware:
        return [
            Warning(
                "SingleConnectMiddleware is not in MIDDLEWARE: the Django admin, and every "
                "view when SINGLECONNECT_ENFORCE is 'all', skip the second factor.",
                hint=f"Add {MIDDLEWARE!r} to MIDDLEWARE after {AUTH_MIDDLEWARE!r}.",
                id=ID.format("W003"),
            )
        ]
    position = middleware.index(MIDDLEWARE)
    for required in (SESSION_MIDDLEWARE, AUTH_MIDDLEWARE):
        if required not in middleware[:position]:
            return [
                Error(
                    f"SingleConnectMiddleware must come after {required}.",
                    hint=f"Move {MIDDLEWARE!r} below {required!r} in MIDDLEWARE.",
                    id=ID.format("E027"),
                )
            ]
    return []


# -- the URLs and the names of the settings --------------------------------------------------

#: ``SINGLECONNECT_*`` names read outside ``conf.OPTIONS`` (an optional integration's own
#: settings). Add an integration's names here so that W050 knows them.
EXTRA_SETTINGS: set[str] = set()


def known_settings() -> set[str]:
    """Every ``SINGLECONNECT_*`` name the package reads."""
    return {option.setting for option in OPTIONS.values()} | EXTRA_SETTINGS


def check_setting_names(**kwargs: Any) -> list[CheckMessage]:
    """A misspelt name is silently ignored, and its default applies: say so."""
    known = known_settings()
    messages: list[CheckMessage] = []
    for name in sorted(dir(settings)):
        if not name.startswith(PREFIX) or name in known:
            continue
        # Compared without the prefix, which every name shares and would make all look alike.
        close = difflib.get_close_matches(
            name.removeprefix(PREFIX),
            [known_name.removeprefix(PREFIX) for known_name in known],
            n=1,
        )
        messages.append(
            Warning(
                f"{name} is no setting of django_singleconnect: it is ignored.",
                hint=(
                    f"Did you mean {PREFIX}{close[0]}?"
                    if close
                    else "Correct or remove it; the README's Settings list every name."
                ),
                id=ID.format("W050"),
            )
        )
    return messages


def check_urls(**kwargs: Any) -> list[CheckMessage]:
    messages: list[CheckMessage] = []
    try:
        reverse("singleconnect:verify")
    except NoReverseMatch:
        messages.append(
            Error(
                "The URLs of django_singleconnect are not included: every protected page "
                "and the admin would answer 500.",
                hint='Add path("2fa/", include("django_singleconnect.urls")) to the '
                "urlpatterns of your ROOT_URLCONF.",
                id=ID.format("E050"),
            )
        )
    login_url = str(getattr(settings, "LOGIN_URL", "") or "")
    if not _login_url_resolves(login_url):
        messages.append(
            Warning(
                f"LOGIN_URL {login_url!r} matches no URL: users sent to sign in would get a 404.",
                hint='Include Django\'s login view, path("accounts/", '
                'include("django.contrib.auth.urls")), or set LOGIN_URL to the path or URL '
                "name of yours.",
                id=ID.format("W051"),
            )
        )
    return messages


def _login_url_resolves(login_url: str) -> bool:
    if "://" in login_url or login_url.startswith("//"):
        return True  # on another site (a single sign-on): not ours to resolve
    if not login_url.startswith("/"):
        try:
            reverse(login_url)  # a URL name, as resolve_url() takes it
        except NoReverseMatch:
            return False
        return True
    path = urlsplit(login_url).path
    script_name = str(settings.FORCE_SCRIPT_NAME or "").rstrip("/")
    if script_name and path.startswith(script_name + "/"):
        path = path[len(script_name) :]
    candidates = [path]
    if is_language_prefix_patterns_used(settings.ROOT_URLCONF)[0]:
        # LocaleMiddleware redirects /accounts/login/ to /en/accounts/login/.
        candidates.append(f"/{settings.LANGUAGE_CODE}{path}")
    for candidate in candidates:
        try:
            with translation.override(settings.LANGUAGE_CODE):
                resolve(candidate)
        except Resolver404:
            continue
        return True
    return False
