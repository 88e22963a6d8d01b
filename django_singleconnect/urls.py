from __future__ import annotations

from django.urls import path

from . import browsers, views

app_name = "singleconnect"

urlpatterns = [
    path("verify/", views.verify, name="verify"),
    path("resend/", views.resend, name="resend"),
    path("logout/", views.logout, name="logout"),
    path("browsers/", browsers.browsers, name="browsers"),
]
