"""The end user's IP address sent to Single Connect as ``enduserip``."""

from __future__ import annotations

import pytest
from django.test import RequestFactory

from django_singleconnect.network import client_ip, normalised

PROXIES = ["10.0.0.0/8", "192.0.2.1", "2001:db8::/32"]


def ip(remote: str | None, forwarded: str | None = None, proxies: list[str] = PROXIES) -> str:
    request = RequestFactory().get("/")
    if remote is None:
        del request.META["REMOTE_ADDR"]
    else:
        request.META["REMOTE_ADDR"] = remote
    if forwarded is not None:
        request.META["HTTP_X_FORWARDED_FOR"] = forwarded
    return client_ip(request, proxies)


def test_remote_addr_by_default():
    request = RequestFactory().get("/", REMOTE_ADDR="203.0.113.5")
    assert client_ip(request) == "203.0.113.5"


def test_forwarded_for_is_ignored_without_trusted_proxies():
    assert ip("203.0.113.5", "198.51.100.1", proxies=[]) == "203.0.113.5"


def test_a_spoofed_forwarded_for_from_an_untrusted_peer_is_ignored():
    assert ip("203.0.113.5", "198.51.100.1") == "203.0.113.5"
    assert ip("203.0.113.5", "10.0.0.1") == "203.0.113.5"


@pytest.mark.parametrize(
    ("remote", "forwarded", "expected"),
    [
        ("10.1.1.1", "198.51.100.1", "198.51.100.1"),
        ("192.0.2.1", "198.51.100.1", "198.51.100.1"),
        # Right to left: the client is the first address no trusted proxy wrote.
        ("10.1.1.1", "1.1.1.1, 198.51.100.1, 10.2.2.2", "198.51.100.1"),
        ("10.1.1.1", "1.1.1.1,198.51.100.1,10.2.2.2,192.0.2.1", "198.51.100.1"),
        # Whatever the client wrote at the left is never believed over the proxies' hops.
        ("10.1.1.1", "127.0.0.1, 203.0.113.9", "203.0.113.9"),
        ("2001:db8::1", "2001:db8::2, 2a00:1450::1", "2a00:1450::1"),
        ("10.1.1.1", " 198.51.100.1 ,, ", "198.51.100.1"),
    ],
)
def test_behind_trusted_proxies(remote, forwarded, expected):
    assert ip(remote, forwarded) == expected


@pytest.mark.parametrize(
    "forwarded",
    [
        "",
        "10.2.2.2",  # every hop is a proxy
        "198.51.100.1, garbage",  # garbled at the right: nothing past it is trusted
        "198.51.100.1, 198.51.100.2:443",
        "unknown",
    ],
)
def test_no_usable_hop_falls_back_to_remote_addr(forwarded):
    assert ip("10.1.1.1", forwarded) == "10.1.1.1"


def test_no_forwarded_for_header():
    assert ip("10.1.1.1") == "10.1.1.1"


def test_a_missing_or_odd_remote_addr():
    assert ip(None, "198.51.100.1") == ""
    # No address is usable, so none is sent (the code page says so with a 400).
    assert ip("not an ip", "198.51.100.1") == ""
    assert ip("", "198.51.100.1") == ""  # a UNIX socket peer, not trusted as such


# -- a proxy on a UNIX socket ---------------------------------------------------------------


@pytest.mark.parametrize("remote", ["", None, "/run/gunicorn.sock"])
def test_the_peer_on_a_unix_socket_may_be_trusted(remote):
    assert ip(remote, "198.51.100.1", proxies=["unix"]) == "198.51.100.1"
    # Through more proxies of its own, named as usual.
    assert ip(remote, "198.51.100.1, 10.2.2.2", proxies=["unix", "10.0.0.0/8"]) == "198.51.100.1"
    # A header the client wrote is not believed over the proxy's hop.
    assert ip(remote, "127.0.0.1, 198.51.100.1", proxies=["unix"]) == "198.51.100.1"


def test_unix_trusts_only_the_socket_peer_not_an_address():
    assert ip("203.0.113.5", "198.51.100.1", proxies=["unix"]) == "203.0.113.5"


@pytest.mark.parametrize("forwarded", [None, "", "garbage", "unknown"])
def test_a_unix_socket_peer_without_a_usable_hop_gives_no_address(forwarded):
    assert ip("", forwarded, proxies=["unix"]) == ""


# -- normalised before it is sent and stored -------------------------------------------------


@pytest.mark.parametrize(
    ("address", "expected"),
    [
        ("fe80::1%eth0", "fe80::1"),  # a zone id says nothing past this host
        ("fe80::1%25eth0", "fe80::1"),
        ("::ffff:192.0.2.1", "192.0.2.1"),  # a dual-stack socket's IPv4 client
        ("::FFFF:c000:0201", "192.0.2.1"),
        ("2001:DB8:0:0::1", "2001:db8::1"),
        (" 203.0.113.5 ", "203.0.113.5"),
        ("::1", "::1"),
        ("garbage", ""),
        ("", ""),
    ],
)
def test_addresses_are_normalised(address, expected):
    assert normalised(address) == expected
    assert ip(address, proxies=[]) == expected


def test_forwarded_hops_are_normalised_and_matched_as_such():
    # An IPv4-mapped proxy address is the IPv4 proxy; an IPv4-mapped client is unmapped.
    assert ip("::ffff:10.1.1.1", "::ffff:198.51.100.1") == "198.51.100.1"
    assert ip("10.1.1.1", "::ffff:10.2.2.2, 2001:db8::5%eth1") == "10.1.1.1"
    assert ip("10.1.1.1", "fe80::9%eth1") == "fe80::9"
