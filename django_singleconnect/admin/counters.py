"""Failed code attempts: the lockouts, cleared by a button, an action or deleting the row."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import QuerySet
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseNotAllowed,
    HttpResponseRedirect,
)
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from .. import history, lockout
from ..models import AttemptCounter, VerificationEvent
from .audit import with_seconds


# ModelAdmin is generic in django-stubs only (without django_stubs_ext at run time), hence
# the "type: ignore" on each class below.
@admin.register(AttemptCounter)
class AttemptCounterAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("username", "failures", "last_attempt", "locked_until_time", "is_locked")
    search_fields = ("username",)
    readonly_fields = (
        "username",
        "failures",
        "last_attempt_at",
        "locked_until",
        "lockouts",
        "last_lockout_at",
    )
    actions = ("clear_lockout",)

    @admin.display(description=_("locked out"), boolean=True)
    def is_locked(self, obj: AttemptCounter) -> bool:
        return obj.locked_until is not None and obj.locked_until > timezone.now()

    @admin.display(description=_("last attempt"), ordering="last_attempt_at")
    def last_attempt(self, obj: AttemptCounter) -> str:
        return with_seconds(obj.last_attempt_at)

    @admin.display(description=_("locked until"), ordering="locked_until")
    def locked_until_time(self, obj: AttemptCounter) -> str:
        return with_seconds(obj.locked_until)

    @admin.action(
        description=_("Clear the lockout and the count of wrong codes"), permissions=["change"]
    )
    def clear_lockout(self, request: HttpRequest, queryset: QuerySet[AttemptCounter]) -> None:
        usernames = list(queryset.values_list("username", flat=True))
        for username in usernames:
            with transaction.atomic():
                self._record_clearance(request, username)
                lockout.reset(username)
        self.message_user(
            request,
            ngettext("Cleared %(count)d account.", "Cleared %(count)d accounts.", len(usernames))
            % {"count": len(usernames)},
            messages.SUCCESS,
        )

    @staticmethod
    def _record_clearance(request: HttpRequest, username: str, how: str = "") -> None:
        """The audit row of a clearance about to happen, with what the counter held."""
        row = AttemptCounter.objects.select_for_update().filter(username=username).first()
        held = lockout.Cleared.of(row, timezone.now()).describe() if row else "nothing"
        VerificationEvent.objects.create(
            user=history.who(request.user),  # the admin lets only signed-in staff here
            username=username,
            event=VerificationEvent.Kind.LOCKOUT_CLEARED,
            detail=f"by {request.user.get_username()}{how}: {held}"[: history.DETAIL_LENGTH],
        )

    # -- the button on a row's own page --------------------------------------------------------

    def get_urls(self) -> list[URLPattern]:
        opts = self.opts
        clear = path(
            "<path:object_id>/clear/",
            self.admin_site.admin_view(self.clear_lockout_view),  # staff only, CSRF-checked
            name=f"{opts.app_label}_{opts.model_name}_clear",
        )
        return [clear, *super().get_urls()]  # before the admin's catch-all "<object_id>/"

    def clear_lockout_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        counter = self.get_object(request, unquote(object_id))
        if counter is None:
            raise Http404
        if not self.has_change_permission(request, counter):
            raise PermissionDenied
        with transaction.atomic():
            self._record_clearance(request, counter.username)
            lockout.reset(counter.username)
        self.message_user(
            request,
            gettext("Cleared the lockout of %(username)s: they may type codes again.")
            % {"username": counter.username},
            messages.SUCCESS,
        )
        return HttpResponseRedirect(
            reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_change", args=[counter.pk])
        )

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        # Every field is read-only: "Save" would only write the counts read a moment ago
        # over a wrong code counted since. The one thing to do here is to clear the lockout.
        context = {**(extra_context or {}), "show_save": False, "show_save_and_continue": False}
        counter = self.get_object(request, unquote(object_id))
        if counter is not None and self.has_change_permission(request, counter):
            context["clear_lockout_url"] = reverse(
                f"admin:{self.opts.app_label}_{self.opts.model_name}_clear", args=[counter.pk]
            )
        return super().change_view(request, object_id, form_url, context)

    def save_model(
        self, request: HttpRequest, obj: AttemptCounter, form: Any, change: bool
    ) -> None:
        """Never: see ``change_view``."""

    # -- deleting a row clears its lockout too -------------------------------------------------

    def delete_model(self, request: HttpRequest, obj: AttemptCounter) -> None:
        with transaction.atomic():
            self._record_clearance(request, obj.username, how=" (row deleted)")
            super().delete_model(request, obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[AttemptCounter]) -> None:
        with transaction.atomic():
            for username in queryset.values_list("username", flat=True):
                self._record_clearance(request, username, how=" (row deleted)")
            super().delete_queryset(request, queryset)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
