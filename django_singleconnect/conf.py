"""
The effective configuration: settings.py, overridden by what staff saved in the admin.

Every value is read at access time, so ``override_settings`` just works, and nothing is
ever written into ``django.conf.settings``. What settings.py's values make is kept until the
settings change (``settings_cache``). The admin's values live in Django's cache (dropped
when the row is saved) and are merged with settings.py on each read.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

from asgiref.sync import sync_to_async
from django.conf import settings
from django.core.cache import BaseCache, caches

from . import settings_cache
from .nodes import node_list
from .validators import is_allowed_hostname

PREFIX = "SINGLECONNECT_"

CACHE_KEY = "django_singleconnect:configuration:v1"
# With a shared cache (Redis, Memcached) a save reaches every process (within the second of
# PROCESS_COPY_SECONDS), because the save drops the key. A per-process cache (local memory)
# cannot be told, so its copy expires.
CACHE_TIMEOUT = 60
# Each process also keeps what it read for a second, so that a busy site asks the cache at
# most once a second; a save reaches the other processes within that second.
PROCESS_COPY_SECONDS = 1.0

REQUIRED = object()

T = TypeVar("T")


@dataclass(frozen=True)
class Option:
    name: str
    default: Any
    admin_field: str | None = None
    secret: bool = False

    @property
    def setting(self) -> str:
        return PREFIX + self.name


OPTIONS: dict[str, Option] = {
    option.name: option
    for option in (
        Option("HOSTNAME", REQUIRED, admin_field="hostname"),
        Option("ALLOWED_HOSTNAMES", ()),
        Option("APPLICATION_NAME", REQUIRED, admin_field="application_name"),
        Option("SCHEME", "https"),
        Option("BASE_PATH", "/twofactorauth-ui/rest/tfa"),
        Option("TIMEOUT", (3.05, 10)),
        Option("VERIFY", True),
        Option("CLIENT_CERT", None),
        Option("PROXIES", None),
        Option("EXTRA_HEADERS", {}, secret=True),
        Option("COOKIES", {}, secret=True),
        Option("ENFORCE", "decorated", admin_field="enforce"),
        Option("EXEMPT_URLS", ()),
        Option("OTP_INACTIVE_POLICY", "allow", admin_field="otp_inactive_policy"),
        Option("TOKEN_DIGITS", 6),
        Option("MAX_ATTEMPTS", 5, admin_field="max_attempts"),
        Option("LOCKOUT_SECONDS", 900, admin_field="lockout_seconds"),
        Option("RESEND_COOLDOWN", 60, admin_field="resend_cooldown"),
        Option("MAX_CHALLENGES_PER_HOUR", 5),
        Option("MAX_CODES_PER_HOUR", 10),
        Option("LOCKOUT_SERIES_SECONDS", 86400),
        Option("MAX_LOCKOUT_SECONDS", 86400),
        Option("PENDING_TIMEOUT", 600),
        Option("VERIFIED_MAX_AGE", None),
        Option("REMEMBER_DAYS", 0),
        Option("REMEMBER_STAFF", False),
        Option("SEND_LOGIN_FAILED", False),
        Option("REPLAY_SECONDS", 600),
        Option("AUDIT_RETENTION_DAYS", 365),
        Option("CIRCUIT_FAILURES", 5),
        Option("CIRCUIT_RESET_SECONDS", 30),
        Option("MAX_CONCURRENT_CALLS", None),
        Option("SLOT_WAIT_SECONDS", 1.0),
        Option("MAX_SLOW_CALLS", 2),
        Option("SLOW_CALL_SECONDS", 1.0),
        Option("USERNAME", None),
        Option("TRUSTED_PROXIES", ()),
        Option("CACHE", "default"),
    )
}

Source = Literal["admin", "settings", "default"]


def verify_value(value: Any) -> bool | str:
    """
    ``False`` or a CA bundle path as given; anything else verifies against the default CAs.

    requests reads an empty string as "do not verify", so an unset or blank value must
    never reach it as such.
    """
    if value is False:
        return False
    if isinstance(value, str) and value.strip():
        return value
    return True


def timeout_value(value: Any) -> tuple[float, float]:
    """``(connect, read)`` seconds; a single number serves for both."""
    if isinstance(value, (int, float)):
        return (float(value), float(value))
    connect, read = value
    return (float(connect), float(read))


def _read(source: Any, name: str) -> Any:
    """The value of ``name`` that ``source`` (a settings object) holds, else its default."""
    option = OPTIONS[name]
    return getattr(source, option.setting, None if option.default is REQUIRED else option.default)


# What each property makes of its raw value.
def _nodes(value: Any) -> tuple[str, ...]:
    try:
        return tuple(node_list(value))
    except TypeError:  # not a string or a list of them: check E001 says so
        return ()


def _strings(value: Any) -> tuple[str, ...]:
    return tuple(value or ())


def _mapping(value: Any) -> dict[str, str]:
    return dict(value or {})


def _path(value: Any) -> str:
    return "/" + str(value).strip("/")


def _text_or_empty(value: Any) -> str:
    return str(value or "")


def _text_or_none(value: Any) -> str | None:
    return None if value is None else str(value)


def _int_or_none(value: Any) -> int | None:
    return None if value is None else int(value)


def _client_cert(value: Any) -> str | tuple[str, str] | None:
    if isinstance(value, (list, tuple)):
        return (str(value[0]), str(value[1]))
    return value  # type: ignore[no-any-return]


class Settings:
    """
    One typed property per setting.

    ``Settings()`` reads settings.py alone (what the system checks inspect);
    ``get_config()`` also applies the values saved in the admin.
    """

    def __init__(self, overrides: Mapping[str, Any] | None = None) -> None:
        self._overrides = dict(overrides or {})

    def _lookup(self, name: str) -> tuple[Any, Source]:
        if name in self._overrides and not self._refused(name):
            return self._overrides[name], "admin"
        option = OPTIONS[name]
        value = getattr(settings, option.setting, REQUIRED)
        if value is not REQUIRED:
            return value, "settings"
        return (None if option.default is REQUIRED else option.default), "default"

    def _refused(self, name: str) -> bool:
        """
        An admin value that ``SINGLECONNECT_ALLOWED_HOSTNAMES`` does not allow (one of its
        nodes is enough): ignored, so that a row written past the admin's form (a shell, a
        data migration, a restored backup) cannot point the site at another server.
        """
        if name != "HOSTNAME":
            return False
        allowed = self.ALLOWED_HOSTNAMES
        nodes = node_list(str(self._overrides[name]))
        return not all(is_allowed_hostname(node, allowed) for node in nodes)

    def _typed(self, name: str, convert: Callable[[Any], T]) -> T:
        """
        ``convert`` of the value: the admin's, converted on every read (it is as fresh as
        ``load_overrides``), else settings.py's or the default, converted once per settings
        object (``settings_cache``). Each name has one ``convert``.
        """
        if name in self._overrides and not self._refused(name):
            return convert(self._overrides[name])
        return settings_cache.computed(name, _read, convert)

    def describe(self) -> Iterator[tuple[str, Any, Source]]:
        """Each setting with its effective value and where that value comes from."""
        for option in OPTIONS.values():
            value, source = self._lookup(option.name)
            yield option.setting, value, source

    @property
    def HOSTNAME(self) -> str:
        """Every node, in order, separated by ", " (one node: its name alone)."""
        return ", ".join(self.NODES)

    @property
    def NODES(self) -> tuple[str, ...]:
        """The nodes ``SINGLECONNECT_HOSTNAME`` names, in the order they are tried."""
        return self._typed("HOSTNAME", _nodes)

    @property
    def ALLOWED_HOSTNAMES(self) -> tuple[str, ...]:
        return self._typed("ALLOWED_HOSTNAMES", _strings)

    @property
    def APPLICATION_NAME(self) -> str:
        return self._typed("APPLICATION_NAME", _text_or_empty)

    @property
    def SCHEME(self) -> str:
        return self._typed("SCHEME", str)

    @property
    def BASE_PATH(self) -> str:
        return self._typed("BASE_PATH", _path)

    @property
    def TIMEOUT(self) -> tuple[float, float]:
        return self._typed("TIMEOUT", timeout_value)

    @property
    def VERIFY(self) -> bool | str:
        return self._typed("VERIFY", verify_value)

    @property
    def CLIENT_CERT(self) -> str | tuple[str, str] | None:
        return self._typed("CLIENT_CERT", _client_cert)

    # A copy each time: a caller that changes its dict must not change the kept one.
    @property
    def PROXIES(self) -> dict[str, str]:
        return dict(self._typed("PROXIES", _mapping))

    @property
    def EXTRA_HEADERS(self) -> dict[str, str]:
        return dict(self._typed("EXTRA_HEADERS", _mapping))

    @property
    def COOKIES(self) -> dict[str, str]:
        return dict(self._typed("COOKIES", _mapping))

    @property
    def ENFORCE(self) -> str:
        return self._typed("ENFORCE", str)

    @property
    def EXEMPT_URLS(self) -> tuple[str, ...]:
        return self._typed("EXEMPT_URLS", _strings)

    @property
    def OTP_INACTIVE_POLICY(self) -> str:
        return self._typed("OTP_INACTIVE_POLICY", str)

    @property
    def TOKEN_DIGITS(self) -> int:
        return self._typed("TOKEN_DIGITS", int)

    @property
    def MAX_ATTEMPTS(self) -> int:
        return self._typed("MAX_ATTEMPTS", int)

    @property
    def LOCKOUT_SECONDS(self) -> int:
        return self._typed("LOCKOUT_SECONDS", int)

    @property
    def RESEND_COOLDOWN(self) -> int:
        return self._typed("RESEND_COOLDOWN", int)

    @property
    def MAX_CHALLENGES_PER_HOUR(self) -> int:
        return self._typed("MAX_CHALLENGES_PER_HOUR", int)

    @property
    def MAX_CODES_PER_HOUR(self) -> int:
        return self._typed("MAX_CODES_PER_HOUR", int)

    @property
    def LOCKOUT_SERIES_SECONDS(self) -> int:
        return self._typed("LOCKOUT_SERIES_SECONDS", int)

    @property
    def MAX_LOCKOUT_SECONDS(self) -> int:
        return self._typed("MAX_LOCKOUT_SECONDS", int)

    @property
    def VERIFIED_MAX_AGE(self) -> int | None:
        return self._typed("VERIFIED_MAX_AGE", _int_or_none)

    @property
    def REMEMBER_DAYS(self) -> int:
        return self._typed("REMEMBER_DAYS", int)

    @property
    def REMEMBER_STAFF(self) -> bool:
        return self._typed("REMEMBER_STAFF", bool)

    @property
    def SEND_LOGIN_FAILED(self) -> bool:
        return self._typed("SEND_LOGIN_FAILED", bool)

    @property
    def PENDING_TIMEOUT(self) -> int:
        return self._typed("PENDING_TIMEOUT", int)

    @property
    def REPLAY_SECONDS(self) -> int:
        return self._typed("REPLAY_SECONDS", int)

    @property
    def AUDIT_RETENTION_DAYS(self) -> int:
        return self._typed("AUDIT_RETENTION_DAYS", int)

    @property
    def CIRCUIT_FAILURES(self) -> int:
        return self._typed("CIRCUIT_FAILURES", int)

    @property
    def CIRCUIT_RESET_SECONDS(self) -> float:
        return self._typed("CIRCUIT_RESET_SECONDS", float)

    @property
    def MAX_CONCURRENT_CALLS(self) -> int | None:
        return self._typed("MAX_CONCURRENT_CALLS", _int_or_none)

    @property
    def SLOT_WAIT_SECONDS(self) -> float:
        return self._typed("SLOT_WAIT_SECONDS", float)

    @property
    def MAX_SLOW_CALLS(self) -> int | None:
        return self._typed("MAX_SLOW_CALLS", _int_or_none)

    @property
    def SLOW_CALL_SECONDS(self) -> float:
        return self._typed("SLOW_CALL_SECONDS", float)

    @property
    def USERNAME(self) -> str | None:
        return self._typed("USERNAME", _text_or_none)

    @property
    def TRUSTED_PROXIES(self) -> tuple[str, ...]:
        return self._typed("TRUSTED_PROXIES", _strings)

    @property
    def CACHE(self) -> str:
        return self._typed("CACHE", str)


def get_cache() -> BaseCache:
    return caches[Settings().CACHE]


class _ProcessCopy:
    """
    This process's copy of the admin's values, kept for ``PROCESS_COPY_SECONDS``: a page
    that must learn ``ENFORCE`` then costs no cache round trip, Redis included.
    """

    def __init__(self) -> None:
        self.value: dict[str, Any] | None = None
        self.expires = 0.0

    def get(self) -> dict[str, Any] | None:
        return self.value if time.monotonic() < self.expires else None

    def set(self, value: dict[str, Any]) -> None:
        self.value, self.expires = value, time.monotonic() + PROCESS_COPY_SECONDS

    def clear(self) -> None:
        self.value, self.expires = None, 0.0


_process_copy = _ProcessCopy()


def load_overrides() -> dict[str, Any]:
    """The admin's values: this process's copy, else the cache, else the database."""
    overrides = _process_copy.get()
    if overrides is not None:
        return overrides
    cache = get_cache()
    overrides = cache.get(CACHE_KEY)
    if overrides is None:
        from .models import SingleConnectConfiguration

        overrides = SingleConnectConfiguration.stored_overrides()
        cache.set(CACHE_KEY, overrides, CACHE_TIMEOUT)
    _process_copy.set(overrides)
    return overrides


async def aload_overrides() -> dict[str, Any]:
    overrides = _process_copy.get()
    if overrides is not None:
        return overrides
    cached: dict[str, Any] | None = await get_cache().aget(CACHE_KEY)
    if cached is None:
        return await sync_to_async(load_overrides)()
    _process_copy.set(cached)
    return cached


def forget_overrides() -> None:
    _process_copy.clear()
    get_cache().delete(CACHE_KEY)


def get_config() -> Settings:
    """The effective configuration for this moment (one cache read when warm)."""
    return Settings(load_overrides())


async def aget_config() -> Settings:
    return Settings(await aload_overrides())
