"""What a call that failed was: its error class, its TLS reason, and whether it left."""

from __future__ import annotations

import ssl

import requests
from urllib3.exceptions import NewConnectionError, ReadTimeoutError

from ..exceptions import (
    SingleConnectError,
    SingleConnectTimeout,
    SingleConnectTLSError,
    SingleConnectUnexpectedResponse,
    SingleConnectUnreachable,
)


def _read_timed_out(exc: requests.exceptions.RequestException) -> bool:
    # requests reports a read timeout in the middle of the body as a ConnectionError.
    return any(isinstance(arg, ReadTimeoutError) for arg in exc.args)


def error_class_for(exc: Exception) -> type[SingleConnectError]:
    if isinstance(exc, requests.exceptions.SSLError):
        return SingleConnectTLSError
    if isinstance(exc, requests.exceptions.Timeout):
        return SingleConnectTimeout
    if isinstance(exc, requests.exceptions.ContentDecodingError):
        return SingleConnectUnexpectedResponse
    if isinstance(
        exc, (requests.exceptions.ConnectionError, requests.exceptions.ChunkedEncodingError)
    ):
        return SingleConnectTimeout if _read_timed_out(exc) else SingleConnectUnreachable
    if isinstance(exc, requests.exceptions.RequestException):
        return SingleConnectError
    # requests checks that the VERIFY and CLIENT_CERT files exist before it connects and
    # raises a bare OSError when one is missing.
    return SingleConnectTLSError


def tls_reason(exc: BaseException) -> str:
    """
    What the TLS layer said ("certificate has expired", "Hostname mismatch..."), for the
    operator. Only the ssl module's own words are used: they never hold request data.
    """
    seen: set[int] = set()
    pending: list[object] = [exc]
    while pending:
        error = pending.pop()
        if not isinstance(error, BaseException) or id(error) in seen:
            continue
        seen.add(id(error))
        if isinstance(error, ssl.SSLCertVerificationError) and error.verify_message:
            return str(error.verify_message)
        if isinstance(error, ssl.SSLError) and error.reason:
            return str(error.reason)
        pending.extend([*error.args, error.__cause__, error.__context__])
        pending.append(getattr(error, "reason", None))
    return ""


def never_connected(exc: BaseException) -> bool:
    """Whether no connection could be opened, so the request certainly never left."""
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return True
    reason = getattr(exc.args[0], "reason", None) if exc.args else None
    return isinstance(exc, requests.exceptions.ConnectionError) and isinstance(
        reason, NewConnectionError
    )


def looks_like_html(response: requests.Response, body: bytes) -> bool:
    content_type = response.headers.get("Content-Type", "").lower()
    if "html" in content_type or "xml" in content_type:
        return True
    return body.lstrip()[:1] == b"<"
