"""
Who may pass without OTP: ``SINGLECONNECT_OTP_INACTIVE_POLICY`` decides for a user whom
Single Connect says has no OTP active.

``"allow"`` and ``"deny"`` decide for everybody; ``"deny_staff"`` denies staff and
superusers and allows the others; the dotted path of a callable taking the user decides per
user, and must return ``"allow"`` or ``"deny"``. Anything else, or a callable that raises,
denies: when in doubt, nobody passes without a code.
"""

from __future__ import annotations

import logging
from typing import Any, Literal

from django.utils.module_loading import import_string

from .logs import fields

logger = logging.getLogger("django_singleconnect")

Decision = Literal["allow", "deny"]
#: The values that are no dotted path.
BUILT_IN = ("allow", "deny", "deny_staff")


def decide(policy: str, user: Any, username: str | None = None) -> Decision:
    """
    ``"allow"`` or ``"deny"`` for ``user`` under ``policy``; ``username``, the Single Connect
    username, only for the log.
    """
    if policy in ("allow", "deny"):
        return policy  # type: ignore[return-value]
    if policy == "deny_staff":
        return "deny" if (user.is_staff or user.is_superuser) else "allow"
    try:
        decision = import_string(policy)(user)
    except Exception:
        logger.exception(
            "SINGLECONNECT_OTP_INACTIVE_POLICY %r failed for user %s: denied",
            policy,
            user.pk,
            extra=fields("policy_failed", username=username, outcome="denied", cause="raised"),
        )
        return "deny"
    if decision not in ("allow", "deny"):
        logger.error(
            "SINGLECONNECT_OTP_INACTIVE_POLICY %r gave %r for user %s, not 'allow' or 'deny': "
            "denied",
            policy,
            decision,
            user.pk,
            extra=fields(
                "policy_failed", username=username, outcome="denied", cause="bad_decision"
            ),
        )
        return "deny"
    return decision  # type: ignore[no-any-return]
