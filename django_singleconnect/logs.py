"""
The structured fields of every log record of the ``django_singleconnect`` logger.

Each record carries the same keys in ``extra``, ``None`` where one does not apply, so that a
JSON formatter or a log shipper can index them without reading the message:

- ``event``: what happened, a stable name (``"call"``, ``"not_called"``, ``"circuit_opened"``...);
- ``endpoint``: ``"otpstatus"`` or ``"otpvalid"``;
- ``node``: the Single Connect node (``host`` or ``host:port``);
- ``username``: the Single Connect username; never a code, password, cookie or header value;
- ``outcome``: how it ended (``"active"``, ``"valid"``, ``"wrong_code"``, ``"timeout"``...);
- ``status``: the HTTP status of the answer, when there was one;
- ``duration_ms``: how long the call took, in milliseconds;
- ``cause``: why a call gave no clear answer, the error's ``cause``.
"""

from __future__ import annotations

from typing import Any

#: The keys of ``extra``, on every record.
FIELDS = ("event", "endpoint", "node", "username", "outcome", "status", "duration_ms", "cause")


def fields(
    event: str,
    *,
    endpoint: str | None = None,
    node: str | None = None,
    username: str | None = None,
    outcome: str | None = None,
    status: int | None = None,
    duration_ms: float | None = None,
    cause: str | None = None,
) -> dict[str, Any]:
    """The ``extra`` of one log record: every key of :data:`FIELDS`."""
    return {
        "event": event,
        "endpoint": endpoint,
        "node": node,
        "username": username,
        "outcome": outcome,
        "status": status,
        "duration_ms": None if duration_ms is None else round(duration_ms, 1),
        "cause": cause,
    }
