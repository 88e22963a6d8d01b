from __future__ import annotations

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from tests import views

urlpatterns = [
    path("", views.protected, name="protected"),
    path("async/", views.async_protected, name="async-protected"),
    path("args/", views.protected_with_args, name="protected-args"),
    path("mixin/", views.MixinView.as_view(), name="mixin"),
    path("async-mixin/", views.AsyncMixinView.as_view(), name="async-mixin"),
    path("open/", views.open_view, name="open"),
    path("exempt/", views.exempt_view, name="exempt"),
    path("open-user/", views.open_user_view, name="open-user"),
    path("password/", views.change_password, name="change-password"),
    path("static/<path:path>", views.static_file, name="static"),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    path("2fa/", include("django_singleconnect.urls")),
]
