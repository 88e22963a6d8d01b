"""
The views the in-process benchmarks compare: the same tiny page behind each guard.

``report_urls(view)`` is a URL conf with that view alone at ``/report/``, so that every
compared stack resolves its page with the same work; ``urlpatterns`` serves the logins.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.urls import include, path
from django_otp.decorators import otp_required

from django_singleconnect.decorators import singleconnect_required

PAGE = b"<!doctype html><title>Report</title><p>The same page behind every guard.</p>"


@login_required
def plain(request: HttpRequest) -> HttpResponse:
    return HttpResponse(PAGE)


@singleconnect_required
def singleconnect(request: HttpRequest) -> HttpResponse:
    return HttpResponse(PAGE)


#: Step-up: a code typed within the last hour (the benchmark's session typed one just before).
@singleconnect_required(max_age=3600)
def singleconnect_max_age(request: HttpRequest) -> HttpResponse:
    return HttpResponse(PAGE)


@otp_required
def django_otp(request: HttpRequest) -> HttpResponse:
    return HttpResponse(PAGE)


def report_urls(view: Any) -> type:
    """A URL conf (any hashable object with ``urlpatterns``) with ``view`` at /report/."""
    return type(f"{view.__name__}_urls", (), {"urlpatterns": [path("report/", view)]})


urlpatterns = [
    path("", singleconnect, name="home"),
    path("plain/", plain, name="plain"),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("2fa/", include("django_singleconnect.urls")),
]
if getattr(
    settings, "TWO_FACTOR", False
):  # code_step_cpu.py's peer: its LoginView at /tf/account/login/
    from two_factor.urls import urlpatterns as two_factor_urls

    urlpatterns.append(path("tf/", include(two_factor_urls)))
