"""
Settings for the in-process benchmarks (protected_view, client_vs_requests, code_step_cpu).

SQLite in a temporary file (``BENCHMARK_SQLITE``, set by ``common.setup_django``) or the
PostgreSQL database of ``BENCHMARK_DATABASE_URL``; the database session backend; the
local-memory cache, or Redis with ``BENCHMARK_CACHE_URL``. Nothing here is for production.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent

SECRET_KEY = "benchmarks-only-not-secret"
# DEBUG would record every query in connection.queries and slow every request down.
DEBUG = False
ALLOWED_HOSTS = ["testserver", "127.0.0.1", "localhost"]
USE_TZ = True
TIME_ZONE = "UTC"
LANGUAGE_CODE = "en"

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django_otp",
    "django_otp.plugins.otp_static",
    "django_singleconnect",
]
#: code_step_cpu.py's peer, django-two-factor-auth (the benchmarks extra), with a TOTP device.
TWO_FACTOR = os.environ.get("BENCHMARK_TWO_FACTOR") == "1"
if TWO_FACTOR:
    INSTALLED_APPS += ["django_otp.plugins.otp_totp", "two_factor"]

#: What every compared stack has; each benchmark adds its second-factor middleware.
BASE_MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]
AFTER_AUTHENTICATION = BASE_MIDDLEWARE.index(
    "django.contrib.auth.middleware.AuthenticationMiddleware"
)


def with_middleware(name: str) -> list[str]:
    """``BASE_MIDDLEWARE`` with ``name`` right after ``AuthenticationMiddleware``."""
    middleware = list(BASE_MIDDLEWARE)
    middleware.insert(AFTER_AUTHENTICATION + 1, name)
    return middleware


MIDDLEWARE = with_middleware("django_singleconnect.middleware.SingleConnectMiddleware")

ROOT_URLCONF = "benchmarks.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [ROOT / "example_project" / "templates"],
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


def _database() -> dict[str, object]:
    url = os.environ.get("BENCHMARK_DATABASE_URL", "")
    # One connection for the whole run, as a site with persistent connections has.
    if not url:
        return {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": os.environ.get("BENCHMARK_SQLITE", ":memory:"),
            "CONN_MAX_AGE": None,
        }
    parts = urlsplit(url)
    if parts.scheme not in ("postgres", "postgresql"):
        raise ValueError(f"BENCHMARK_DATABASE_URL: only postgres:// is supported, not {url!r}")
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": parts.path.lstrip("/"),
        "USER": parts.username or "",
        "PASSWORD": parts.password or "",
        "HOST": parts.hostname or "",
        "PORT": str(parts.port or ""),
        "CONN_MAX_AGE": None,
    }


DATABASES = {"default": _database()}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
if os.environ.get("BENCHMARK_CACHE_URL"):  # e.g. redis://127.0.0.1:6379/0
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": os.environ["BENCHMARK_CACHE_URL"],
            "KEY_PREFIX": f"singleconnect-benchmarks-{os.getpid()}",
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
SESSION_ENGINE = "django.contrib.sessions.backends.db"

# The password hash is the same work with or without a second factor; a fast one keeps it
# from drowning what is measured. load.py measures the real hasher through gunicorn.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/"
STATIC_URL = "/static/"

# Each benchmark points these at its own simulator (or stubs the client out).
SINGLECONNECT_HOSTNAME = "127.0.0.1:9"
SINGLECONNECT_APPLICATION_NAME = "benchmarks"
SINGLECONNECT_SCHEME = "http"
# One user signs in thousands of times a run: far past a real site's code budget. The budget
# is still taken, and its statements counted, on every login.
SINGLECONNECT_MAX_CODES_PER_HOUR = 1_000_000
