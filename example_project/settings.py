"""
Settings for the example project. Each value comes from the environment variable of the same
name (DATABASE_URL for the database), or a ``.env`` file next to ``manage.py``. The defaults
run the site on a laptop against the local Single Connect simulator: not for production.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import environ

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
# Variables already in the environment win over the file. ENV_FILE names another file;
# ENV_FILE="" reads none (the tests do that, so a developer's .env cannot change them).
ENV_FILE = env.str("ENV_FILE", default=str(BASE_DIR / ".env"))
if ENV_FILE and Path(ENV_FILE).is_file():
    env.read_env(ENV_FILE)

# DANGER, development only: a public secret key and debug pages. Set SECRET_KEY and
# DEBUG=false in any environment that others can reach.
SECRET_KEY = env.str("SECRET_KEY", default="django-insecure-example-project-only-never-deploy")
DEBUG = env.bool("DEBUG", default=True)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1"])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_singleconnect",
    "example_project.demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_singleconnect.middleware.SingleConnectMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "example_project.urls"
WSGI_APPLICATION = "example_project.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "example_project" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {
    "default": env.db(
        "DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'example_project' / 'db.sqlite3'}"
    ),
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# The admin's Single Connect settings, and the circuit breaker, live in this cache: with
# several worker processes give them a shared one, e.g. CACHE_URL=redis://127.0.0.1:6379/1.
CACHES = {"default": env.cache_url("CACHE_URL", default="locmemcache://")}

LANGUAGE_CODE = "en"
LANGUAGES = [
    ("en", "English"),
    ("ar", "العربية"),
    ("de", "Deutsch"),
    ("es", "Español"),
    ("fr", "Français"),
    ("ru", "Русский"),
    ("tr", "Türkçe"),
]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
# The example's own strings (its login and home pages); the package brings its catalogue.
LOCALE_PATHS = [BASE_DIR / "example_project" / "locale"]

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "example_project" / "static"]
# `collectstatic` gathers the files here for the web server; with DEBUG on, the site serves
# them itself (urls.py), under runserver and gunicorn alike.
STATIC_ROOT = env.str("STATIC_ROOT", default=str(BASE_DIR / "example_project" / "staticfiles"))

LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/accounts/login/"

# Single Connect. The defaults point at the simulator (`python manage.py
# singleconnect_simulator`); `python manage.py demo` starts one and overrides them.
# DANGER, development only: "http" sends codes in clear (system check W001 says so).
SINGLECONNECT_HOSTNAME = env.str("SINGLECONNECT_HOSTNAME", default="127.0.0.1:8765")
SINGLECONNECT_APPLICATION_NAME = env.str(
    "SINGLECONNECT_APPLICATION_NAME", default="example-project"
)
SINGLECONNECT_SCHEME = env.str("SINGLECONNECT_SCHEME", default="http")


def _timeout(var: str) -> float | tuple[float, ...]:
    """Seconds: "3.05,10" is (connect, read), "5" is both."""
    seconds = env.list(var, cast=float)
    return seconds[0] if len(seconds) == 1 else tuple(seconds)


def _verify(var: str) -> bool | str:
    """A boolean ("true" or "false"), or else the path of a CA bundle."""
    value: str = env.str(var)
    return value.lower() == "true" if value.lower() in ("true", "false") else value


def _optional_int(var: str) -> int | None:
    """An int, or "none" for None."""
    value: str = env.str(var)
    return None if value.lower() == "none" else int(value)


def _client_cert(var: str) -> str | tuple[str, ...]:
    """One path (certificate and key in one file), or "certificate,key"."""
    paths = env.list(var)
    return paths[0] if len(paths) == 1 else tuple(paths)


# The others are set only when their variable is present, so the package's default applies.
# Lists are comma-separated; dicts are "name=value,name=value".
_OPTIONAL: dict[str, Callable[[str], Any]] = {
    "SINGLECONNECT_BASE_PATH": env.str,
    "SINGLECONNECT_TIMEOUT": _timeout,
    "SINGLECONNECT_VERIFY": _verify,
    "SINGLECONNECT_CLIENT_CERT": _client_cert,
    "SINGLECONNECT_PROXIES": env.dict,
    "SINGLECONNECT_EXTRA_HEADERS": env.dict,
    "SINGLECONNECT_COOKIES": env.dict,
    "SINGLECONNECT_ENFORCE": env.str,
    "SINGLECONNECT_EXEMPT_URLS": env.list,
    "SINGLECONNECT_OTP_INACTIVE_POLICY": env.str,
    "SINGLECONNECT_TOKEN_DIGITS": env.int,
    "SINGLECONNECT_MAX_ATTEMPTS": env.int,
    "SINGLECONNECT_LOCKOUT_SECONDS": env.int,
    "SINGLECONNECT_RESEND_COOLDOWN": env.int,
    "SINGLECONNECT_MAX_CHALLENGES_PER_HOUR": env.int,
    "SINGLECONNECT_PENDING_TIMEOUT": env.int,
    "SINGLECONNECT_REMEMBER_DAYS": env.int,
    "SINGLECONNECT_REPLAY_SECONDS": env.int,
    "SINGLECONNECT_CIRCUIT_FAILURES": env.int,
    "SINGLECONNECT_CIRCUIT_RESET_SECONDS": env.float,
    "SINGLECONNECT_MAX_CONCURRENT_CALLS": _optional_int,
    "SINGLECONNECT_SLOT_WAIT_SECONDS": env.float,
    "SINGLECONNECT_MAX_SLOW_CALLS": _optional_int,
    "SINGLECONNECT_SLOW_CALL_SECONDS": env.float,
    "SINGLECONNECT_USERNAME": env.str,
    "SINGLECONNECT_TRUSTED_PROXIES": env.list,
    "SINGLECONNECT_CACHE": env.str,
}
for _name, _parse in _OPTIONAL.items():
    if _name in env:
        globals()[_name] = _parse(_name)
