from __future__ import annotations

from django.contrib.auth import update_session_auth_hash
from django.http import HttpRequest, HttpResponse
from django.views import View

import django_singleconnect
from django_singleconnect.decorators import singleconnect_exempt, singleconnect_required
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
