"""The TLS probe of ``singleconnect_check``: the handshake as requests would make it."""

from __future__ import annotations

import datetime as dt
import math
import os
import socket
import ssl
import time
from typing import Any

from requests.utils import DEFAULT_CA_BUNDLE_PATH

from ..conf import Settings
from .report import Step, elapsed_ms, reason


def tls_context(config: Settings) -> ssl.SSLContext:
    """
    What requests would trust: the CA bundle (file or folder) of ``SINGLECONNECT_VERIFY``,
    certifi's with ``True``; the client certificate of ``SINGLECONNECT_CLIENT_CERT``.
    """
    # Not create_default_context(): it loads the system's store as well, and would pass a
    # certificate that the client, which trusts the bundle alone, refuses.
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)  # hostname checked, certificate required
    verify = config.VERIFY
    if verify is False:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    else:
        bundle = DEFAULT_CA_BUNDLE_PATH if verify is True else verify
        if os.path.isdir(bundle):
            context.load_verify_locations(capath=bundle)
        else:
            context.load_verify_locations(cafile=bundle)
    cert = config.CLIENT_CERT
    if cert:
        certfile, keyfile = cert if isinstance(cert, tuple) else (cert, None)
        context.load_cert_chain(certfile, keyfile)
    return context


def _days_left(certificate: dict[str, Any]) -> tuple[int, str] | None:
    not_after = certificate.get("notAfter")
    if not not_after:
        return None
    ends = ssl.cert_time_to_seconds(str(not_after))
    day = dt.datetime.fromtimestamp(ends, dt.timezone.utc).date().isoformat()
    return math.floor((ends - time.time()) / 86400), day


def probe_tls(
    sock: socket.socket, host: str, config: Settings, connect: float, warn_days: int
) -> Step:
    started = time.monotonic()
    try:
        context = tls_context(config)
    except (OSError, ssl.SSLError) as exc:
        sock.close()
        return Step("tls", "failed", None, f"CA bundle or client certificate: {reason(exc)}")
    sock.settimeout(connect)
    try:
        with context.wrap_socket(sock, server_hostname=host) as secured:
            version = secured.version() or ""
            certificate = secured.getpeercert() or {}
    except (OSError, ssl.SSLError) as exc:
        return Step("tls", "failed", elapsed_ms(started), reason(exc))
    finally:
        sock.close()
    ms = elapsed_ms(started)
    found: dict[str, Any] = {"version": version, "verified": config.VERIFY is not False}
    if config.VERIFY is False:
        return Step("tls", "warn", ms, f"{version}, certificate not verified", found)
    expiry = _days_left(certificate)
    if expiry is None:  # a verified certificate always has one; kept for safety
        return Step("tls", "ok", ms, version, found)
    days, day = expiry
    found.update(days_left=days, not_after=day)
    detail = f"{version}, certificate valid until {day} ({days} days)"
    return Step("tls", "warn" if days < warn_days else "ok", ms, detail, found)
