"""
The one access rule, shared by the middleware, the decorator and the mixin: a signed-in
user who has not passed the second factor in this login goes to the code page.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse

from .state import ais_verified, is_verified


def verify_url(next_url: str) -> str:
    return f"{reverse('singleconnect:verify')}?{urlencode({'next': next_url})}"


def redirect_to_verify(request: HttpRequest) -> HttpResponseRedirect:
    return HttpResponseRedirect(verify_url(request.get_full_path()))


def denial(request: HttpRequest, login_url: str | None = None) -> HttpResponse | None:
    """The redirect that keeps this request out, or None when it may go on."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path(), login_url)
    if not is_verified(request):
        return redirect_to_verify(request)
    return None


async def adenial(request: HttpRequest, login_url: str | None = None) -> HttpResponse | None:
    user = await request.auser()
    if not user.is_authenticated:
        return redirect_to_login(request.get_full_path(), login_url)
    if not await ais_verified(request):
        return redirect_to_verify(request)
    return None
