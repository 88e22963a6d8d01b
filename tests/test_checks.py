from __future__ import annotations

import inspect
import re
import types
from typing import Any

import pytest
from django.conf.urls.i18n import i18n_patterns
from django.contrib.auth import views as auth_views
from django.core.checks import Error, Warning, run_checks
from django.test import override_settings
from django.urls import include, path, reverse_lazy

from django_singleconnect import checks
from django_singleconnect.checks import (
    check_middleware,
    check_setting_names,
    check_settings,
    check_urls,
)

MIDDLEWARE = "django_singleconnect.middleware.SingleConnectMiddleware"
SESSION = "django.contrib.sessions.middleware.SessionMiddleware"
AUTH = "django.contrib.auth.middleware.AuthenticationMiddleware"
MESSAGES = "django.contrib.messages.middleware.MessageMiddleware"


def ids(messages: list[Any]) -> list[str]:
    return [message.id for message in messages]


def settings_ids(**overrides: Any) -> list[str]:
    with override_settings(**{f"SINGLECONNECT_{name}": value for name, value in overrides.items()}):
        return ids(check_settings())


# (settings without the SINGLECONNECT_ prefix, the one message they must give)
CASES: list[tuple[dict[str, Any], str]] = [
    ({"SLOW_CALL_SECONDS": 20, "TIMEOUT": (3, 10)}, "W005"),
    ({"SLOW_CALL_SECONDS": 4, "TIMEOUT": 2}, "W005"),
    ({"HOSTNAME": None}, "E001"),
    ({"HOSTNAME": ""}, "E001"),
    ({"HOSTNAME": "   "}, "E001"),
    ({"HOSTNAME": 123}, "E001"),
    ({"HOSTNAME": b"sc.example.com"}, "E001"),
    ({"APPLICATION_NAME": None}, "E002"),
    ({"APPLICATION_NAME": ""}, "E002"),
    ({"APPLICATION_NAME": " \t"}, "E002"),
    ({"APPLICATION_NAME": ["tests"]}, "E002"),
    ({"HOSTNAME": "https://sc.example.com"}, "E003"),
    ({"HOSTNAME": "sc.example.com/twofactorauth-ui"}, "E004"),
    ({"HOSTNAME": "sc.example.com:99999"}, "E005"),
    ({"HOSTNAME": "sc.example.com:https"}, "E005"),
    ({"HOSTNAME": "not a host!"}, "E006"),
    ({"HOSTNAME": ",  ,"}, "E001"),  # separators alone name no node
    ({"HOSTNAME": []}, "E001"),
    ({"HOSTNAME": ["sc1.example.com", 2]}, "E001"),
    ({"HOSTNAME": "sc1.example.com, https://sc2.example.com"}, "E003"),
    ({"HOSTNAME": ["sc1.example.com", "sc2.example.com:0"]}, "E005"),
    ({"SCHEME": "ftp"}, "E007"),
    ({"SCHEME": "HTTPS"}, "E007"),
    ({"SCHEME": None}, "E007"),
    ({"TIMEOUT": 0}, "E008"),
    ({"TIMEOUT": -1}, "E008"),
    ({"TIMEOUT": True}, "E008"),
    ({"TIMEOUT": "10"}, "E008"),
    ({"TIMEOUT": None}, "E008"),
    ({"TIMEOUT": (1,)}, "E008"),
    ({"TIMEOUT": (1, 2, 3)}, "E008"),
    ({"TIMEOUT": (1, None)}, "E008"),
    ({"TIMEOUT": (0, 5)}, "E008"),
    ({"TIMEOUT": [1, "2"]}, "E008"),
    ({"VERIFY": ""}, "E009"),
    ({"VERIFY": "  "}, "E009"),
    ({"VERIFY": None}, "E009"),
    ({"VERIFY": 1}, "E009"),
    ({"VERIFY": ["/ca.pem"]}, "E009"),
    ({"CLIENT_CERT": ""}, "E010"),
    ({"CLIENT_CERT": ("/client.pem",)}, "E010"),
    ({"CLIENT_CERT": ("/a.pem", "/b.key", "/c")}, "E010"),
    ({"CLIENT_CERT": ("/client.pem", 1)}, "E010"),
    ({"CLIENT_CERT": ("/client.pem", "")}, "E010"),
    ({"CLIENT_CERT": 5}, "E010"),
    ({"PROXIES": "http://proxy:3128"}, "E011"),
    ({"PROXIES": {"https": 3128}}, "E011"),
    ({"PROXIES": [("https", "http://proxy:3128")]}, "E011"),
    ({"EXTRA_HEADERS": None}, "E012"),
    ({"EXTRA_HEADERS": {"X-Api-Key": 1}}, "E012"),
    ({"EXTRA_HEADERS": {1: "x"}}, "E012"),
    ({"EXTRA_HEADERS": [("X-Api-Key", "x")]}, "E012"),
    ({"COOKIES": None}, "E013"),
    ({"COOKIES": {"JSESSIONID": 1}}, "E013"),
    ({"COOKIES": "JSESSIONID=x"}, "E013"),
    ({"ENFORCE": "everything"}, "E014"),
    ({"ENFORCE": None}, "E014"),
    ({"EXEMPT_URLS": "health"}, "E015"),
    ({"EXEMPT_URLS": [1]}, "E015"),
    ({"EXEMPT_URLS": None}, "E015"),
    ({"OTP_INACTIVE_POLICY": "block"}, "E016"),
    ({"OTP_INACTIVE_POLICY": True}, "E016"),
    ({"TOKEN_DIGITS": 3}, "E017"),
    ({"TOKEN_DIGITS": 13}, "E017"),
    ({"TOKEN_DIGITS": "6"}, "E017"),
    ({"TOKEN_DIGITS": 6.0}, "E017"),
    ({"TOKEN_DIGITS": True}, "E017"),
    ({"MAX_ATTEMPTS": 0}, "E018"),
    ({"MAX_ATTEMPTS": "5"}, "E018"),
    ({"MAX_ATTEMPTS": True}, "E018"),
    ({"MAX_ATTEMPTS": None}, "E018"),
    ({"LOCKOUT_SECONDS": 0}, "E019"),
    ({"LOCKOUT_SECONDS": 1.5}, "E019"),
    ({"RESEND_COOLDOWN": -1}, "E020"),
    ({"RESEND_COOLDOWN": None}, "E020"),
    ({"MAX_CHALLENGES_PER_HOUR": 0}, "E021"),
    ({"MAX_CHALLENGES_PER_HOUR": "5"}, "E021"),
    ({"PENDING_TIMEOUT": 0}, "E022"),
    ({"PENDING_TIMEOUT": 600.0}, "E022"),
    ({"USERNAME": "tests.no_such_module.username"}, "E023"),
    ({"USERNAME": "os.path.no_such_function"}, "E023"),
    ({"USERNAME": "os.sep"}, "E023"),  # importable, but not callable
    ({"USERNAME": "nodots"}, "E023"),
    ({"USERNAME": ".relative"}, "E023"),  # importlib raises ValueError here
    ({"USERNAME": "..relative"}, "E023"),  # and TypeError here
    ({"USERNAME": 42}, "E023"),
    ({"TRUSTED_PROXIES": "10.0.0.0/8"}, "E024"),
    ({"TRUSTED_PROXIES": ["10.0.0.0/33"]}, "E024"),
    ({"TRUSTED_PROXIES": ["proxy.example.com"]}, "E024"),
    ({"TRUSTED_PROXIES": [10]}, "E024"),
    ({"TRUSTED_PROXIES": None}, "E024"),
    ({"CACHE": "nope"}, "E025"),
    ({"CACHE": None}, "E025"),
    ({"CACHE": ["default"]}, "E025"),  # unhashable: must not crash the check
    ({"BASE_PATH": "twofactorauth-ui/rest/tfa"}, "E026"),
    ({"BASE_PATH": ""}, "E026"),
    ({"BASE_PATH": None}, "E026"),
    ({"REPLAY_SECONDS": -1}, "E028"),
    ({"REPLAY_SECONDS": "600"}, "E028"),
    ({"CIRCUIT_FAILURES": 0}, "E029"),
    ({"CIRCUIT_FAILURES": True}, "E029"),
    ({"CIRCUIT_RESET_SECONDS": 0}, "E030"),
    ({"CIRCUIT_RESET_SECONDS": "30"}, "E030"),
    ({"MAX_CONCURRENT_CALLS": 0}, "E031"),
    ({"MAX_CONCURRENT_CALLS": "4"}, "E031"),
    ({"SLOT_WAIT_SECONDS": -1}, "E032"),
    ({"SLOT_WAIT_SECONDS": "1"}, "E032"),
    ({"SLOT_WAIT_SECONDS": False}, "E032"),
    ({"MAX_SLOW_CALLS": 0}, "E036"),
    ({"MAX_SLOW_CALLS": "2"}, "E036"),
    ({"SLOW_CALL_SECONDS": 0}, "E037"),
    ({"SLOW_CALL_SECONDS": "1"}, "E037"),
    ({"MAX_CODES_PER_HOUR": 0}, "E040"),
    ({"LOCKOUT_SERIES_SECONDS": -1}, "E041"),
    ({"MAX_LOCKOUT_SECONDS": 0}, "E042"),
    ({"VERIFIED_MAX_AGE": 0}, "E070"),
    ({"VERIFIED_MAX_AGE": "3600"}, "E070"),
    ({"SEND_LOGIN_FAILED": "yes"}, "E071"),
    ({"REMEMBER_DAYS": -1}, "E072"),
    ({"REMEMBER_STAFF": 1}, "E073"),
    ({"AUDIT_RETENTION_DAYS": 0}, "E074"),
    ({"AUDIT_RETENTION_DAYS": "365"}, "E074"),
    ({"AUDIT_RETENTION_DAYS": 365.0}, "E074"),
    ({"OTP_INACTIVE_POLICY": "tests.does_not_exist.policy"}, "E016"),
    ({"ALLOWED_HOSTNAMES": "sc.example.com"}, "E043"),  # a string, not a list
    ({"ALLOWED_HOSTNAMES": ["https://sc.example.com"]}, "E043"),
    ({"ALLOWED_HOSTNAMES": ["other.example.com"]}, "E044"),  # settings.py's is not in it
    (
        {"HOSTNAME": "sc1.example.com sc2.example.com", "ALLOWED_HOSTNAMES": ["sc1.example.com"]},
        "E044",
    ),
    ({"SCHEME": "http"}, "W001"),
    ({"VERIFY": False}, "W002"),
]


@pytest.mark.parametrize(("overrides", "check_id"), CASES)
def test_each_bad_value_gives_its_own_message(overrides: dict[str, Any], check_id: str) -> None:
    assert settings_ids(**overrides) == [f"django_singleconnect.{check_id}"]


@pytest.mark.parametrize("name", ["HOSTNAME", "APPLICATION_NAME"])
def test_missing_required_settings(settings: Any, name: str) -> None:
    delattr(settings, f"SINGLECONNECT_{name}")
    expected = {"HOSTNAME": "E001", "APPLICATION_NAME": "E002"}[name]
    assert ids(check_settings()) == [f"django_singleconnect.{expected}"]


def test_the_test_settings_are_clean() -> None:
    assert check_settings() == []
    assert check_middleware() == []


GOOD: list[dict[str, Any]] = [
    {"HOSTNAME": "sc.example.com:8443"},
    {"HOSTNAME": "[::1]:8443"},
    {"HOSTNAME": "10.1.2.3"},
    # Several nodes: commas and/or whitespace, or a list; a trailing newline separates nothing.
    {"HOSTNAME": "sc1.example.com, sc2.example.com:8443"},
    {"HOSTNAME": "sc1.example.com\n sc2.example.com"},
    {"HOSTNAME": "sc.example.com\n"},
    {"HOSTNAME": ["sc1.example.com", "[::1]:8443"]},
    {
        "HOSTNAME": "sc1.example.com,sc2.example.com",
        "ALLOWED_HOSTNAMES": ["SC2.example.com", "sc1.example.com"],
    },
    {"SCHEME": "https"},
    {"BASE_PATH": "/other/path/"},
    {"TIMEOUT": 5},
    {"TIMEOUT": 0.5, "SLOW_CALL_SECONDS": 0.3},
    {"TIMEOUT": (1, 2)},
    {"TIMEOUT": [1, 2.5]},
    {"VERIFY": True},
    {"VERIFY": "/etc/ssl/certs/kron-ca.pem"},
    {"CLIENT_CERT": None},
    {"CLIENT_CERT": "/etc/ssl/client.pem"},
    {"CLIENT_CERT": ["/etc/ssl/client.pem", "/etc/ssl/client.key"]},
    {"PROXIES": None},
    {"PROXIES": {"https": "http://proxy.example.com:3128"}},
    {"EXTRA_HEADERS": {"X-Gateway": "abc"}},
    {"COOKIES": {"JSESSIONID": "xyz"}},
    {"ENFORCE": "all"},
    {"ENFORCE": "decorated"},
    {"EXEMPT_URLS": ["health", "/status/"]},
    {"EXEMPT_URLS": ()},
    {"OTP_INACTIVE_POLICY": "deny"},
    {"TOKEN_DIGITS": 4},
    {"TOKEN_DIGITS": 12},
    {"MAX_ATTEMPTS": 1},
    {"LOCKOUT_SECONDS": 1},
    {"RESEND_COOLDOWN": 0},
    {"MAX_CHALLENGES_PER_HOUR": 1},
    {"PENDING_TIMEOUT": 1},
    {"USERNAME": None},
    {"USERNAME": "django.utils.text.slugify"},
    {"TRUSTED_PROXIES": ["10.0.0.0/8", "192.168.1.1", "::1", "2001:db8::/32"]},
    {"TRUSTED_PROXIES": ()},
    {"CACHE": "default"},
]


@pytest.mark.parametrize("overrides", GOOD)
def test_good_values_give_no_message(overrides: dict[str, Any]) -> None:
    assert settings_ids(**overrides) == []


def test_several_problems_are_all_reported() -> None:
    assert settings_ids(SCHEME="http", VERIFY=False, TOKEN_DIGITS=2, HOSTNAME="x/y") == [
        "django_singleconnect.E004",
        "django_singleconnect.E017",
        "django_singleconnect.W001",
        "django_singleconnect.W002",
    ]


@override_settings(SESSION_ENGINE="django.contrib.sessions.backends.signed_cookies")
def test_signed_cookie_sessions_warn() -> None:
    assert ids(check_settings()) == ["django_singleconnect.W004"]


@pytest.mark.parametrize(
    "engine",
    [
        "django.contrib.sessions.backends.db",
        "django.contrib.sessions.backends.cache",
        "django.contrib.sessions.backends.cached_db",
    ],
)
def test_server_side_sessions_do_not_warn(engine: str) -> None:
    with override_settings(SESSION_ENGINE=engine):
        assert check_settings() == []


@pytest.mark.parametrize(
    ("middleware", "expected"),
    [
        ([SESSION, AUTH, MIDDLEWARE, MESSAGES], []),
        ([SESSION, AUTH, MESSAGES], ["django_singleconnect.W003"]),
        ([], ["django_singleconnect.W003"]),
        ([MIDDLEWARE, SESSION, AUTH], ["django_singleconnect.E027"]),
        ([SESSION, MIDDLEWARE, AUTH], ["django_singleconnect.E027"]),
        ([AUTH, MIDDLEWARE, SESSION], ["django_singleconnect.E027"]),
        ([AUTH, MIDDLEWARE], ["django_singleconnect.E027"]),
        ([SESSION, MIDDLEWARE], ["django_singleconnect.E027"]),
    ],
)
def test_middleware(middleware: list[str], expected: list[str]) -> None:
    with override_settings(MIDDLEWARE=middleware):
        assert ids(check_middleware()) == expected


def test_middleware_messages_name_what_to_do() -> None:
    with override_settings(MIDDLEWARE=[SESSION, AUTH]):
        (missing,) = check_middleware()
    with override_settings(MIDDLEWARE=[SESSION, MIDDLEWARE, AUTH]):
        (order,) = check_middleware()
    assert isinstance(missing, Warning)
    assert MIDDLEWARE in missing.hint
    assert isinstance(order, Error)
    assert AUTH in order.msg
    assert AUTH in order.hint


def test_each_wrong_node_is_named() -> None:
    with override_settings(
        SINGLECONNECT_HOSTNAME="sc1.example.com, sc2.example.com/x, sc3.example.com",
        SINGLECONNECT_ALLOWED_HOSTNAMES=["sc1.example.com"],
    ):
        messages = check_settings()
    assert [(message.id, message.msg) for message in messages] == [
        (
            "django_singleconnect.E004",
            "SINGLECONNECT_HOSTNAME's node 'sc2.example.com/x' is not a host or host:port.",
        ),
        (
            "django_singleconnect.E044",
            "SINGLECONNECT_HOSTNAME's node 'sc2.example.com/x' is not in "
            "SINGLECONNECT_ALLOWED_HOSTNAMES.",
        ),
        (
            "django_singleconnect.E044",
            "SINGLECONNECT_HOSTNAME's node 'sc3.example.com' is not in "
            "SINGLECONNECT_ALLOWED_HOSTNAMES.",
        ),
    ]


def test_levels_and_hints() -> None:
    seen = {}
    for overrides, check_id in CASES:
        with override_settings(
            **{f"SINGLECONNECT_{name}": value for name, value in overrides.items()}
        ):
            (message,) = check_settings()
        seen[check_id] = message
        assert message.hint, check_id
        # Each message names the setting it is about, in its text or its hint.
        assert any(f"SINGLECONNECT_{name}" in message.msg + message.hint for name in overrides)
    for check_id, message in seen.items():
        assert isinstance(message, Warning if check_id.startswith("W") else Error)
    with override_settings(SESSION_ENGINE="django.contrib.sessions.backends.signed_cookies"):
        (signed,) = check_settings()
    assert "SESSION_ENGINE" in signed.hint


def test_every_id_in_checks_py_is_tested() -> None:
    """A new check added to checks.py without a case here makes this fail."""
    source = inspect.getsource(checks)
    defined = set(re.findall(r'"([EW]\d{3})"', source))
    elsewhere = {"W003", "W004", "E027", "E050", "W050", "W051"}  # tested below CASES
    tested = {check_id for _, check_id in CASES} | elsewhere
    assert defined | elsewhere == tested
    expected = {
        f"E{number:03d}"
        for number in (*range(1, 33), 36, 37, *range(40, 45), 50, 70, 71, 72, 73, 74)
    }
    expected |= {"W001", "W002", "W003", "W004", "W005", "W050", "W051"}
    assert tested == expected


# Django 6.1's model checks ask the database whether it supports JSONField.
@pytest.mark.django_db
def test_checks_are_registered() -> None:
    with override_settings(SINGLECONNECT_TOKEN_DIGITS=99, MIDDLEWARE=[SESSION, AUTH]):
        found = [
            message.id for message in run_checks() if message.id.startswith("django_singleconnect")
        ]
    assert sorted(found) == ["django_singleconnect.E017", "django_singleconnect.W003"]
    assert not [
        message for message in run_checks() if message.id.startswith("django_singleconnect")
    ]


def test_checks_read_no_database() -> None:
    # No django_db mark here: any query would fail the test outright.
    check_settings()
    check_middleware()
    check_setting_names()
    check_urls()


# -- the names of the settings (W050) --------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "meant"),
    [
        ("SINGLECONNECT_MAX_ATTEMPT", "SINGLECONNECT_MAX_ATTEMPTS"),
        ("SINGLECONNECT_HOST_NAME", "SINGLECONNECT_HOSTNAME"),
        ("SINGLECONNECT_TIMOUT", "SINGLECONNECT_TIMEOUT"),
        ("SINGLECONNECT_ENFORCED", "SINGLECONNECT_ENFORCE"),
    ],
)
def test_a_misspelt_setting_warns_with_the_name_meant(name: str, meant: str) -> None:
    with override_settings(**{name: 3}):
        (message,) = check_setting_names()
    assert isinstance(message, Warning)
    assert message.id == "django_singleconnect.W050"
    assert name in message.msg
    assert message.hint == f"Did you mean {meant}?"


def test_an_unknown_setting_like_no_other_still_warns() -> None:
    with override_settings(SINGLECONNECT_FOO=1):
        (message,) = check_setting_names()
    assert message.id == "django_singleconnect.W050"
    assert "SINGLECONNECT_FOO" in message.msg
    assert "Settings" in message.hint


def test_every_unknown_setting_warns_once() -> None:
    with override_settings(SINGLECONNECT_FOO=1, SINGLECONNECT_BAR=2):
        assert [message.msg.split()[0] for message in check_setting_names()] == [
            "SINGLECONNECT_BAR",
            "SINGLECONNECT_FOO",
        ]


def test_every_setting_of_the_package_is_known() -> None:
    every = {option.setting: option.default for option in checks.OPTIONS.values()}
    with override_settings(**every):
        assert check_setting_names() == []


def test_other_names_can_be_made_known(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(checks, "EXTRA_SETTINGS", {"SINGLECONNECT_INTEGRATION_OPTION"})
    with override_settings(SINGLECONNECT_INTEGRATION_OPTION=True):
        assert check_setting_names() == []
    assert "SINGLECONNECT_INTEGRATION_OPTION" in checks.known_settings()


def test_names_without_the_prefix_are_not_ours() -> None:
    with override_settings(SINGLECONNECTX=1, MY_SINGLECONNECT_HOSTNAME="x"):
        assert check_setting_names() == []


# -- the URLs (E050, W051) -------------------------------------------------------------------


def urlconf(*patterns: Any) -> types.ModuleType:
    module = types.ModuleType("urlconf_of_a_test")
    module.urlpatterns = list(patterns)  # type: ignore[attr-defined]
    return module


LOGIN = path("accounts/login/", auth_views.LoginView.as_view(), name="login")
CODE = path("2fa/", include("django_singleconnect.urls"))


def test_the_test_urls_are_clean() -> None:
    assert check_urls() == []
    assert check_setting_names() == []


def test_a_missing_include_is_an_error() -> None:
    with override_settings(ROOT_URLCONF=urlconf(LOGIN)):
        (message,) = check_urls()
    assert isinstance(message, Error)
    assert message.id == "django_singleconnect.E050"
    assert 'include("django_singleconnect.urls")' in message.hint


def test_the_include_under_another_prefix_is_fine() -> None:
    with override_settings(
        ROOT_URLCONF=urlconf(LOGIN, path("otp/", include("django_singleconnect.urls")))
    ):
        assert check_urls() == []


@pytest.mark.parametrize(
    "login_url",
    [
        "/accounts/login/",
        "/accounts/login/?source=otp",
        "login",
        reverse_lazy("login"),
        "https://sso.example.com/login/",
        "//sso.example.com/login/",
    ],
)
def test_a_login_url_that_resolves(login_url: Any) -> None:
    with override_settings(LOGIN_URL=login_url):
        assert check_urls() == []


@pytest.mark.parametrize("login_url", ["/accounts/profile/", "/login/", "signin", "", None])
def test_a_login_url_that_resolves_to_nothing_warns(login_url: Any) -> None:
    with override_settings(LOGIN_URL=login_url):
        (message,) = check_urls()
    assert isinstance(message, Warning)
    assert message.id == "django_singleconnect.W051"
    assert "LOGIN_URL" in message.msg
    assert "django.contrib.auth.urls" in message.hint


def test_a_fresh_project_without_a_login_view_warns() -> None:
    """startproject's urls.py has the admin only, and LOGIN_URL is /accounts/login/."""
    from django.contrib import admin

    with override_settings(ROOT_URLCONF=urlconf(path("admin/", admin.site.urls), CODE)):
        assert ids(check_urls()) == ["django_singleconnect.W051"]


def test_a_login_url_under_the_script_name() -> None:
    with override_settings(FORCE_SCRIPT_NAME="/app", LOGIN_URL="/app/accounts/login/"):
        assert check_urls() == []


def test_a_login_url_under_language_prefixes() -> None:
    with override_settings(ROOT_URLCONF=urlconf(CODE, *i18n_patterns(LOGIN))):
        assert check_urls() == []
    with override_settings(ROOT_URLCONF=urlconf(CODE, *i18n_patterns(LOGIN)), LOGIN_URL="/x/"):
        assert ids(check_urls()) == ["django_singleconnect.W051"]


# Django 6.1's model checks ask the database whether it supports JSONField.
@pytest.mark.django_db
def test_the_url_checks_are_registered() -> None:
    with override_settings(ROOT_URLCONF=urlconf(), SINGLECONNECT_MAX_ATTEMPT=3):
        found = sorted(
            message.id for message in run_checks() if message.id.startswith("django_singleconnect")
        )
    assert found == [
        "django_singleconnect.E050",
        "django_singleconnect.W050",
        "django_singleconnect.W051",
    ]


def test_a_slow_call_threshold_under_the_deadline_is_fine(settings: Any) -> None:
    settings.SINGLECONNECT_TIMEOUT = (3, 10)
    settings.SINGLECONNECT_SLOW_CALL_SECONDS = 12.9
    assert "django_singleconnect.W005" not in ids(check_settings())
    settings.SINGLECONNECT_MAX_SLOW_CALLS = None  # no slow limit: nothing to warn about
    settings.SINGLECONNECT_SLOW_CALL_SECONDS = 60
    assert "django_singleconnect.W005" not in ids(check_settings())
