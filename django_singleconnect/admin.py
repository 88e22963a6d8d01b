from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from . import lockout
from .conf import OPTIONS, Settings
from .models import AttemptCounter, SingleConnectConfiguration, VerificationEvent

SOURCE_LABELS = {
    "admin": _("this page"),
    "settings": _("settings.py"),
    "default": _("default"),
}


def _shown(name: str, value: Any) -> str:
    """Secrets are named, never shown: only their keys appear."""
    if OPTIONS[name.removeprefix("SINGLECONNECT_")].secret and value:
        return ", ".join(f"{key}=•••" for key in value)
    return repr(value)


@admin.register(SingleConnectConfiguration)
class SingleConnectConfigurationAdmin(admin.ModelAdmin):
    fieldsets = (
        (_("Connection"), {"fields": ("hostname", "application_name")}),
        (
            _("Policies"),
            {
                "fields": (
                    "enforce",
                    "otp_inactive_policy",
                    "max_attempts",
                    "lockout_seconds",
                    "resend_cooldown",
                )
            },
        ),
        (
            _("Effective configuration"),
            {
                "fields": ("effective_configuration",),
                "description": _(
                    "An empty field above falls back to settings.py. Saved values reach "
                    "every process at once when the cache is shared."
                ),
            },
        ),
    )
    readonly_fields = ("effective_configuration",)

    @admin.display(description=_("In force now"))
    def effective_configuration(self, obj: SingleConnectConfiguration | None) -> str:
        overrides = obj.overrides() if obj is not None and obj.pk else {}
        rows = format_html_join(
            "",
            "<tr><th scope='row'><code>{}</code></th><td><code>{}</code></td><td>{}</td></tr>",
            (
                (name, _shown(name, value), SOURCE_LABELS[source])
                for name, value, source in Settings(overrides).describe()
            ),
        )
        return format_html(
            "<table><thead><tr><th>{}</th><th>{}</th><th>{}</th></tr></thead>"
            "<tbody>{}</tbody></table>",
            _("Setting"),
            _("Value"),
            _("From"),
            rows,
        )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return not SingleConnectConfiguration.objects.exists() and super().has_add_permission(
            request
        )

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        # One row: the list would only ever hold it, so go straight to its form.
        if SingleConnectConfiguration.objects.exists():
            return HttpResponseRedirect(
                reverse("admin:django_singleconnect_singleconnectconfiguration_change", args=[1])
            )
        return HttpResponseRedirect(
            reverse("admin:django_singleconnect_singleconnectconfiguration_add")
        )


@admin.register(AttemptCounter)
class AttemptCounterAdmin(admin.ModelAdmin):
    list_display = ("username", "failures", "last_attempt_at", "locked_until", "is_locked")
    search_fields = ("username",)
    readonly_fields = ("username", "failures", "last_attempt_at", "locked_until")
    actions = ("clear_lockout",)

    @admin.display(description=_("locked out"), boolean=True)
    def is_locked(self, obj: AttemptCounter) -> bool:
        return obj.locked_until is not None and obj.locked_until > timezone.now()

    @admin.action(description=_("Clear the lockout and the count of wrong codes"))
    def clear_lockout(self, request: HttpRequest, queryset: QuerySet[AttemptCounter]) -> None:
        usernames = list(queryset.values_list("username", flat=True))
        for username in usernames:
            lockout.reset(username)
        self.message_user(
            request,
            ngettext(
                "Cleared %(count)d account.", "Cleared %(count)d accounts.", len(usernames)
            )
            % {"count": len(usernames)},
            messages.SUCCESS,
        )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(VerificationEvent)
class VerificationEventAdmin(admin.ModelAdmin):
    """The audit log: read-only, for everyone."""

    list_display = ("created_at", "event", "username", "user", "ip_address", "detail")
    list_filter = ("event", "created_at")
    search_fields = ("username", "ip_address", "detail")
    date_hierarchy = "created_at"
    list_select_related = ("user",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
