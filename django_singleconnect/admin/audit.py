"""The audit log: read-only, with times to the second."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from ..models import VerificationEvent


def with_seconds(value: Any) -> str:
    """A time as the audit needs it: to the second, in the current time zone."""
    return date_format(timezone.localtime(value), "Y-m-d H:i:s") if value is not None else "-"


# ModelAdmin is generic in django-stubs only (without django_stubs_ext at run time), hence
# the "type: ignore" on each class below.
@admin.register(VerificationEvent)
class VerificationEventAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """The audit log: read-only, for everyone."""

    list_display = ("time", "event", "username", "user", "ip_address", "node", "detail")
    exclude = ("changes",)
    readonly_fields = ("time", "changes_made")
    list_filter = ("event", "created_at")
    search_fields = ("username", "ip_address", "node", "detail")
    date_hierarchy = "created_at"
    list_select_related = ("user",)

    @admin.display(description=_("time"), ordering="created_at")
    def time(self, obj: VerificationEvent) -> str:
        return with_seconds(obj.created_at)

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
