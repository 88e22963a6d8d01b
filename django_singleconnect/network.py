"""The end user's IP address, as Single Connect's ``enduserip`` wants it."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from django.http import HttpRequest


def client_ip(request: HttpRequest, trusted_proxies: Iterable[str] = ()) -> str:
    """
    ``REMOTE_ADDR``, unless it is one of ``trusted_proxies``: then ``X-Forwarded-For`` is
    read from the right, skipping trusted proxies, and the first other address is the client.
    Anything a client could have written itself is never believed.
    """
    remote: str = request.META.get("REMOTE_ADDR", "")
    networks = [ipaddress.ip_network(proxy, strict=False) for proxy in trusted_proxies]
    if not networks or not _within(remote, networks):
        return remote
    forwarded: str = request.META.get("HTTP_X_FORWARDED_FOR", "")
    for hop in reversed([part.strip() for part in forwarded.split(",") if part.strip()]):
        if not _is_ip(hop):
            break  # a garbled header: trust nothing past this point
        if not _within(hop, networks):
            return hop
    return remote


def _is_ip(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


def _within(address: str, networks: list[ipaddress.IPv4Network | ipaddress.IPv6Network]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in networks)
