"""Settings for the test suite. SQLite and local-memory cache unless the environment says
otherwise: TEST_DATABASE_URL=postgres://... or mysql://... (MariaDB) and
TEST_CACHE_URL=redis://...."""

from __future__ import annotations

import os
from urllib.parse import urlsplit

BASE_DIR = os.path.dirname(os.path.abspath(__file__))

SECRET_KEY = "tests-only-not-secret"
DEBUG = False
ALLOWED_HOSTS = ["testserver", "localhost", "127.0.0.1"]
USE_TZ = True
TIME_ZONE = "UTC"
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

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.admindocs",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "allauth",
    "allauth.account",
    "django_singleconnect",
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
    "allauth.account.middleware.AccountMiddleware",
]

AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
ACCOUNT_EMAIL_VERIFICATION = "none"

ROOT_URLCONF = "tests.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [os.path.join(BASE_DIR, "templates")],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]


def _database() -> dict[str, object]:
    url = os.environ.get("TEST_DATABASE_URL", "")
    if not url:
        # A file, not :memory:, so that tests with several processes share it.
        return {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": os.path.join(BASE_DIR, "db.sqlite3"),
            "TEST": {"NAME": os.path.join(BASE_DIR, "test-db.sqlite3")},
        }
    parts = urlsplit(url)
    database: dict[str, object] = {
        "NAME": parts.path.lstrip("/"),
        "USER": parts.username or "",
        "PASSWORD": parts.password or "",
        "HOST": parts.hostname or "",
        "PORT": str(parts.port or ""),
    }
    if parts.scheme in ("mysql", "mariadb"):
        # MariaDB (or MySQL) through mysqlclient. Django asks for READ COMMITTED by
        # itself, and connects with CLIENT.FOUND_ROWS: an UPDATE counts the rows it
        # matched, not only those it changed.
        database["ENGINE"] = "django.db.backends.mysql"
        database["OPTIONS"] = {"charset": "utf8mb4", "isolation_level": "read committed"}
        database["TEST"] = {"CHARSET": "utf8mb4"}
    elif parts.scheme in ("postgres", "postgresql"):
        database["ENGINE"] = "django.db.backends.postgresql"
    else:
        raise ValueError(f"TEST_DATABASE_URL: unknown scheme {parts.scheme!r}")
    # Two runs against one server (a checkout and CI, say) each need a test database of
    # their own: TEST_DATABASE_NAME names it (Django's default: "test_" + the name).
    if os.environ.get("TEST_DATABASE_NAME"):
        test = database.setdefault("TEST", {})
        assert isinstance(test, dict)
        test["NAME"] = os.environ["TEST_DATABASE_NAME"]
    return database


DATABASES = {"default": _database()}

if os.environ.get("TEST_CACHE_URL"):
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": os.environ["TEST_CACHE_URL"],
            "KEY_PREFIX": f"singleconnect-tests-{os.getpid()}",
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/"
STATIC_URL = "/static/"

SINGLECONNECT_HOSTNAME = "sc.example.com"
SINGLECONNECT_APPLICATION_NAME = "tests"

# Simple JWT signs with SECRET_KEY by default, which is short here.
SIMPLE_JWT = {"SIGNING_KEY": "tests-only-jwt-signing-key-" + "x" * 40}
