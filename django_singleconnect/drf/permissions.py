"""``IsSingleConnectVerified``: DRF's permission for the Single Connect step."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from ..access import SINGLECONNECT_REQUIRED, verify_url
from ..state import is_verified


class IsSingleConnectVerified(BasePermission):
    """
    Allows a request whose session passed the Single Connect step in this login, for the
    user DRF authenticated. Anyone else gets DRF's own answers: "not authenticated" when
    nobody signed in, else a 403 ``{"detail", "code": "singleconnect_required",
    "verify_url"}``.

    A token, HTTP Basic or a JWT on its own never passes: the step is kept in the session,
    so only a verified session (for the same user) does.
    """

    message: Any = _("Enter the sign-in code sent to you first, on the code page.")
    code = SINGLECONNECT_REQUIRED
    #: Seconds: a code typed no more than that long ago (a step-up); set it in a subclass.
    max_age: int | None = None

    def has_permission(self, request: Request, view: Any) -> bool:
        user = request.user
        if user is None or not user.is_authenticated:
            return False  # DRF answers "not authenticated" (401 or 403, by the scheme)
        # DRF's Request hands the session through, and its user is the one it authenticated:
        # a verified session of somebody else does not hold for this user.
        if is_verified(request, self.max_age):
            return True
        stale = self.max_age is not None and is_verified(request)
        # A new instance serves each request, so the answer may name this request's URL.
        self.message = {
            "detail": str(type(self).message),
            "code": self.code,
            "verify_url": verify_url(request.get_full_path(), self.max_age if stale else None),
        }
        return False
