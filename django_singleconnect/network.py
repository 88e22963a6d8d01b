"""The end user's IP address, as Single Connect's ``enduserip`` wants it."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from django.http import HttpRequest

#: In ``SINGLECONNECT_TRUSTED_PROXIES``: the peer on a UNIX socket is the site's own proxy.
UNIX_SOCKET = "unix"

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def normalised(address: str) -> str:
    """
    ``address`` as it is sent and stored: an IPv6 zone (``%eth0``) dropped, an IPv4-mapped
    IPv6 address (``::ffff:192.0.2.1``) unmapped, the shortest form; ``""`` when it is no IP
    address at all.
    """
    try:
        ip = ipaddress.ip_address(address.strip().partition("%")[0])
    except ValueError:
        return ""
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return str(ip.ipv4_mapped)
    return str(ip)


def client_ip(request: HttpRequest, trusted_proxies: Iterable[str] = ()) -> str:
    """
    ``REMOTE_ADDR``, unless it is one of ``trusted_proxies``: then ``X-Forwarded-For`` is
    read from the right, skipping trusted proxies, and the first other address is the client.
    Anything a client could have written itself is never believed. Always normalised;
    ``""`` when there is no usable address (the code page then refuses to go on).
    """
    trusted = list(trusted_proxies)
    raw_remote: str = request.META.get("REMOTE_ADDR") or ""
    remote = normalised(raw_remote)
    networks = [
        ipaddress.ip_network(proxy, strict=False) for proxy in trusted if proxy != UNIX_SOCKET
    ]
    # A UNIX socket has no peer address: REMOTE_ADDR is empty, or the socket's path.
    from_socket = UNIX_SOCKET in trusted and (not raw_remote or raw_remote.startswith("/"))
    if not from_socket and not _within(remote, networks):
        return remote
    forwarded: str = request.META.get("HTTP_X_FORWARDED_FOR", "")
    for hop in reversed([part.strip() for part in forwarded.split(",") if part.strip()]):
        address = normalised(hop)
        if not address:
            break  # a garbled header: trust nothing past this point
        if not _within(address, networks):
            return address
    return remote


def _within(address: str, networks: list[Network]) -> bool:
    if not address:
        return False
    ip = ipaddress.ip_address(address)
    return any(ip in network for network in networks)
