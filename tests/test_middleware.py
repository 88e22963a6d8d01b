"""The middleware: the admin, SINGLECONNECT_ENFORCE = "all" and its exemptions, async mode."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import pytest
from asgiref.sync import async_to_sync, iscoroutinefunction
from django.contrib.auth.models import AnonymousUser
from django.core.cache import caches
from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.test import AsyncClient, Client, RequestFactory
from django.test.utils import CaptureQueriesContext

from django_singleconnect.middleware import SingleConnectMiddleware
from django_singleconnect.models import SingleConnectConfiguration
from django_singleconnect.state import PENDING_KEY, VERIFIED_KEY

pytestmark = pytest.mark.django_db

MIDDLEWARE = "django_singleconnect.middleware.SingleConnectMiddleware"


@pytest.fixture
def admin_login(password: str) -> Any:
    """Sign a client in with the admin's own login page."""

    def admin_login(client: Client) -> None:
        response = client.post(
            "/admin/login/?next=/admin/",
            {"username": "root", "password": password, "next": "/admin/"},
        )
        assert response.status_code == 302
        assert response["Location"] == "/admin/"

    return admin_login


@pytest.fixture
def admin_client(client: Client, staff: Any, simulator: Any, admin_login: Any) -> Client:
    """Signed in to the admin with the password only."""
    admin_login(client)
    return client


@pytest.fixture
def verified_admin(admin_client: Client, pass_code: Any) -> Client:
    pass_code(admin_client, "root", "/admin/")
    return admin_client


@pytest.fixture
def enforce_all(settings: Any) -> None:
    settings.SINGLECONNECT_ENFORCE = "all"


# -- the admin --------------------------------------------------------------------------------


def test_the_admin_login_starts_the_code_step(admin_client):
    assert PENDING_KEY in admin_client.session
    assert VERIFIED_KEY not in admin_client.session


@pytest.mark.parametrize(
    "path",
    [
        "/admin/",
        "/admin/auth/user/",
        "/admin/auth/user/add/",
        "/admin/django_singleconnect/verificationevent/",
        "/admin/password_change/",
        "/admin/auth/",
    ],
)
def test_a_password_only_session_is_sent_from_the_admin_to_the_code_page(admin_client, path):
    response = admin_client.get(path)
    assert response.status_code == 302
    assert response["Location"].startswith("/2fa/verify/?next=")
    assert response["Location"] == "/2fa/verify/?next=" + path.replace("/", "%2F")


def test_the_admin_login_stays_reachable(admin_client, django_user_model, login, password):
    # Staff signed in already are sent on by the admin itself, not to the code page.
    response = admin_client.get("/admin/login/")
    assert response["Location"] == "/admin/"
    # Anyone else sees the login form, even mid-step.
    other = Client()
    django_user_model.objects.create_user("alice", password=password)
    login(other)
    assert other.get("/admin/login/").status_code == 200


def test_the_admin_logout_stays_reachable(admin_client):
    response = admin_client.post("/admin/logout/")
    assert response.status_code == 200
    assert "_auth_user_id" not in admin_client.session


def test_the_admin_opens_after_the_code(verified_admin):
    assert verified_admin.get("/admin/").status_code == 200
    assert verified_admin.get("/admin/auth/user/").status_code == 200


def test_a_new_admin_login_asks_for_the_code_again(verified_admin, admin_login):
    admin_login(verified_admin)
    assert verified_admin.get("/admin/")["Location"] == "/2fa/verify/?next=%2Fadmin%2F"


def test_anonymous_users_get_the_admin_login(client):
    response = client.get("/admin/")
    assert response["Location"] == "/admin/login/?next=/admin/"


def test_the_admin_is_protected_in_both_modes_whatever_is_exempt(admin_client, settings):
    settings.SINGLECONNECT_ENFORCE = "all"
    settings.SINGLECONNECT_EXEMPT_URLS = ["/admin/", "admin:index"]
    assert admin_client.get("/admin/")["Location"] == "/2fa/verify/?next=%2Fadmin%2F"


# Everything under an admin site's prefix, admin views or not, and Django's password change.
DOORS = [
    "/admin/doc/",  # admindocs: no namespace of its own
    "/admin/doc/views/",
    "/admin/doc/models/",
    "/admin/tools/",  # anything else mounted under the prefix
    "/admin/password_change/",
    "/staff-admin/",  # a second admin site
    "/staff-admin/password_change/",
    "/accounts/password_change/",
    "/accounts/password_change/done/",
]


@pytest.mark.parametrize("enforce", ["decorated", "all"])
@pytest.mark.parametrize("path", DOORS)
def test_no_door_beside_the_code_page(admin_client, settings, enforce, path):
    settings.SINGLECONNECT_ENFORCE = enforce
    # Not even when the site lists them as exempt.
    settings.SINGLECONNECT_EXEMPT_URLS = [
        "/admin/doc/",
        "/admin/tools",
        "/accounts/",
        "password_change",
    ]
    response = admin_client.get(path)
    assert response.status_code == 302
    assert response["Location"] == "/2fa/verify/?" + urlencode({"next": path})


@pytest.mark.parametrize("path", DOORS)
def test_the_doors_open_after_the_code(verified_admin, path):
    response = verified_admin.get(path)
    assert response.status_code == 200


def test_a_password_only_session_cannot_change_the_password(admin_client, staff, password):
    response = admin_client.post(
        "/accounts/password_change/",
        {
            "old_password": password,
            "new_password1": "n3w-Passw0rd!",
            "new_password2": "n3w-Passw0rd!",
        },
    )
    assert response["Location"].startswith("/2fa/verify/")
    staff.refresh_from_db()
    assert staff.check_password(password)


def test_an_admin_site_at_the_root_leaves_the_way_in_open(settings, signed_in):
    settings.ROOT_URLCONF = "tests.urls_admin_at_root"
    assert signed_in.get("/")["Location"] == "/2fa/verify/?next=%2F"
    assert signed_in.get("/2fa/verify/").status_code in (200, 503)
    assert signed_in.get("/accounts/login/").status_code == 200


# -- SINGLECONNECT_ENFORCE ----------------------------------------------------------------------


def test_decorated_mode_leaves_other_views_open(signed_in):
    assert signed_in.get("/open/").status_code == 200
    assert signed_in.get("/open-user/").status_code == 200


@pytest.mark.parametrize("path", ["/open/", "/open-user/", "/open/?a=1"])
def test_enforce_all_protects_every_view(enforce_all, signed_in, path):
    response = signed_in.get(path)
    assert response.status_code == 302
    assert response["Location"].startswith("/2fa/verify/?next=%2Fopen")


def test_enforce_all_lets_verified_users_through(enforce_all, verified):
    assert verified.get("/open/").content == b"open page"


def test_enforce_all_leaves_anonymous_users_alone(enforce_all, client):
    assert client.get("/open/").status_code == 200
    assert client.get("/")["Location"] == "/accounts/login/?next=/"


def test_enforce_all_from_the_admin_configuration(signed_in):
    assert signed_in.get("/open/").status_code == 200
    SingleConnectConfiguration(enforce="all").save()
    assert signed_in.get("/open/").status_code == 302


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("get", "/exempt/", 200),
        ("get", "/accounts/login/", 200),
        ("post", "/accounts/logout/", 200),
        ("get", "/2fa/verify/", 200),
        ("post", "/2fa/resend/", 302),
        ("post", "/2fa/logout/", 302),
        ("get", "/static/css/site.css", 200),
    ],
)
def test_enforce_all_exempts_the_ways_in_and_out(enforce_all, signed_in, method, path, status):
    response = getattr(signed_in, method)(path)
    if response.streaming:  # a static file: read it, which also closes it
        b"".join(response.streaming_content)
    assert response.status_code == status
    assert response.get("Location") != "/2fa/verify/?" + urlencode({"next": path})


@pytest.mark.parametrize(
    ("exempt", "open_status", "open_user_status"),
    [
        (["open"], 200, 302),
        (["/open"], 200, 302),  # a prefix ends on a segment boundary: not /open-user/
        (["/open-user/"], 302, 200),
        (["tests:open", "/elsewhere/"], 302, 302),
    ],
)
def test_enforce_all_exempt_urls(
    enforce_all, signed_in, settings, exempt, open_status, open_user_status
):
    settings.SINGLECONNECT_EXEMPT_URLS = exempt
    assert signed_in.get("/open/").status_code == open_status
    assert signed_in.get("/open-user/").status_code == open_user_status


@pytest.mark.parametrize("login_url", ["/open/", "open"])
def test_enforce_all_exempts_login_url(enforce_all, signed_in, settings, login_url):
    settings.LOGIN_URL = login_url
    assert signed_in.get("/open/").status_code == 200
    assert signed_in.get("/open-user/").status_code == 302


def test_enforce_all_exempts_static_files_only_when_served_here(enforce_all, signed_in, settings):
    settings.STATIC_URL = "https://cdn.example.com/static/"
    assert signed_in.get("/static/css/site.css").status_code == 302


def test_enforce_all_exempts_the_static_files_view_not_whatever_lives_under_static_url(
    enforce_all, signed_in
):
    served = signed_in.get("/static/css/site.css")
    assert b"".join(served.streaming_content) == b"body { margin: 0; }\n"
    lookalike = signed_in.get("/static/app/report.csv")
    assert lookalike["Location"] == "/2fa/verify/?next=%2Fstatic%2Fapp%2Freport.csv"
    # The same file-serving view under MEDIA_URL is not static: media may be private.
    media = signed_in.get("/media/css/site.css")
    assert media["Location"] == "/2fa/verify/?next=%2Fmedia%2Fcss%2Fsite.css"


@pytest.mark.parametrize(
    ("exempt", "expected"),
    [
        # A prefix matches itself and what is below it, on a segment boundary.
        ("/api", {"/api/": 200, "/apiary/": 302}),
        ("/api/", {"/api/": 200, "/apiary/": 302}),
        ("/apiary", {"/api/": 302, "/apiary/": 200}),
        ("/ap", {"/api/": 302, "/apiary/": 302}),
    ],
)
def test_enforce_all_exempt_prefixes_match_whole_segments(
    enforce_all, signed_in, settings, exempt, expected
):
    settings.SINGLECONNECT_EXEMPT_URLS = [exempt]
    assert {path: signed_in.get(path).status_code for path in expected} == expected


def test_unresolved_requests_are_left_alone():
    """process_view on its own, for a request no URL pattern resolved."""
    request = RequestFactory().get("/anywhere/")
    request.user = AnonymousUser()
    middleware = SingleConnectMiddleware(lambda request: HttpResponse())
    assert middleware.process_view(request, lambda request: HttpResponse(), (), {}) is None


@pytest.mark.parametrize("enforce", ["decorated", "all"])
def test_unresolved_requests_of_signed_in_users(settings, user, enforce):
    settings.SINGLECONNECT_ENFORCE = enforce
    settings.SINGLECONNECT_EXEMPT_URLS = ["anywhere"]  # a URL name: no name to match here
    request = RequestFactory().get("/anywhere/")
    request.user = user
    request.session = {}
    middleware = SingleConnectMiddleware(lambda request: HttpResponse())
    response = middleware.process_view(request, lambda request: HttpResponse(), (), {})
    if enforce == "decorated":
        assert response is None
    else:
        assert response["Location"] == "/2fa/verify/?next=%2Fanywhere%2F"


# -- async mode --------------------------------------------------------------------------------


def test_the_middleware_is_sync_and_async_capable():
    def sync_view(request: HttpRequest) -> HttpResponse:
        return HttpResponse("sync")

    async def async_view(request: HttpRequest) -> HttpResponse:
        return HttpResponse("async")

    request = RequestFactory().get("/")
    sync_middleware = SingleConnectMiddleware(sync_view)
    assert not iscoroutinefunction(sync_middleware)
    assert sync_middleware(request).content == b"sync"
    async_middleware = SingleConnectMiddleware(async_view)
    assert iscoroutinefunction(async_middleware)
    assert async_to_sync(async_middleware)(request).content == b"async"


def async_get(client: Client, path: str) -> Any:
    """GET through Django's async handler, with the session of a sync client."""
    async_client = AsyncClient()
    async_client.cookies = client.cookies
    return async_to_sync(async_client.get)(path)


def test_the_admin_through_the_async_handler(admin_client, pass_code):
    response = async_get(admin_client, "/admin/")
    assert response.status_code == 302
    assert response["Location"] == "/2fa/verify/?next=%2Fadmin%2F"
    pass_code(admin_client, "root", "/admin/")
    assert async_get(admin_client, "/admin/").status_code == 200


def test_enforce_all_through_the_async_handler(enforce_all, signed_in, pass_code):
    assert async_get(signed_in, "/open/")["Location"] == "/2fa/verify/?next=%2Fopen%2F"
    assert async_get(signed_in, "/exempt/").status_code == 200
    assert async_get(Client(), "/open/").status_code == 200
    pass_code(signed_in)
    assert async_get(signed_in, "/open/").content == b"open page"


# -- cost ---------------------------------------------------------------------------------------


def count_queries(client: Client, path: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path)
    assert response.status_code == 200
    return len(queries)


def test_a_verified_admin_request_costs_no_query(verified_admin, settings):
    # A cold configuration cache, as after the cache expired: the admin does not read it.
    caches["default"].clear()
    with_middleware = count_queries(verified_admin, "/admin/")

    settings.MIDDLEWARE = [name for name in settings.MIDDLEWARE if name != MIDDLEWARE]
    without = Client()
    without.cookies = verified_admin.cookies
    # Whatever the admin index itself costs, the middleware adds nothing to it.
    assert count_queries(without, "/admin/") == with_middleware


def test_an_open_view_costs_no_query_in_decorated_mode(verified):
    verified.get("/open/")  # the configuration is cached from now on
    assert count_queries(verified, "/open/") == 0
