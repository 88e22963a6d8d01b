from __future__ import annotations

import re
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy


class TokenForm(forms.Form):
    """The code the user read from SMS, e-mail or the Kron app."""

    token = forms.CharField(label=_("Code"), strip=True)
    next = forms.CharField(required=False, widget=forms.HiddenInput)

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
                ngettext_lazy(
                    "Enter the %(digits)d-digit code.",
                    "Enter the %(digits)d-digit code.",
                    "digits",
                )
                % {"digits": self.digits},
                code="format",
            )
        return token
