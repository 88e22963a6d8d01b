from __future__ import annotations

from typing import Any

import pytest
from asgiref.sync import async_to_sync
from django.conf import UserSettingsHolder
from django.conf import settings as django_settings
from django.core.cache import caches
from django.core.signals import setting_changed
from django.test import override_settings

from django_singleconnect import conf, settings_cache
from django_singleconnect.conf import (
    CACHE_KEY,
    OPTIONS,
    Settings,
    aget_config,
    forget_overrides,
    get_cache,
    get_config,
    load_overrides,
)
from django_singleconnect.models import SingleConnectConfiguration

DEFAULTS: dict[str, Any] = {
    "SCHEME": "https",
    "BASE_PATH": "/twofactorauth-ui/rest/tfa",
    "TIMEOUT": (3.05, 10.0),
    "VERIFY": True,
    "CLIENT_CERT": None,
    "PROXIES": {},
    "EXTRA_HEADERS": {},
    "COOKIES": {},
    "ENFORCE": "decorated",
    "EXEMPT_URLS": (),
    "OTP_INACTIVE_POLICY": "allow",
    "TOKEN_DIGITS": 6,
    "MAX_ATTEMPTS": 5,
    "LOCKOUT_SECONDS": 900,
    "RESEND_COOLDOWN": 60,
    "MAX_CHALLENGES_PER_HOUR": 5,
    "PENDING_TIMEOUT": 600,
    "REPLAY_SECONDS": 600,
    "CIRCUIT_FAILURES": 5,
    "CIRCUIT_RESET_SECONDS": 30.0,
    "MAX_CONCURRENT_CALLS": None,
    "SLOT_WAIT_SECONDS": 1.0,
    "MAX_SLOW_CALLS": 2,
    "SLOW_CALL_SECONDS": 1.0,
    "USERNAME": None,
    "TRUSTED_PROXIES": (),
    "CACHE": "default",
    "MAX_CODES_PER_HOUR": 10,
    "LOCKOUT_SERIES_SECONDS": 86400,
    "MAX_LOCKOUT_SECONDS": 86400,
    "ALLOWED_HOSTNAMES": (),
    "VERIFIED_MAX_AGE": None,
    "SEND_LOGIN_FAILED": False,
    "REMEMBER_DAYS": 0,
    "REMEMBER_STAFF": False,
    "AUDIT_RETENTION_DAYS": 365,
}

# What tests/settings.py gives: the defaults and the two required values.
TEST_SETTINGS = {**DEFAULTS, "HOSTNAME": "sc.example.com", "APPLICATION_NAME": "tests"}


def test_every_option_has_a_property() -> None:
    assert set(OPTIONS) == set(DEFAULTS) | {"HOSTNAME", "APPLICATION_NAME"}
    for name, option in OPTIONS.items():
        assert option.setting == f"SINGLECONNECT_{name}"
        assert isinstance(getattr(Settings, name), property)


@pytest.mark.parametrize(("name", "default"), DEFAULTS.items())
def test_defaults(name: str, default: Any) -> None:
    value = getattr(Settings(), name)
    assert value == default
    assert type(value) is type(default)


def test_defaults_are_described_as_defaults() -> None:
    described = {name: (value, source) for name, value, source in Settings().describe()}
    assert described["SINGLECONNECT_HOSTNAME"] == ("sc.example.com", "settings")
    assert described["SINGLECONNECT_APPLICATION_NAME"] == ("tests", "settings")
    assert described["SINGLECONNECT_SCHEME"] == ("https", "default")
    assert described["SINGLECONNECT_TIMEOUT"] == ((3.05, 10), "default")
    assert len(described) == len(OPTIONS)
    assert {source for name, (_, source) in described.items() if "NAME" not in name} == {"default"}


def test_required_settings_missing(settings: Any) -> None:
    del settings.SINGLECONNECT_HOSTNAME
    del settings.SINGLECONNECT_APPLICATION_NAME
    config = Settings()
    assert config.HOSTNAME == ""
    assert config.APPLICATION_NAME == ""
    described = {name: (value, source) for name, value, source in config.describe()}
    assert described["SINGLECONNECT_HOSTNAME"] == (None, "default")


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("HOSTNAME", "other.example.com:8443", "other.example.com:8443"),
        ("APPLICATION_NAME", "intranet", "intranet"),
        ("SCHEME", "http", "http"),
        ("BASE_PATH", "custom/tfa/", "/custom/tfa"),
        ("BASE_PATH", "/custom/tfa", "/custom/tfa"),
        ("TIMEOUT", 5, (5.0, 5.0)),
        ("TIMEOUT", 2.5, (2.5, 2.5)),
        ("TIMEOUT", [1, 2], (1.0, 2.0)),
        ("VERIFY", False, False),
        ("VERIFY", "/etc/ssl/ca.pem", "/etc/ssl/ca.pem"),
        # Never hand requests an empty string: it would skip verification.
        ("VERIFY", "", True),
        ("VERIFY", "  ", True),
        ("VERIFY", None, True),
        ("CLIENT_CERT", "/etc/ssl/both.pem", "/etc/ssl/both.pem"),
        ("CLIENT_CERT", ["/c.pem", "/k.pem"], ("/c.pem", "/k.pem")),
        ("PROXIES", {"https": "http://proxy:3128"}, {"https": "http://proxy:3128"}),
        ("PROXIES", None, {}),
        ("EXTRA_HEADERS", {"X-Gateway": "abc"}, {"X-Gateway": "abc"}),
        ("EXTRA_HEADERS", None, {}),
        ("COOKIES", {"JSESSIONID": "xyz"}, {"JSESSIONID": "xyz"}),
        ("ENFORCE", "all", "all"),
        ("EXEMPT_URLS", ["health", "/status/"], ("health", "/status/")),
        ("OTP_INACTIVE_POLICY", "deny", "deny"),
        ("TOKEN_DIGITS", 8, 8),
        ("MAX_ATTEMPTS", 3, 3),
        ("LOCKOUT_SECONDS", 60, 60),
        ("RESEND_COOLDOWN", 0, 0),
        ("MAX_CHALLENGES_PER_HOUR", 2, 2),
        ("PENDING_TIMEOUT", 30, 30),
        ("USERNAME", "django.utils.text.slugify", "django.utils.text.slugify"),
        ("TRUSTED_PROXIES", ["10.0.0.0/8"], ("10.0.0.0/8",)),
        ("CACHE", "other", "other"),
    ],
)
def test_each_setting_is_read_and_typed(name: str, value: Any, expected: Any) -> None:
    config = Settings()  # made before the override: values are read on access
    with override_settings(**{f"SINGLECONNECT_{name}": value}):
        assert getattr(config, name) == expected
        assert type(getattr(config, name)) is type(expected)
        described = {setting: source for setting, _, source in config.describe()}
        assert described[f"SINGLECONNECT_{name}"] == "settings"
    assert getattr(config, name) == TEST_SETTINGS[name]  # back once the override ends


def test_proxy_environment_is_not_a_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    for variable in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "ALL_PROXY"):
        monkeypatch.setenv(variable, "http://proxy.invalid:3128")
    assert Settings().PROXIES == {}


def test_settings_returns_copies() -> None:
    config = Settings()
    config.EXTRA_HEADERS["X-Injected"] = "1"
    config.COOKIES["injected"] = "1"
    config.PROXIES["https"] = "http://proxy.invalid"
    assert config.EXTRA_HEADERS == {}
    assert config.COOKIES == {}
    assert config.PROXIES == {}


# -- settings.py's values, kept per settings object ---------------------------------------


@pytest.fixture
def counted(monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    """How many times ``timeout_value`` and ``node_list`` ran, from here on."""
    runs = {"timeout_value": 0, "node_list": 0}

    def counting(name: str) -> Any:
        original = getattr(conf, name)

        def run(*args: Any) -> Any:
            runs[name] += 1
            return original(*args)

        return run

    for name in runs:
        monkeypatch.setattr(conf, name, counting(name))
    settings_cache.forget()
    return runs


def test_each_value_is_made_once(counted: dict[str, int]) -> None:
    for _ in range(3):
        config = Settings()
        assert config.TIMEOUT == (3.05, 10.0)
        assert config.NODES == ("sc.example.com",)
        assert config.HOSTNAME == "sc.example.com"
    assert counted == {"timeout_value": 1, "node_list": 1}


def test_override_settings_is_seen_at_once(counted: dict[str, int]) -> None:
    assert Settings().TIMEOUT == (3.05, 10.0)
    with override_settings(SINGLECONNECT_TIMEOUT=5):
        assert Settings().TIMEOUT == (5.0, 5.0)
    assert Settings().TIMEOUT == (3.05, 10.0)
    assert counted["timeout_value"] == 3


def test_the_settings_fixture_is_seen_at_once(settings: Any) -> None:
    config = Settings()
    assert (config.SCHEME, config.APPLICATION_NAME) == ("https", "tests")
    settings.SINGLECONNECT_SCHEME = "http"
    assert config.SCHEME == "http"
    del settings.SINGLECONNECT_APPLICATION_NAME  # a new settings object, and no signal
    assert config.APPLICATION_NAME == ""


def test_a_new_settings_object_starts_afresh(monkeypatch: pytest.MonkeyPatch) -> None:
    assert Settings().TOKEN_DIGITS == 6
    replacement = UserSettingsHolder(django_settings._wrapped)
    replacement.SINGLECONNECT_TOKEN_DIGITS = 8
    monkeypatch.setattr(django_settings, "_wrapped", replacement)  # no setting_changed
    assert Settings().TOKEN_DIGITS == 8
    monkeypatch.undo()
    assert Settings().TOKEN_DIGITS == 6


def test_setting_changed_drops_the_values() -> None:
    with override_settings(SINGLECONNECT_TOKEN_DIGITS=7):
        assert Settings().TOKEN_DIGITS == 7
        # Changed in place, unknown to Django: the kept value stands...
        django_settings._wrapped.SINGLECONNECT_TOKEN_DIGITS = 8
        assert Settings().TOKEN_DIGITS == 7
        # ...until setting_changed says otherwise.
        setting_changed.send(sender=None, setting="SINGLECONNECT_TOKEN_DIGITS", value=8, enter=True)
        assert Settings().TOKEN_DIGITS == 8


def test_a_value_that_fails_is_not_kept() -> None:
    with override_settings(SINGLECONNECT_TOKEN_DIGITS="six"):
        for _ in range(2):
            with pytest.raises(ValueError, match="six"):
                Settings().TOKEN_DIGITS  # noqa: B018


def test_kept_values_are_copied_out() -> None:
    with override_settings(SINGLECONNECT_COOKIES={"JSESSIONID": "x"}):
        Settings().COOKIES["injected"] = "1"
        assert Settings().COOKIES == {"JSESSIONID": "x"}


# -- the admin's values -------------------------------------------------------------------


@pytest.mark.django_db
def test_no_row_means_settings_alone() -> None:
    config = get_config()
    assert config.HOSTNAME == "sc.example.com"
    assert config.MAX_ATTEMPTS == 5


@pytest.mark.django_db
def test_admin_values_win_and_empty_fields_fall_back() -> None:
    SingleConnectConfiguration.objects.create(
        hostname="admin.example.com",
        application_name="",
        enforce="all",
        otp_inactive_policy="deny",
        max_attempts=3,
        lockout_seconds=None,
        resend_cooldown=0,
    )
    config = get_config()
    assert config.HOSTNAME == "admin.example.com"
    assert config.APPLICATION_NAME == "tests"  # empty: settings.py
    assert config.ENFORCE == "all"
    assert config.OTP_INACTIVE_POLICY == "deny"
    assert config.MAX_ATTEMPTS == 3
    assert config.LOCKOUT_SECONDS == 900  # empty: the default
    assert config.RESEND_COOLDOWN == 0  # zero is a value, not an empty field
    sources = {name: source for name, _, source in config.describe()}
    assert sources["SINGLECONNECT_HOSTNAME"] == "admin"
    assert sources["SINGLECONNECT_APPLICATION_NAME"] == "settings"
    assert sources["SINGLECONNECT_RESEND_COOLDOWN"] == "admin"
    assert sources["SINGLECONNECT_LOCKOUT_SECONDS"] == "default"
    # Settings() alone is what the checks see: settings.py only.
    assert Settings().HOSTNAME == "sc.example.com"


@pytest.mark.django_db
def test_override_settings_still_works_beside_a_row() -> None:
    SingleConnectConfiguration.objects.create(hostname="admin.example.com", max_attempts=3)
    get_config()  # warm the cache
    with override_settings(
        SINGLECONNECT_SCHEME="http",
        SINGLECONNECT_APPLICATION_NAME="overridden",
        SINGLECONNECT_HOSTNAME="settings.example.com",
        SINGLECONNECT_MAX_ATTEMPTS=9,
    ):
        config = get_config()
        assert config.SCHEME == "http"
        assert config.APPLICATION_NAME == "overridden"
        # What the row sets, the row decides.
        assert config.HOSTNAME == "admin.example.com"
        assert config.MAX_ATTEMPTS == 3
    assert get_config().SCHEME == "https"


@pytest.mark.django_db
def test_a_warm_cache_costs_no_query(django_assert_num_queries: Any) -> None:
    SingleConnectConfiguration.objects.create(hostname="admin.example.com", max_attempts=3)
    with django_assert_num_queries(1):
        get_config()
    with django_assert_num_queries(0):
        config = get_config()
        values = [getattr(config, name) for name in OPTIONS]
        list(config.describe())
    assert values[0] == "admin.example.com"


@pytest.mark.django_db
def test_each_process_asks_the_cache_at_most_once_a_second(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Another process's save reaches this one through the shared cache, within a second."""
    now = [1000.0]
    monkeypatch.setattr(conf.time, "monotonic", lambda: now[0])
    SingleConnectConfiguration.objects.create(max_attempts=3)
    assert get_config().MAX_ATTEMPTS == 3
    # Another process saves: the shared cache changes, this process's copy does not know.
    conf.get_cache().set(conf.CACHE_KEY, {"MAX_ATTEMPTS": 7})
    now[0] += conf.PROCESS_COPY_SECONDS - 0.01
    assert get_config().MAX_ATTEMPTS == 3
    now[0] += 0.02
    assert get_config().MAX_ATTEMPTS == 7


@pytest.mark.django_db
def test_the_admin_values_are_not_kept_with_the_settings(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """settings.py's values are kept; an admin value over one is as fresh as ever."""
    now = [1000.0]
    monkeypatch.setattr(conf.time, "monotonic", lambda: now[0])
    config = get_config()
    assert (config.HOSTNAME, config.MAX_ATTEMPTS) == ("sc.example.com", 5)  # kept now
    row = SingleConnectConfiguration.objects.create(hostname="admin.example.com")
    assert (get_config().HOSTNAME, get_config().MAX_ATTEMPTS) == ("admin.example.com", 5)
    # Another process saves.
    conf.get_cache().set(conf.CACHE_KEY, {"HOSTNAME": "two.example.com", "MAX_ATTEMPTS": 3})
    now[0] += conf.PROCESS_COPY_SECONDS + 0.01
    assert (get_config().HOSTNAME, get_config().MAX_ATTEMPTS) == ("two.example.com", 3)
    row.delete()
    assert (get_config().HOSTNAME, get_config().MAX_ATTEMPTS) == ("sc.example.com", 5)


@pytest.mark.django_db
def test_the_process_copy_spares_the_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    get_config()
    cache = conf.get_cache()
    reads: list[str] = []
    monkeypatch.setattr(cache, "get", lambda key, *args, **kwargs: reads.append(key))
    for _ in range(100):
        get_config()
    assert reads == []


@pytest.mark.django_db(transaction=True)
def test_async_reads_share_the_process_copy(monkeypatch: pytest.MonkeyPatch) -> None:
    now = [1000.0]
    monkeypatch.setattr(conf.time, "monotonic", lambda: now[0])
    read = async_to_sync(conf.aget_config)
    assert read().MAX_ATTEMPTS == 5  # cold: read from the database
    conf.get_cache().set(conf.CACHE_KEY, {"MAX_ATTEMPTS": 4})
    assert read().MAX_ATTEMPTS == 5  # this process's copy
    now[0] += conf.PROCESS_COPY_SECONDS + 0.01
    assert read().MAX_ATTEMPTS == 4  # from the cache


@pytest.mark.django_db
def test_no_row_is_cached_too(django_assert_num_queries: Any) -> None:
    with django_assert_num_queries(1):
        assert get_config().MAX_ATTEMPTS == 5
    with django_assert_num_queries(0):
        assert get_config().MAX_ATTEMPTS == 5


@pytest.mark.django_db
def test_save_drops_the_cache() -> None:
    row = SingleConnectConfiguration.objects.create(max_attempts=3)
    assert get_config().MAX_ATTEMPTS == 3
    row.max_attempts = 7
    row.save()
    assert get_config().MAX_ATTEMPTS == 7
    row.max_attempts = None
    row.save()
    assert get_config().MAX_ATTEMPTS == 5


@pytest.mark.django_db
def test_first_save_drops_a_cached_empty_answer() -> None:
    assert get_config().HOSTNAME == "sc.example.com"  # caches "no row"
    SingleConnectConfiguration(hostname="admin.example.com").save()
    assert get_config().HOSTNAME == "admin.example.com"


@pytest.mark.django_db
def test_delete_drops_the_cache() -> None:
    row = SingleConnectConfiguration.objects.create(hostname="admin.example.com")
    assert get_config().HOSTNAME == "admin.example.com"
    row.delete()
    assert get_config().HOSTNAME == "sc.example.com"


@pytest.mark.django_db(transaction=True)
def test_commit_drops_the_cache_again() -> None:
    """Another process may cache the old row between the save and the commit."""
    from django.db import transaction

    with transaction.atomic():
        SingleConnectConfiguration(hostname="admin.example.com").save()
        get_cache().set(CACHE_KEY, {"HOSTNAME": "stale.example.com"})
        assert get_config().HOSTNAME == "stale.example.com"
    assert get_config().HOSTNAME == "admin.example.com"


@pytest.mark.django_db
def test_the_row_is_a_singleton() -> None:
    SingleConnectConfiguration(hostname="one.example.com").save()
    SingleConnectConfiguration(hostname="two.example.com").save()
    assert SingleConnectConfiguration.objects.count() == 1
    assert SingleConnectConfiguration.objects.get().pk == 1
    assert get_config().HOSTNAME == "two.example.com"
    assert str(SingleConnectConfiguration.objects.get()) == "Single Connect settings"


def test_overrides_leaves_empty_fields_out() -> None:
    row = SingleConnectConfiguration(
        hostname="h.example.com", application_name="", max_attempts=None, resend_cooldown=0
    )
    assert row.overrides() == {"HOSTNAME": "h.example.com", "RESEND_COOLDOWN": 0}
    assert set(SingleConnectConfiguration.FIELD_SETTINGS.values()) <= set(OPTIONS)
    for field, name in SingleConnectConfiguration.FIELD_SETTINGS.items():
        assert OPTIONS[name].admin_field == field


@pytest.mark.django_db
@override_settings(
    CACHES={
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
        "other": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "singleconnect-other",
        },
    },
    SINGLECONNECT_CACHE="other",
)
def test_the_cache_setting_picks_the_cache() -> None:
    try:
        SingleConnectConfiguration.objects.create(hostname="admin.example.com")
        assert get_config().HOSTNAME == "admin.example.com"
        assert caches["other"].get(CACHE_KEY) == {"HOSTNAME": "admin.example.com"}
        assert caches["default"].get(CACHE_KEY) is None
        forget_overrides()
        assert caches["other"].get(CACHE_KEY) is None
    finally:
        caches["other"].clear()


@pytest.mark.django_db
def test_load_overrides_fills_the_cache() -> None:
    SingleConnectConfiguration.objects.create(max_attempts=4)
    assert get_cache().get(CACHE_KEY) is None
    assert load_overrides() == {"MAX_ATTEMPTS": 4}
    assert get_cache().get(CACHE_KEY) == {"MAX_ATTEMPTS": 4}


@pytest.mark.django_db
def test_aget_config(django_assert_num_queries: Any) -> None:
    SingleConnectConfiguration.objects.create(hostname="admin.example.com")
    with django_assert_num_queries(1):
        config = async_to_sync(aget_config)()
    assert config.HOSTNAME == "admin.example.com"
    with django_assert_num_queries(0):
        config = async_to_sync(aget_config)()
    assert config.HOSTNAME == "admin.example.com"
    assert config.APPLICATION_NAME == "tests"
