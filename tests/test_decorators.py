"""``singleconnect_required``, ``SingleConnectRequiredMixin`` and ``singleconnect_exempt``,
on sync and async views, through the sync and the async handler."""

from __future__ import annotations

from typing import Any

import pytest
from asgiref.sync import async_to_sync, iscoroutinefunction
from django.contrib.auth.mixins import LoginRequiredMixin
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.test import AsyncClient, Client, RequestFactory
from django.test.utils import CaptureQueriesContext
from django.views import View
from django.views.generic import TemplateView

from django_singleconnect.decorators import singleconnect_exempt, singleconnect_required
from django_singleconnect.mixins import SingleConnectRequiredMixin
from tests import views

pytestmark = pytest.mark.django_db

PAGES = [
    ("/", b"protected page"),
    ("/async/", b"async protected page"),
    ("/args/", b"protected with args"),
    ("/mixin/", b"mixin page"),
    ("/async-mixin/", b"async mixin page"),
]


def get(client: Client, path: str, handler: str) -> Any:
    """GET through the sync handler, or through the async one with the same session."""
    if handler == "sync":
        return client.get(path)
    async_client = AsyncClient()
    async_client.cookies = client.cookies
    return async_to_sync(async_client.get)(path)


@pytest.fixture(params=["sync", "async"])
def handler(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.mark.parametrize(("path", "content"), PAGES)
def test_anonymous_users_go_to_the_login_url(client, handler, path, content):
    response = get(client, path, handler)
    assert response.status_code == 302
    login_url = "/elsewhere/" if path == "/args/" else "/accounts/login/"
    assert response["Location"] == f"{login_url}?next={path}"


@pytest.mark.parametrize(("path", "content"), PAGES)
def test_password_only_users_go_to_the_code_page(signed_in, handler, path, content):
    response = get(signed_in, path, handler)
    assert response.status_code == 302
    assert response["Location"] == "/2fa/verify/?next=" + path.replace("/", "%2F")


@pytest.mark.parametrize(("path", "content"), PAGES)
def test_verified_users_see_the_page(verified, handler, path, content):
    response = get(verified, path, handler)
    assert response.status_code == 200
    assert response.content == content


def test_async_login_then_the_code(user, simulator):
    async_client = AsyncClient()
    async_to_sync(async_client.aforce_login)(user)
    response = async_to_sync(async_client.get)("/async/")
    assert response["Location"] == "/2fa/verify/?next=%2Fasync%2F"
    response = async_to_sync(async_client.get)("/2fa/verify/")
    assert response.status_code == 200
    code = simulator.current_code("alice")
    response = async_to_sync(async_client.post)("/2fa/verify/", {"token": code, "next": "/async/"})
    assert response["Location"] == "/async/"
    assert async_to_sync(async_client.get)("/async/").content == b"async protected page"
    assert async_to_sync(async_client.get)("/async-mixin/").content == b"async mixin page"


def test_the_decorator_keeps_the_view_and_marks_it():
    assert views.protected.__name__ == "protected"
    assert views.protected.__wrapped__ is not None
    assert views.protected.singleconnect_required is True
    assert views.protected_with_args.singleconnect_required is True
    assert iscoroutinefunction(views.async_protected)
    assert not iscoroutinefunction(views.protected)
    assert views.exempt_view.singleconnect_exempt is True


def test_the_decorator_passes_arguments_on(verified, user, rf) -> None:
    @singleconnect_required
    def view(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return HttpResponse(f"{args} {kwargs}")

    @singleconnect_required(login_url="/sso/")
    async def async_view(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return HttpResponse(f"{args} {kwargs}")

    async def auser() -> Any:
        return user

    request = rf.get("/x/")
    request.session = verified.session  # a verified session, loaded afresh
    request.user = user
    request.auser = auser
    assert view(request, 1, a=2).content == b"(1,) {'a': 2}"
    assert async_to_sync(async_view)(request, 1, a=2).content == b"(1,) {'a': 2}"


def test_the_mixin_takes_a_login_url(rf: RequestFactory) -> None:
    class SsoView(SingleConnectRequiredMixin, View):
        login_url = "/sso/"

        def get(self, request: HttpRequest) -> HttpResponse:
            return HttpResponse("sso")

    request = rf.get("/report/")
    request.user = AnonymousUser()
    response = SsoView.as_view()(request)
    assert response["Location"] == "/sso/?next=/report/"


def test_exempt_keeps_the_view() -> None:
    def view(request: HttpRequest) -> HttpResponse:
        return HttpResponse()

    assert singleconnect_exempt(view) is view
    assert view.singleconnect_exempt is True  # type: ignore[attr-defined]


# -- cost ---------------------------------------------------------------------------------------


def count_queries(client: Client, path: str, handler: str = "sync") -> int:
    with CaptureQueriesContext(connection) as queries:
        response = get(client, path, handler)
    assert response.status_code == 200
    return len(queries)


def test_a_verified_request_costs_what_loading_the_user_costs(verified, handler):
    verified.get("/open/")  # warm the configuration cache, as any running site has it
    decorated = count_queries(verified, "/", handler)
    undecorated = count_queries(verified, "/open-user/", handler)
    assert decorated == undecorated == 2  # the session and the user, Django's own
    assert count_queries(verified, "/mixin/", handler) == 2
    assert count_queries(verified, "/async/", handler) == 2
    assert count_queries(verified, "/open/", handler) == 0


@pytest.mark.parametrize(
    "bases",
    [
        (View, SingleConnectRequiredMixin),
        (TemplateView, SingleConnectRequiredMixin),
        (LoginRequiredMixin, View, SingleConnectRequiredMixin),
    ],
    ids=["View", "TemplateView", "after LoginRequiredMixin and View"],
)
def test_the_mixin_after_a_view_class_fails_when_the_class_is_made(bases: tuple[type, ...]) -> None:
    with pytest.raises(ImproperlyConfigured, match="put SingleConnectRequiredMixin before"):
        type("Careless", bases, {})


def test_the_mixin_before_the_view_class_is_accepted() -> None:
    class Careful(LoginRequiredMixin, SingleConnectRequiredMixin, TemplateView):
        pass

    class Subclass(Careful):  # and so are its subclasses
        pass

    mro = Subclass.__mro__
    assert mro.index(SingleConnectRequiredMixin) < mro.index(View)
