from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit, urlunsplit

from django.contrib import admin, messages
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from . import history, lockout
from .conf import OPTIONS, Settings
from .models import (
    AttemptCounter,
    RememberedBrowser,
    SingleConnectConfiguration,
    VerificationEvent,
)

CHANGE_CONNECTION = "django_singleconnect.change_connection"

SOURCE_LABELS = {
    "admin": _("this page"),
    "settings": "settings.py",
    "default": _("default"),
}


def _without_credentials(url: Any) -> Any:
    """A proxy URL with any ``user:password@`` replaced by ``•••@``."""
    if not isinstance(url, str):
        return url
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc="•••@" + parts.netloc.rpartition("@")[2]))


def _shown(name: str, value: Any) -> str:
    """Secrets are named, never shown: only their keys appear."""
    option = OPTIONS[name.removeprefix("SINGLECONNECT_")]
    if option.secret and value:
        return ", ".join(f"{key}=•••" for key in value)
    if option.name == "PROXIES" and isinstance(value, dict):
        # A proxy URL may carry a password: http://user:password@proxy:3128.
        return repr({key: _without_credentials(url) for key, url in value.items()})
    return repr(value)


# ModelAdmin is generic in django-stubs only (without django_stubs_ext at run time), hence
# the "type: ignore" on each class below.
@admin.register(SingleConnectConfiguration)
class SingleConnectConfigurationAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
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
                    "every process within a second when the cache is shared."
                ),
            },
        ),
    )
    readonly_fields = ("effective_configuration",)
    #: What decides whom the site trusts: superusers, or the ``change_connection`` permission.
    connection_fields = ("hostname", "application_name", "enforce")

    @staticmethod
    def may_change_connection(request: HttpRequest) -> bool:
        return bool(request.user.has_perm(CHANGE_CONNECTION))

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        fields = tuple(super().get_readonly_fields(request, obj))
        if not self.may_change_connection(request):
            # Read-only fields are left out of the form: whatever is posted for them is
            # ignored, on the add form too, where they stay empty (settings.py applies).
            fields = (*self.connection_fields, *fields)
        return fields

    def save_model(
        self, request: HttpRequest, obj: SingleConnectConfiguration, form: Any, change: bool
    ) -> None:
        obj.save(changed_by=request.user)

    @admin.display(description=_("In force now"))
    def effective_configuration(self, obj: SingleConnectConfiguration | None) -> str:
        # What is saved, never the instance: after a refused save, the admin's form hands
        # over an instance that already holds the refused values.
        overrides = SingleConnectConfiguration.stored_overrides()
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
        # The permission first: it costs no query, and most admin pages ask for it.
        return (
            super().has_add_permission(request) and not SingleConnectConfiguration.objects.exists()
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
class AttemptCounterAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("username", "failures", "last_attempt_at", "locked_until", "is_locked")
    search_fields = ("username",)
    readonly_fields = ("username", "failures", "last_attempt_at", "locked_until")
    actions = ("clear_lockout",)

    @admin.display(description=_("locked out"), boolean=True)
    def is_locked(self, obj: AttemptCounter) -> bool:
        return obj.locked_until is not None and obj.locked_until > timezone.now()

    @admin.action(
        description=_("Clear the lockout and the count of wrong codes"), permissions=["change"]
    )
    def clear_lockout(self, request: HttpRequest, queryset: QuerySet[AttemptCounter]) -> None:
        usernames = list(queryset.values_list("username", flat=True))
        staff = history.who(request.user)  # the admin lets only signed-in staff here
        for username in usernames:
            with transaction.atomic():
                lockout.reset(username)
                VerificationEvent.objects.create(
                    user=staff,
                    username=username,
                    event=VerificationEvent.Kind.LOCKOUT_CLEARED,
                    detail=f"by {request.user.get_username()}",
                )
        self.message_user(
            request,
            ngettext("Cleared %(count)d account.", "Cleared %(count)d accounts.", len(usernames))
            % {"count": len(usernames)},
            messages.SUCCESS,
        )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(VerificationEvent)
class VerificationEventAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """The audit log: read-only, for everyone."""

    list_display = ("created_at", "event", "username", "user", "ip_address", "node", "detail")
    exclude = ("changes",)
    readonly_fields = ("changes_made",)
    list_filter = ("event", "created_at")
    search_fields = ("username", "ip_address", "node", "detail")
    date_hierarchy = "created_at"
    list_select_related = ("user",)

    @admin.display(description=_("changes"))
    def changes_made(self, obj: VerificationEvent) -> str:
        if not obj.changes:
            return str(self.get_empty_value_display())
        return format_html(
            "<table><thead><tr><th>{}</th><th>{}</th><th>{}</th></tr></thead>"
            "<tbody>{}</tbody></table>",
            _("Field"),
            _("Before"),
            _("After"),
            format_html_join(
                "",
                "<tr><th scope='row'><code>{}</code></th><td><code>{}</code></td>"
                "<td><code>{}</code></td></tr>",
                ((field, repr(old), repr(new)) for field, (old, new) in obj.changes.items()),
            ),
        )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(RememberedBrowser)
class RememberedBrowserAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """Remembered browsers: staff may see them and forget them (delete), nothing else."""

    list_display = ("user", "username", "label", "created_at", "last_used_at", "expires_at")
    search_fields = ("username", "label")
    list_select_related = ("user",)
    readonly_fields = ("user", "username", "label", "created_at", "last_used_at", "expires_at")
    exclude = ("secret_digest", "password_digest")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def _forgotten(self, request: HttpRequest, browsers: list[RememberedBrowser]) -> None:
        staff = history.who(request.user)
        for browser in browsers:
            VerificationEvent.objects.create(
                user=staff,
                username=browser.username,
                event=VerificationEvent.Kind.BROWSER_FORGOTTEN,
                detail=f"browser {browser.pk} of {browser.user} by {request.user.get_username()}",
            )

    def delete_model(self, request: HttpRequest, obj: RememberedBrowser) -> None:
        with transaction.atomic():
            self._forgotten(request, [obj])
            super().delete_model(request, obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[RememberedBrowser]) -> None:
        with transaction.atomic():
            self._forgotten(request, list(queryset))
            super().delete_queryset(request, queryset)
