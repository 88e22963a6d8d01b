"""A site whose admin is mounted at "/": its prefix must not swallow the way in."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

urlpatterns = [
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("2fa/", include("django_singleconnect.urls")),
    path("", admin.site.urls),
]
