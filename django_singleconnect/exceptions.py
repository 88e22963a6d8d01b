"""Errors raised when Single Connect gives no clear answer. Each one means: verify nobody."""

from __future__ import annotations


class SingleConnectError(Exception):
    """Single Connect could not give a clear answer."""

    #: A short, stable name for logs, signals and the audit log.
    cause = "error"
    #: False only when the request certainly never left: no call was made, or no
    #: connection could be opened. Anything else may have made Single Connect send a code.
    may_have_reached = True
    #: The node the call went to (or was meant for), when there was one.
    node: str | None = None

    def detached(self) -> SingleConnectError:
        """
        A copy for signal receivers: the same class, message and attributes, without the
        traceback and the chained exceptions, whose frames and requests hold the code, the
        form and the Single Connect cookies (an error tracker would record them).
        """
        copy = type(self).__new__(type(self))
        copy.args = self.args
        copy.__dict__.update(self.__dict__)
        copy.__suppress_context__ = True
        return copy


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
    may_have_reached = False


class SingleConnectBusy(SingleConnectError):
    """
    This process's call limit: the call was not made (``may_have_reached`` False), or it
    was cut short when it grew slow while other slow calls held the slow slots (True).
    """

    cause = "busy"
    may_have_reached = False


class SingleConnectUnexpectedResponse(SingleConnectError):
    """An answer that is none of those the API documents (other status, HTML, redirect...)."""

    cause = "unexpected_response"

    def __init__(self, message: str, *, status_code: int | None = None) -> None:
        super().__init__(message)
        self.status_code = status_code


class SingleConnectNotConfigured(SingleConnectError):
    """The host name or the application name is not set: no call was made."""

    cause = "not_configured"
    may_have_reached = False
