from __future__ import annotations

import re
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _


def small_number(raw: str, digits: int = 9) -> int | None:
    """A form or query value of at most ``digits`` ASCII digits, or None (never an error)."""
    return int(raw) if raw.isascii() and raw.isdigit() and len(raw) <= digits else None


class TokenInput(forms.TextInput):
    """A text input that never writes the typed code back into the page."""

    def format_value(self, value: Any) -> str | None:
        return None


class TokenForm(forms.Form):
    """The code the user read from SMS, e-mail or the Kron app."""

    token = forms.CharField(label=_("Code"), strip=True, widget=TokenInput)
    next = forms.CharField(required=False, widget=forms.HiddenInput)
    #: Offered only when SINGLECONNECT_REMEMBER_DAYS is on (the page decides).
    remember = forms.BooleanField(required=False)

    def __init__(self, *args: Any, digits: int = 6, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.digits = digits
        self.fields["token"].widget.attrs.update(
            {
                "autocomplete": "one-time-code",
                "inputmode": "numeric",
                "pattern": f"[0-9]{{{digits}}}",
                "maxlength": str(digits),
                "autofocus": True,
                "spellcheck": "false",
            }
        )

    def clean_token(self) -> str:
        token: str = self.cleaned_data["token"]
        # ASCII digits only: \d would let other scripts' digits through.
        if not re.fullmatch(f"[0-9]{{{self.digits}}}", token):
            raise forms.ValidationError(
                _("Enter the %(digits)d-digit code.") % {"digits": self.digits},
                code="format",
            )
        return token
