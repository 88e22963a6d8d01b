from __future__ import annotations

from pathlib import Path

from django.contrib import admin
from django.contrib.admin import AdminSite
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.static import serve
from rest_framework.authtoken.views import obtain_auth_token
from rest_framework_simplejwt.views import TokenObtainPairView

from tests import views

#: A second admin site, as sites with a staff-only one have.
staff_site = AdminSite(name="staff")

urlpatterns = [
    path("", views.protected, name="protected"),
    path("async/", views.async_protected, name="async-protected"),
    path("args/", views.protected_with_args, name="protected-args"),
    path("mixin/", views.MixinView.as_view(), name="mixin"),
    path("async-mixin/", views.AsyncMixinView.as_view(), name="async-mixin"),
    path("async-whether/", views.async_whether_verified, name="async-whether"),
    path("open/", views.open_view, name="open"),
    path("exempt/", views.exempt_view, name="exempt"),
    path("open-user/", views.open_user_view, name="open-user"),
    path("password/", views.change_password, name="change-password"),
    # A view that lives under STATIC_URL without serving static files: not exempt.
    path("static/app/<path:path>", views.static_file, name="static-lookalike"),
    path("static/<path:path>", serve, {"document_root": Path(__file__).parent / "static"}),
    path("media/<path:path>", serve, {"document_root": Path(__file__).parent / "static"}),
    path("apiary/", views.open_view, name="apiary"),
    path("api/", views.open_view, name="api"),
    path(
        "accounts/password_change/", auth_views.PasswordChangeView.as_view(), name="password_change"
    ),
    path(
        "accounts/password_change/done/",
        auth_views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
    # Mounted under the admin's prefix without being admin views.
    path("admin/doc/", include("django.contrib.admindocs.urls")),
    path("admin/tools/", views.open_view, name="admin-tools"),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    path("staff-admin/", staff_site.urls),
    path("drf/verified/", views.VerifiedApi.as_view(), name="drf-verified"),
    path("drf/open/", views.OpenApi.as_view(), name="drf-open"),
    path("drf/decorated/", views.decorated_api, name="drf-decorated"),
    path("drf/token/", obtain_auth_token, name="drf-token"),
    path("drf/jwt/", TokenObtainPairView.as_view(), name="drf-jwt"),
    path("2fa/", include("django_singleconnect.urls")),
    path("allauth/", include("allauth.urls")),
    path("own-logout/", views.LogoutView.as_view(), name="own-logout"),
    path("fresh/", views.fresh, name="fresh"),
    path("async-fresh/", views.async_fresh, name="async-fresh"),
    path("fresh-mixin/", views.FreshMixinView.as_view(), name="fresh-mixin"),
    path("drf/fresh/", views.FreshApi.as_view(), name="drf-fresh"),
]
