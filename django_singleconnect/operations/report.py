"""What ``manage.py singleconnect_check`` found: a step per probe, a row per node, the exit."""

from __future__ import annotations

import ssl
import time
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

Status = Literal["ok", "warn", "failed", "skipped"]

#: The exit status of the command, for readiness probes.
EXIT_OK, EXIT_DOWN, EXIT_DEGRADED = 0, 1, 2


@dataclass
class Step:
    """One probe of one node."""

    name: str
    status: Status
    ms: float | None = None
    detail: str = ""
    #: What the probe found, for ``--json``: addresses, TLS version, days left, status code.
    found: dict[str, Any] = field(default_factory=dict)


@dataclass
class NodeReport:
    node: str
    steps: list[Step] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return bool(self.steps) and all(step.status != "failed" for step in self.steps)


@dataclass
class Report:
    scheme: str
    base_path: str
    #: Where the host name comes from: "admin", "settings" or "default".
    hostname_source: str
    #: Configuration that keeps logins from working whatever the nodes say.
    problems: list[str] = field(default_factory=list)
    nodes: list[NodeReport] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        up = sum(node.ok for node in self.nodes)
        if self.problems or not up:
            return EXIT_DOWN
        return EXIT_OK if up == len(self.nodes) else EXIT_DEGRADED

    @property
    def status(self) -> str:
        if self.problems:
            return "misconfigured"
        return {EXIT_OK: "ok", EXIT_DEGRADED: "degraded", EXIT_DOWN: "down"}[self.exit_code]

    def as_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "exit_code": self.exit_code,
            "scheme": self.scheme,
            "base_path": self.base_path,
            "hostname_source": self.hostname_source,
            "problems": self.problems,
            "nodes": [
                {"node": node.node, "ok": node.ok, "steps": [asdict(step) for step in node.steps]}
                for node in self.nodes
            ],
        }


def elapsed_ms(started: float) -> float:
    return round((time.monotonic() - started) * 1000, 1)


def reason(exc: BaseException) -> str:
    """What the failure was, in the words of the socket or ssl module (never request data)."""
    if isinstance(exc, ssl.SSLCertVerificationError) and exc.verify_message:
        return str(exc.verify_message)
    if isinstance(exc, ssl.SSLError) and exc.reason:
        return str(exc.reason)
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, TimeoutError):  # socket.timeout too
        return f"timed out ({exc})" if str(exc) and str(exc) != "timed out" else "timed out"
    if isinstance(exc, OSError) and exc.strerror:
        return str(exc.strerror)
    return str(exc) or type(exc).__name__
