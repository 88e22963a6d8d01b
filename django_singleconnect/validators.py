"""Validation shared by the system checks and the admin's settings form."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Sequence
from typing import Literal

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

HostnameProblem = Literal["scheme", "path", "port", "invalid"]

_LABEL = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?")
_DOTTED_NUMBERS = re.compile(r"[0-9.]+")


def _is_host(host: str) -> bool:
    """A DNS name, an IPv4 address or a bracketed IPv6 address; nothing else."""
    if host.startswith("[") and host.endswith("]"):
        if "%" in host:  # a zone id ("%eth0") would have to be written %25 in a URL
            return False
        try:
            ipaddress.IPv6Address(host[1:-1])
        except ValueError:
            return False
        return True
    if _DOTTED_NUMBERS.fullmatch(host):
        # All digits and dots is no DNS name: it must be a real IPv4 address.
        try:
            ipaddress.IPv4Address(host)
        except ValueError:
            return False
        return True
    # fullmatch, not match with "$": "$" also matches before a trailing newline.
    return len(host) <= 253 and all(_LABEL.fullmatch(label) for label in host.split("."))


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
    if not _is_host(host):
        return "invalid"
    return None


HOSTNAME_MESSAGES = {
    "scheme": _("Give the host name alone, without http:// or https://."),
    "path": _("Give the host name alone, without a path; the path is SINGLECONNECT_BASE_PATH."),
    "port": _("The port must be a number from 1 to 65535."),
    "invalid": _("This is not a valid host name, IP address or host:port."),
}


def is_allowed_hostname(value: str, allowed: Sequence[str]) -> bool:
    """
    Whether ``value`` is one of ``allowed`` (``SINGLECONNECT_ALLOWED_HOSTNAMES``); an empty
    list allows any. The whole ``host[:port]`` must match one entry, case aside: another port
    on the same host is another server.
    """
    if not allowed:
        return True
    return value.strip().lower() in {entry.strip().lower() for entry in allowed}


def validate_hostname(value: str) -> None:
    problem = hostname_problem(value)
    if problem is not None:
        raise ValidationError(HOSTNAME_MESSAGES[problem], code=f"hostname_{problem}")


def validate_nodes(value: str) -> None:
    """
    A host name field that may name several nodes (``nodes.node_list``): each one must be
    a ``host`` or ``host:port``; the message names the node that is not.
    """
    from .nodes import node_list

    nodes = node_list(value)
    if not nodes:
        raise ValidationError(HOSTNAME_MESSAGES["invalid"], code="hostname_invalid")
    errors = []
    for node in nodes:
        problem = hostname_problem(node)
        if problem is not None:
            errors.append(
                ValidationError(
                    _("%(node)s: %(problem)s"),
                    code=f"hostname_{problem}",
                    params={"node": node, "problem": HOSTNAME_MESSAGES[problem]},
                )
            )
    if errors:
        raise ValidationError(errors)
