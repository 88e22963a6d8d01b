"""Remembered browsers: staff may see them and forget them."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest

from .. import history
from ..models import RememberedBrowser, VerificationEvent


# ModelAdmin is generic in django-stubs only (without django_stubs_ext at run time), hence
# the "type: ignore" on each class below.
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
