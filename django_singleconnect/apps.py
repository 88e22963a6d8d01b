from __future__ import annotations

from django.apps import AppConfig, apps
from django.utils.translation import gettext_lazy as _


class SingleConnectConfig(AppConfig):
    name = "django_singleconnect"
    verbose_name = _("Single Connect")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in
        from django.core.checks import Tags, register

        from . import checks, secrecy, state

        secrecy.hide_secret_settings()
        register(checks.check_settings, Tags.security)
        register(checks.check_middleware, Tags.security)
        register(checks.check_setting_names, Tags.security)
        register(checks.check_urls, Tags.urls)
        if apps.is_installed("rest_framework"):
            from .drf import checks as drf_checks

            register(drf_checks.check_authentication, Tags.security)
        user_logged_in.connect(
            state.on_user_logged_in, dispatch_uid="django_singleconnect.on_user_logged_in"
        )
