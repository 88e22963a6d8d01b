"""Errors raised when Single Connect gives no clear answer. Each one means: verify nobody."""

from __future__ import annotations


class SingleConnectError(Exception):
    """Single Connect could not give a clear answer."""

    #: A short, stable name for logs, signals and the audit log.
    cause = "error"


class SingleConnectUnreachable(SingleConnectError):
    """No connection could be made, or it broke before an answer came."""

    cause = "unreachable"


class SingleConnectTimeout(SingleConnectError):
    """The connection or the answer took longer than ``SINGLECONNECT_TIMEOUT``."""

    cause = "timeout"


class SingleConnectTLSError(SingleConnectError):
    """The TLS handshake failed: unknown CA, wrong host name, expired certificate..."""

    cause = "tls"


class SingleConnectCircuitOpen(SingleConnectError):
    """Single Connect failed repeatedly of late, so it is not being called for a while."""

    cause = "circuit_open"


class SingleConnectBusy(SingleConnectError):
    """``SINGLECONNECT_MAX_CONCURRENT_CALLS`` calls are already under way in this process."""

    cause = "busy"


class SingleConnectUnexpectedResponse(SingleConnectError):
    """An answer that is none of those the API documents (other status, HTML, redirect...)."""

    cause = "unexpected_response"

    def __init__(self, message: str, *, status_code: int | None = None) -> None:
        super().__init__(message)
        self.status_code = status_code
