from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.contrib.staticfiles.urls import staticfiles_urlpatterns
from django.urls import include, path

from example_project import views

urlpatterns = [
    path("", views.home, name="home"),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    path("2fa/", include("django_singleconnect.urls")),
]
# DANGER, development only: with DEBUG on, the site serves its static files itself (and
# gunicorn too, in the browser tests). In production the web server serves what
# `collectstatic` gathered; with DEBUG off this adds nothing.
urlpatterns += staticfiles_urlpatterns()
