from __future__ import annotations

from django.contrib.auth import logout, update_session_auth_hash
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views import View
from rest_framework.authentication import (
    BasicAuthentication,
    SessionAuthentication,
    TokenAuthentication,
)
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_simplejwt.authentication import JWTAuthentication

import django_singleconnect
from django_singleconnect.decorators import singleconnect_exempt, singleconnect_required
from django_singleconnect.drf import IsSingleConnectVerified
from django_singleconnect.mixins import SingleConnectRequiredMixin


@singleconnect_required
def protected(request: HttpRequest) -> HttpResponse:
    return HttpResponse("protected page")


@singleconnect_required
async def async_protected(request: HttpRequest) -> HttpResponse:
    return HttpResponse("async protected page")


@singleconnect_required(login_url="/elsewhere/")
def protected_with_args(request: HttpRequest) -> HttpResponse:
    return HttpResponse("protected with args")


class MixinView(SingleConnectRequiredMixin, View):
    def get(self, request: HttpRequest) -> HttpResponse:
        return HttpResponse("mixin page")


class AsyncMixinView(SingleConnectRequiredMixin, View):
    async def get(self, request: HttpRequest) -> HttpResponse:
        return HttpResponse("async mixin page")


async def async_whether_verified(request: HttpRequest) -> HttpResponse:
    """Undecorated: says what ``ais_verified`` says, as an integrator's async view would."""
    verified = await django_singleconnect.ais_verified(request)
    return HttpResponse("verified" if verified else "not verified")


def open_view(request: HttpRequest) -> HttpResponse:
    return HttpResponse("open page")


@singleconnect_exempt
def exempt_view(request: HttpRequest) -> HttpResponse:
    return HttpResponse("exempt page")


def open_user_view(request: HttpRequest) -> HttpResponse:
    """Undecorated, but loads the user like a decorated view does."""
    return HttpResponse(f"open page for {request.user.get_username()}")


def static_file(request: HttpRequest, path: str) -> HttpResponse:
    return HttpResponse(f"static {path}")


@singleconnect_required
def change_password(request: HttpRequest) -> HttpResponse:
    """The heart of Django's PasswordChangeView, without its form."""
    if request.method == "POST":
        request.user.set_password(request.POST["password"])
        request.user.save()
        update_session_auth_hash(request, request.user)
    return HttpResponse("password changed")


# -- Django REST framework --------------------------------------------------------------------

API_AUTHENTICATION = [
    SessionAuthentication,
    TokenAuthentication,
    BasicAuthentication,
    JWTAuthentication,
]


class VerifiedApi(APIView):
    """An API view behind the permission, with every kind of DRF authentication."""

    authentication_classes = API_AUTHENTICATION
    permission_classes = [IsSingleConnectVerified]

    def get(self, request: Request) -> Response:
        return Response({"user": request.user.get_username()})


class OpenApi(APIView):
    """An API view that lets anybody DRF authenticated through, as a careless site has."""

    authentication_classes = API_AUTHENTICATION
    permission_classes = [IsAuthenticated]

    def get(self, request: Request) -> Response:
        return Response({"user": request.user.get_username()})


@singleconnect_required
def decorated_api(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"user": request.user.get_username()})


class LogoutView(View):
    """A site's own sign-out view, no subclass of Django's: still a way out."""

    def post(self, request: HttpRequest) -> HttpResponse:
        logout(request)
        return HttpResponse("signed out")


# -- step-up: views that need a code typed within five minutes ------------------------------


@singleconnect_required(max_age=300)
def fresh(request: HttpRequest) -> HttpResponse:
    return HttpResponse("fresh page")


@singleconnect_required(max_age=300)
async def async_fresh(request: HttpRequest) -> HttpResponse:
    return HttpResponse("async fresh page")


class FreshMixinView(SingleConnectRequiredMixin, View):
    singleconnect_max_age = 300

    def get(self, request: HttpRequest) -> HttpResponse:
        return HttpResponse("fresh mixin page")


class FreshPermission(IsSingleConnectVerified):
    max_age = 300


class FreshApi(APIView):
    authentication_classes = [SessionAuthentication]
    permission_classes = [FreshPermission]

    def get(self, request: Request) -> Response:
        return Response({"fresh": True})
