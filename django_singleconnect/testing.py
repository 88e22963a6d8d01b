"""
Helpers for your own tests: a test client signed in and past the Single Connect step.

They go through the package's own state functions, as a right code would: a login, then
the verified mark under a new session key. No Single Connect, simulator or code page is
involved, so they work with any login view and any form field names::

    from django_singleconnect.testing import verify_client

    def test_dashboard(client, django_user_model):
        verify_client(client, django_user_model.objects.create_user("alice"))
        assert client.get("/dashboard/").status_code == 200

Nothing here needs pytest; the fixtures built on these are in
``django_singleconnect.pytest_plugin``.
"""

from __future__ import annotations

import ipaddress
from typing import Any, TypeVar
from urllib.parse import urlsplit

from asgiref.sync import sync_to_async
from django.conf import settings
from django.test import AsyncClient, Client, RequestFactory

from .state import mark_verified

__all__ = ["averify_client", "is_loopback", "verify_client"]

AnyClient = TypeVar("AnyClient", Client, AsyncClient)


def verify_client(client: AnyClient, user: Any, method: str = "otp") -> AnyClient:
    """
    Sign ``client`` (a ``Client`` or an ``AsyncClient``) in as ``user`` and mark its
    session verified, as a right code would. Returns the client.
    """
    client.force_login(user)
    request = RequestFactory().get("/")
    request.session = client.session
    request.user = user
    mark_verified(request, method)  # a new session key, as after a real code
    request.session.save()
    client.cookies[settings.SESSION_COOKIE_NAME] = str(request.session.session_key)
    return client


async def averify_client(client: AnyClient, user: Any, method: str = "otp") -> AnyClient:
    """``verify_client`` for async tests, where the database may not be used directly."""
    return await sync_to_async(verify_client)(client, user, method)


def is_loopback(hostname: str) -> bool:
    """
    Whether ``hostname`` (``host`` or ``host:port``, or a URL) is this machine: ``localhost``,
    ``127.0.0.0/8`` or ``::1``. Any other name counts as elsewhere, whatever it resolves to.
    """
    if "://" not in hostname:
        hostname = f"//{hostname}"
    try:
        host = urlsplit(hostname).hostname or ""
    except ValueError:
        return False
    if host == "localhost":
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_loopback
