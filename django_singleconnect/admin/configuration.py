"""The Single Connect settings: the one row staff may edit, opened as its form."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit, urlunsplit

from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db import models
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from ..conf import OPTIONS, PREFIX, Settings
from ..models import SingleConnectConfiguration

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


def _fallback(db_field: models.Field[Any, Any]) -> str:
    """What an empty ``db_field`` of the settings row stands for: settings.py's or the default."""
    setting = SingleConnectConfiguration.FIELD_SETTINGS[db_field.name]
    value, source = next(
        (value, source)
        for name, value, source in Settings().describe()  # settings.py alone, no row
        if name == PREFIX + setting
    )
    if value is None:
        return gettext("Empty: none, as %(setting)s is not in settings.py.") % {
            "setting": PREFIX + setting
        }
    labels = dict(db_field.flatchoices)
    shown = str(labels[value]) if value in labels else _shown(PREFIX + setting, value)
    if source == "settings":
        text = gettext("Empty: %(value)s, from %(setting)s in settings.py.")
    else:
        text = gettext("Empty: %(value)s, the default (%(setting)s is not in settings.py).")
    return text % {"value": shown, "setting": PREFIX + setting}


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
            # ignored, and they keep their value (empty: settings.py applies).
            fields = (*self.connection_fields, *fields)
        return fields

    def formfield_for_dbfield(
        self, db_field: models.Field[Any, Any], request: HttpRequest, **kwargs: Any
    ) -> Any:
        formfield = super().formfield_for_dbfield(db_field, request, **kwargs)
        if formfield is not None and db_field.name in SingleConnectConfiguration.FIELD_SETTINGS:
            # Built for each request, so it says what settings.py holds now. The admin marks
            # help texts safe: escape both parts.
            formfield.help_text = format_html(
                "{}{}{}",
                formfield.help_text,
                " " if formfield.help_text else "",
                _fallback(db_field),
            )
        return formfield

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
        # The one row is made by the list (below): no "Add", no "Save and add another".
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        # One row: the list would only ever hold it, so go straight to its form.
        if not self.has_view_or_change_permission(request):
            raise PermissionDenied
        self._make_the_row(request)
        return HttpResponseRedirect(
            reverse("admin:django_singleconnect_singleconnectconfiguration_change", args=[1])
        )

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        if unquote(object_id) == "1":  # a bookmark of the form, before the row exists
            self._make_the_row(request)
        return super().change_view(request, object_id, form_url, extra_context)

    def _make_the_row(self, request: HttpRequest) -> None:
        """
        The empty row, for staff who may see it. Empty, it changes nothing (every field falls
        back to settings.py), so no trace is due.
        """
        if self.has_view_or_change_permission(request):
            SingleConnectConfiguration.objects.get_or_create(pk=1)
