from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models, transaction
from django.db.models.signals import post_save
from django.dispatch import receiver
from django.utils.translation import gettext_lazy as _

from . import history, signals
from .nodes import node_list
from .validators import is_allowed_hostname, validate_nodes


class EnforceMode(models.TextChoices):
    DECORATED = "decorated", _("Protected views and the Django admin")
    ALL = "all", _("Every view for signed-in users")


class InactivePolicy(models.TextChoices):
    ALLOW = "allow", _("Allow: users without OTP pass the step")
    DENY = "deny", _("Deny: users without OTP cannot sign in")
    DENY_STAFF = "deny_staff", _("Deny staff and superusers, allow the others")


class SingleConnectConfiguration(models.Model):
    """
    The one row of values staff may edit in the admin. An empty field falls back to
    settings.py; see ``conf.py`` for how the two are merged.
    """

    #: Model field -> setting name (without the SINGLECONNECT_ prefix).
    FIELD_SETTINGS = {
        "hostname": "HOSTNAME",
        "application_name": "APPLICATION_NAME",
        "enforce": "ENFORCE",
        "otp_inactive_policy": "OTP_INACTIVE_POLICY",
        "max_attempts": "MAX_ATTEMPTS",
        "lockout_seconds": "LOCKOUT_SECONDS",
        "resend_cooldown": "RESEND_COOLDOWN",
    }

    hostname = models.CharField(
        _("host name"),
        max_length=255,
        blank=True,
        validators=[validate_nodes],
        help_text=_(
            "host or host:port of Single Connect, without scheme or path. Several nodes, "
            "separated by commas, are tried in order when one cannot be reached."
        ),
    )
    application_name = models.CharField(
        _("application name"),
        max_length=255,
        blank=True,
        help_text=_("The application name this site is registered under in Single Connect."),
    )
    enforce = models.CharField(
        _("protected views"), max_length=16, blank=True, choices=EnforceMode.choices
    )
    otp_inactive_policy = models.CharField(
        _("users without OTP"), max_length=16, blank=True, choices=InactivePolicy.choices
    )
    max_attempts = models.PositiveSmallIntegerField(
        _("wrong codes before lockout"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1)],
    )
    lockout_seconds = models.PositiveIntegerField(
        _("lockout (seconds)"), null=True, blank=True, validators=[MinValueValidator(1)]
    )
    resend_cooldown = models.PositiveIntegerField(
        _("wait before a new code (seconds)"), null=True, blank=True
    )
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("Single Connect settings")
        verbose_name_plural = _("Single Connect settings")
        permissions = [
            (
                "change_connection",
                _("Can change the Single Connect host, application name and protected views"),
            )
        ]

    def __str__(self) -> str:
        return str(_("Single Connect settings"))

    def save(self, *args: Any, changed_by: Any = None, **kwargs: Any) -> None:
        """
        Save the one row, and leave a trace of what changed (see ``history.py``):
        ``changed_by`` is the user who made the change, when there is one.
        """
        self.pk = 1  # there is only ever one row
        with transaction.atomic():
            before = type(self).objects.select_for_update().filter(pk=1).first()
            super().save(*args, **kwargs)
            found = history.changes(before, self, self.FIELD_SETTINGS)
            if found:
                user = history.who(changed_by)
                VerificationEvent.objects.create(
                    user=user,
                    username=user.get_username() if user is not None else "",
                    event=VerificationEvent.Kind.SETTINGS_CHANGED,
                    detail=history.describe(found),
                    changes=found,
                )
                history.announce(type(self), found, user)
        self._forget_cached()

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        result = super().delete(*args, **kwargs)
        self._forget_cached()
        return result

    def clean(self) -> None:
        from .conf import Settings

        allowed = Settings().ALLOWED_HOSTNAMES
        refused = [
            node for node in node_list(self.hostname) if not is_allowed_hostname(node, allowed)
        ]
        if len(refused) == 1 and refused == node_list(self.hostname):
            raise ValidationError(
                {
                    "hostname": _(
                        "This host name is not in SINGLECONNECT_ALLOWED_HOSTNAMES: %(allowed)s."
                    )
                    % {"allowed": ", ".join(allowed)}
                },
                code="hostname_not_allowed",
            )
        if refused:
            raise ValidationError(
                {
                    "hostname": _("%(nodes)s: not in SINGLECONNECT_ALLOWED_HOSTNAMES: %(allowed)s.")
                    % {"nodes": ", ".join(refused), "allowed": ", ".join(allowed)}
                },
                code="hostname_not_allowed",
            )

    @staticmethod
    def _forget_cached() -> None:
        from .conf import forget_overrides

        # Now, and again at commit: another process may read the old row in between.
        forget_overrides()
        transaction.on_commit(forget_overrides)

    def overrides(self) -> dict[str, Any]:
        """The values this row sets, keyed by setting name; empty fields are left out."""
        values = {}
        for field, name in self.FIELD_SETTINGS.items():
            value = getattr(self, field)
            if value not in (None, ""):
                values[name] = value
        return values

    @classmethod
    def stored_overrides(cls) -> dict[str, Any]:
        row = cls.objects.filter(pk=1).first()
        return row.overrides() if row is not None else {}


class AttemptCounter(models.Model):
    """Wrong codes for one Single Connect username, shared by every process and host."""

    username = models.CharField(_("Single Connect username"), max_length=255, unique=True)
    failures = models.PositiveIntegerField(_("number of wrong codes"), default=0)
    last_attempt_at = models.DateTimeField(_("last attempt"), null=True, blank=True)
    locked_until = models.DateTimeField(_("locked until"), null=True, blank=True)
    #: Lockouts in the current series: each one that follows the last within
    #: ``SINGLECONNECT_LOCKOUT_SERIES_SECONDS`` lasts twice as long, up to a cap.
    lockouts = models.PositiveIntegerField(_("lockouts in a row"), default=0)
    last_lockout_at = models.DateTimeField(_("last lockout"), null=True, blank=True)

    class Meta:
        # One row per username, which the admin counts: "1 failed code attempt".
        verbose_name = _("failed code attempt")
        verbose_name_plural = _("failed code attempts")

    def __str__(self) -> str:
        return self.username


class VerificationEvent(models.Model):
    """The audit log of the second-factor step."""

    class Kind(models.TextChoices):
        CHALLENGE_SENT = "challenge_sent", _("Code sent")
        VERIFIED = "verified", _("Verified")
        OTP_INACTIVE_ALLOWED = "otp_inactive_allowed", _("OTP not active: allowed")
        OTP_INACTIVE_DENIED = "otp_inactive_denied", _("OTP not active: denied")
        FAILED = "failed", _("Wrong code")
        LOCKED_OUT = "locked_out", _("Locked out")
        SERVICE_UNAVAILABLE = "service_unavailable", _("Single Connect unavailable")
        EXPIRED = "expired", _("Step expired")
        CODES_SPENT = "codes_spent", _("Code budget spent")
        NOT_SET_UP = "not_set_up", _("No Single Connect username")
        LOCKOUT_CLEARED = "lockout_cleared", _("Lockout cleared")
        SETTINGS_CHANGED = "settings_changed", _("Settings changed")
        STEP_UP = "step_up", _("Fresh code asked")
        REMEMBERED = "remembered", _("Remembered browser")
        BROWSER_FORGOTTEN = "browser_forgotten", _("Browser forgotten")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    username = models.CharField(_("Single Connect username"), max_length=255)
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    event = models.CharField(_("event"), max_length=32, choices=Kind.choices)
    detail = models.CharField(_("detail"), max_length=255, blank=True)
    #: The Single Connect node the row is about: the one that answered (or failed), else
    #: the node that issued this login's code; empty when there is none.
    node = models.CharField(_("Single Connect node"), max_length=255, blank=True, default="")
    #: For a change of the settings: ``{field: [old, new]}``, secrets masked.
    changes = models.JSONField(_("changes"), default=dict, blank=True)
    created_at = models.DateTimeField(_("time"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("verification event")
        verbose_name_plural = _("verification events")
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M:%S} {self.username} {self.event}"


class UsedCode(models.Model):
    """
    Codes that verified a login, kept as keyed hashes for a while so that a code cannot be
    used twice, even where Single Connect would accept it again.
    """

    digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("used code")
        verbose_name_plural = _("used codes")

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M:%S}"


class CodeBudget(models.Model):
    """
    The codes issued for one Single Connect username in the past hour, shared by every
    process and host: ``codes`` is a JSON list of ``[time, login]`` pairs, the newest last,
    changed only by a compare-and-swap on ``version`` (see ``budget.py``).
    """

    username = models.CharField(_("Single Connect username"), max_length=255, unique=True)
    codes = models.TextField(default="[]")
    version = models.PositiveBigIntegerField(default=0)

    class Meta:
        verbose_name = _("code budget")
        verbose_name_plural = _("code budgets")

    def __str__(self) -> str:
        return self.username


class RememberedBrowser(models.Model):
    """
    A browser whose logins skip the code (``SINGLECONNECT_REMEMBER_DAYS``); see
    ``remember.py``. Forgetting it deletes the row, which ends its cookie.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        related_name="+",
    )
    username = models.CharField(_("Single Connect username"), max_length=255, db_index=True)
    #: SHA-256 of the cookie's secret: the row alone lets nobody in.
    secret_digest = models.CharField(max_length=64)
    #: SHA-256 of the user's password hash when it was remembered: a new password ends it.
    password_digest = models.CharField(max_length=64)
    label = models.CharField(_("browser"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("remembered"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)
    expires_at = models.DateTimeField(_("expires"), db_index=True)

    class Meta:
        verbose_name = _("remembered browser")
        verbose_name_plural = _("remembered browsers")
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.username} {self.created_at:%Y-%m-%d %H:%M:%S}"


@receiver(post_save, sender=VerificationEvent, dispatch_uid="django_singleconnect.audit_event")
def _announce_event(
    sender: type, instance: VerificationEvent, created: bool, **kwargs: Any
) -> None:
    """Every row of the audit log, whatever wrote it, is also the signal ``audit_event``."""
    if created:
        signals.audit_event.send(sender=VerificationEvent, event=instance)
