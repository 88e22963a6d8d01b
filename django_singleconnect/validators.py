"""Validation shared by the system checks and the admin's settings form."""

from __future__ import annotations

import re
from typing import Literal

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

HostnameProblem = Literal["scheme", "path", "port", "invalid"]

_HOST = re.compile(r"^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?)$")


def hostname_problem(value: str) -> HostnameProblem | None:
    """What is wrong with a ``host`` or ``host:port`` value, or None."""
    if "://" in value:
        return "scheme"
    if any(char in value for char in "/?#"):
        return "path"
    if value.startswith("["):  # an IPv6 address, [::1] or [::1]:8443
        end = value.find("]") + 1
        host, rest = value[:end], value[end:]
    else:
        host, colon, port_part = value.partition(":")
        rest = colon + port_part
    if rest:
        port = rest[1:]
        if not rest.startswith(":") or ":" in port:
            return "invalid"
        if not (port.isascii() and port.isdigit() and 0 < int(port) < 65536):
            return "port"
    if not _HOST.match(host):
        return "invalid"
    return None


HOSTNAME_MESSAGES = {
    "scheme": _("Give the host name alone, without http:// or https://."),
    "path": _("Give the host name alone, without a path; the path is SINGLECONNECT_BASE_PATH."),
    "port": _("The port must be a number from 1 to 65535."),
    "invalid": _("This is not a valid host name, IP address or host:port."),
}


def validate_hostname(value: str) -> None:
    problem = hostname_problem(value)
    if problem is not None:
        raise ValidationError(HOSTNAME_MESSAGES[problem], code=f"hostname_{problem}")
