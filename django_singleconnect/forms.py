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


#: What may stand between the digits of a code copied from a text message ("385 189",
#: "385-189"): white space, the hyphen-minus and the Unicode hyphens, dashes and minus.
SEPARATORS = "-\u2010\u2011\u2012\u2013\u2014\u2015\u2212"
_SEPARATOR = f"[\\s{re.escape(SEPARATORS)}]"
_SEPARATED = re.compile(f"[0-9]+(?:{_SEPARATOR}+[0-9]+)*")
_SEPARATOR_RUN = re.compile(f"{_SEPARATOR}+")


def normalise_token(typed: str) -> str:
    """
    ``typed`` without the separators between its groups of ASCII digits; anything else
    (a letter, a sign in front, another script's digits) is left for validation to refuse.
    """
    typed = typed.strip()
    if _SEPARATED.fullmatch(typed):
        return _SEPARATOR_RUN.sub("", typed)
    return typed


def token_pattern(digits: int) -> str:
    """
    The input's ``pattern``: ``digits`` ASCII digits, separators between them allowed.
    Chromium compiles it with the ``v`` flag, where a dash in a class must be escaped.
    """
    separators = "\\s\\-" + "".join(f"\\u{ord(char):04x}" for char in SEPARATORS[1:])
    return f"(?:[0-9][{separators}]*){{{digits - 1}}}[0-9]"


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
                "pattern": token_pattern(digits),
                # Room for a separator after each digit and some space around the code.
                "maxlength": str(2 * digits + 2),
                "autofocus": True,
                "spellcheck": "false",
            }
        )

    def clean_token(self) -> str:
        token = normalise_token(self.cleaned_data["token"])
        # ASCII digits only: \d would let other scripts' digits through.
        if not re.fullmatch(f"[0-9]{{{self.digits}}}", token):
            raise forms.ValidationError(
                _("Enter the %(digits)d-digit code.") % {"digits": self.digits},
                code="format",
            )
        return token
