"""
A real HTTP server that answers like Single Connect's OTP module.

For the demo, for this package's tests and for integrators' own tests. It never talks to a
real Single Connect. Start it in a thread::

    with Simulator() as simulator:
        simulator.hostname      # "127.0.0.1:PORT", for SINGLECONNECT_HOSTNAME
        simulator.current_code("alice")

or from the command line: ``python manage.py singleconnect_simulator``.

Only the simulator has the test hooks under ``/_simulator/``: ``GET /_simulator/otp?username=``
(the current code as plain text), ``POST /_simulator/fault`` (``mode``, ``seconds``,
``endpoint``) and ``GET /_simulator/stats`` (calls per endpoint and connections, as JSON).
"""

from __future__ import annotations

import contextlib
import json
import secrets
import socket
import ssl
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol
from urllib.parse import parse_qs, urlsplit

DEFAULT_BASE_PATH = "/twofactorauth-ui/rest/tfa"
DEFAULT_CODE_TTL = 300
# How often the serving loop looks whether stop() was called: the most stop() waits.
POLL_INTERVAL = 0.05

#: What a fault makes the simulator do, for every endpoint or the one named.
FAULT_MODES = (
    "latency",  # wait `seconds`, then answer normally
    "error",  # HTTP 500 with a Tomcat page
    "refuse",  # HTTP 400 with a Tomcat page, as a request Single Connect cannot take gets
    "garbage",  # HTTP 200 with a body that is no documented answer
    "html",  # HTTP 200 with an HTML login page, as an expired gateway session gives
    "redirect",  # HTTP 302 to a login page
    "drop",  # close the connection without answering
    "drip",  # answer "true" one byte every `seconds`, headers included
    "endless",  # HTTP 200 with a body that never ends (until the client hangs up)
)
#: The most a faulty answer goes on for, so that no test can hang for ever.
FAULT_LIMIT_SECONDS = 60

DASH = "\N{EN DASH}"  # Tomcat's pages use an en dash, not a hyphen

TOMCAT_403 = f"""<!doctype html><html lang="en"><head><title>HTTP Status 403 {DASH} Forbidden\
</title><style type="text/css">body {{font-family:Tahoma,Arial,sans-serif;}} h1, h2, h3, b \
{{color:white;background-color:#525D76;}} h1 {{font-size:22px;}}</style></head>
<body><h1>HTTP Status 403 {DASH} Forbidden</h1></body></html>"""

TOMCAT_500 = f"""<!doctype html><html lang="en"><head><title>HTTP Status 500 {DASH} Internal \
Server Error</title></head><body><h1>HTTP Status 500 {DASH} Internal Server Error</h1></body>\
</html>"""

TOMCAT_400 = f"""<!doctype html><html lang="en"><head><title>HTTP Status 400 {DASH} Bad \
Request</title></head><body><h1>HTTP Status 400 {DASH} Bad Request</h1></body></html>"""

LOGIN_PAGE = """<!doctype html><html><head><title>Single Connect</title></head>
<body><form method="post" action="/login"><input name="username"></form></body></html>"""


class Output(Protocol):
    """Where the codes are printed: a text file, or a management command's stdout."""

    def write(self, text: str, /) -> Any: ...

    def flush(self) -> Any: ...


@dataclass(frozen=True)
class Fault:
    mode: str
    seconds: float = 0.0
    endpoint: str | None = None

    def applies_to(self, endpoint: str) -> bool:
        return self.endpoint in (None, endpoint)


@dataclass(frozen=True)
class Call:
    """One call that reached the simulator. The token is not kept."""

    endpoint: str
    username: str
    status: int


class Simulator:
    """Single Connect's OTP API on a local port, in a background thread."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        inactive: Iterable[str] = (),
        code_ttl: float = DEFAULT_CODE_TTL,
        base_path: str = DEFAULT_BASE_PATH,
        certfile: str | None = None,
        keyfile: str | None = None,
        client_ca: str | None = None,
        output: Output | None = sys.stdout,
    ) -> None:
        self.inactive = set(inactive)
        self.code_ttl = code_ttl
        self.base_path = "/" + base_path.strip("/")
        self.output = output
        self.fault: Fault | None = None
        self.calls: list[Call] = []
        self.connections = 0
        self._codes: dict[str, tuple[str, float]] = {}
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._state_lock = threading.Lock()
        self._serving = False
        self._stopped = False
        self._server = _Server((host, port), _Handler, self)
        self.tls = certfile is not None
        if certfile is not None:
            try:
                context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
                context.load_cert_chain(certfile, keyfile)
                if client_ca is not None:
                    context.verify_mode = ssl.CERT_REQUIRED
                    context.load_verify_locations(client_ca)
            except BaseException:
                self._server.server_close()  # the port is already bound: free it
                raise
            self._server.socket = context.wrap_socket(
                self._server.socket, server_side=True, do_handshake_on_connect=False
            )

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> Simulator:
        """Serve in a background thread."""
        self._thread = threading.Thread(
            target=self.serve_forever, name="singleconnect-simulator", daemon=True
        )
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        """Serve in this thread until ``stop()`` is called from another one."""
        with self._state_lock:
            if self._stopped:  # stop() came first
                return
            self._serving = True
        try:
            self._server.serve_forever(POLL_INTERVAL)
        finally:
            with self._state_lock:
                self._serving = False

    def stop(self) -> None:
        with self._state_lock:
            self._stopped = True
            serving = self._serving
        # shutdown() waits for the serving loop to end: it would wait forever for a loop
        # that never started.
        if serving:
            self._server.shutdown()
        self._server.close_connections()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> Simulator:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # -- where it listens ----------------------------------------------------------------------

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def hostname(self) -> str:
        """``host:port``, the value for ``SINGLECONNECT_HOSTNAME``."""
        host = str(self._server.server_address[0])
        return f"{host}:{self.port}"

    @property
    def scheme(self) -> str:
        return "https" if self.tls else "http"

    @property
    def url(self) -> str:
        return f"{self.scheme}://{self.hostname}"

    def django_settings(self) -> dict[str, Any]:
        """The settings that point this package at the simulator."""
        return {
            "SINGLECONNECT_HOSTNAME": self.hostname,
            "SINGLECONNECT_SCHEME": self.scheme,
            "SINGLECONNECT_BASE_PATH": self.base_path,
        }

    # -- state and test hooks ------------------------------------------------------------------

    def current_code(self, username: str) -> str | None:
        """The code the user would type now, or None when no valid code is pending."""
        with self._lock:
            entry = self._codes.get(username)
            if entry is None or entry[1] <= time.monotonic():
                return None
            return entry[0]

    def set_fault(
        self, mode: str | None, *, seconds: float = 0.0, endpoint: str | None = None
    ) -> None:
        """Make the next answers misbehave; ``None`` or ``"none"`` restores normal answers."""
        if mode in (None, "none"):
            self.fault = None
            return
        if mode not in FAULT_MODES:
            raise ValueError(f"Unknown fault mode {mode!r}; use one of {', '.join(FAULT_MODES)}.")
        if endpoint not in (None, "otpstatus", "otpvalid"):
            raise ValueError(f"Unknown endpoint {endpoint!r}.")
        self.fault = Fault(mode, float(seconds), endpoint)

    def call_count(self, endpoint: str | None = None) -> int:
        with self._lock:
            return sum(1 for call in self.calls if endpoint in (None, call.endpoint))

    def reset(self) -> None:
        """Forget codes, calls and faults."""
        with self._lock:
            self._codes.clear()
            self.calls.clear()
            self.fault = None

    def stats(self) -> dict[str, Any]:
        with self._lock:
            counts = Counter(call.endpoint for call in self.calls)
            return {
                "otpstatus": counts["otpstatus"],
                "otpvalid": counts["otpvalid"],
                "connections": self.connections,
            }

    # -- the API -------------------------------------------------------------------------------

    def otp_status(self, username: str) -> bool:
        if username in self.inactive:
            return False
        code = f"{secrets.randbelow(10**6):06d}"
        with self._lock:
            self._codes[username] = (code, time.monotonic() + self.code_ttl)
        if self.output is not None:
            # One write with its newline: print() writes the newline separately, and a
            # management command's stdout adds one to each write that lacks it.
            self.output.write(f"code for {username}: {code}\n")
            self.output.flush()
        return True

    def otp_valid(self, username: str, token: str) -> bool:
        with self._lock:
            entry = self._codes.get(username)
            if entry is None or entry[1] <= time.monotonic():
                return False
            # Bytes: compare_digest raises TypeError for str with non-ASCII characters.
            if not secrets.compare_digest(entry[0].encode(), token.encode()):
                return False
            # Single use: a code that verified once is gone.
            del self._codes[username]
            return True

    def record(self, endpoint: str, username: str, status: int) -> None:
        with self._lock:
            self.calls.append(Call(endpoint, username, status))


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], handler: type, simulator: Simulator) -> None:
        self.simulator = simulator
        self._open: set[socket.socket] = set()
        self._open_lock = threading.Lock()
        super().__init__(address, handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._open_lock:
            self._open.add(request)
        with self.simulator._lock:
            self.simulator.connections += 1
        super().process_request(request, client_address)

    def finish_request(self, request: Any, client_address: Any) -> None:
        if isinstance(request, ssl.SSLSocket):
            request.settimeout(10)
            try:
                request.do_handshake()
            except (OSError, ssl.SSLError):
                return
        super().finish_request(request, client_address)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that gave up (a timeout, a fault, stop()) is expected: no traceback.
        if isinstance(sys.exc_info()[1], OSError):
            return
        super().handle_error(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._open_lock:
            self._open.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        with self._open_lock:
            for request in list(self._open):
                with contextlib.suppress(OSError):  # already gone
                    request.shutdown(socket.SHUT_RDWR)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "Apache-Coyote/1.1"
    timeout = 30
    # Headers and body go out in two writes; with Nagle's algorithm the body would wait
    # for the client's delayed ACK, some 40 ms per answer.
    disable_nagle_algorithm = True
    server: _Server

    def version_string(self) -> str:
        return self.server_version  # the default adds a space and Python's version

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the simulator prints the codes, nothing else."""

    @property
    def simulator(self) -> Simulator:
        return self.server.simulator

    # -- plumbing ------------------------------------------------------------------------------

    def _send(self, status: int, body: str | bytes = b"", content_type: str = "text/plain") -> None:
        data = body.encode() if isinstance(body, str) else body
        self.send_response(status)
        self.send_header("Content-Type", f"{content_type};charset=UTF-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _form(self) -> dict[str, str] | None:
        """The form fields, or None (after a 400) when the body cannot be read."""
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if length < 0:
            self.close_connection = True  # the rest of the stream cannot be found
            self._send(400, "bad Content-Length")
            return None
        raw = self.rfile.read(length).decode("utf-8", "replace") if length else ""
        return {key: values[0] for key, values in parse_qs(raw, keep_blank_values=True).items()}

    def _apply_fault(self, endpoint: str, username: str) -> bool:
        """Answer as the fault says; True when the fault already answered."""
        fault = self.simulator.fault
        if fault is None or not fault.applies_to(endpoint):
            return False
        if fault.mode == "latency":
            time.sleep(fault.seconds)
            return False
        self.simulator.record(endpoint, username, 0)
        if fault.mode == "error":
            self._send(500, TOMCAT_500, "text/html")
        elif fault.mode == "refuse":
            self._send(400, TOMCAT_400, "text/html")
        elif fault.mode == "garbage":
            self._send(200, b"\x00\xff garbage \xfe", "application/octet-stream")
        elif fault.mode == "html":
            self._send(200, LOGIN_PAGE, "text/html")
        elif fault.mode == "redirect":
            self.send_response(302)
            self.send_header("Location", "/netright/login")
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif fault.mode == "drip":
            self._drip(fault.seconds or 1.0)
        elif fault.mode == "endless":
            self._endless()
        else:  # drop
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
        return True

    def _drip(self, interval: float) -> None:
        answer = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 4\r\n\r\ntrue"
        self.close_connection = True
        give_up = time.monotonic() + FAULT_LIMIT_SECONDS
        for byte in answer:
            if time.monotonic() > give_up:
                break
            self.wfile.write(bytes([byte]))
            self.wfile.flush()
            time.sleep(interval)

    def _endless(self) -> None:
        self.close_connection = True
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.end_headers()
        chunk = b"true " * 1024
        give_up = time.monotonic() + FAULT_LIMIT_SECONDS
        while time.monotonic() < give_up:
            self.wfile.write(chunk)

    # -- routes --------------------------------------------------------------------------------

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        query = {key: values[0] for key, values in parse_qs(url.query).items()}
        if url.path == "/_simulator/otp":
            code = self.simulator.current_code(query.get("username", ""))
            if code is None:
                self._send(404, "no code")
            else:
                self._send(200, code)
        elif url.path == "/_simulator/stats":
            self._send(200, json.dumps(self.simulator.stats()), "application/json")
        else:
            self._send(404, "not found")

    def do_POST(self) -> None:
        path = urlsplit(self.path).path
        form = self._form()
        if form is None:
            return
        if path == "/_simulator/fault":
            try:
                self.simulator.set_fault(
                    form.get("mode") or None,
                    seconds=float(form.get("seconds") or 0),
                    endpoint=form.get("endpoint") or None,
                )
            except ValueError as exc:
                self._send(400, str(exc))
            else:
                self._send(204)
            return
        endpoint = path.rpartition("/")[2]
        if path != f"{self.simulator.base_path}/{endpoint}" or endpoint not in (
            "otpstatus",
            "otpvalid",
        ):
            self._send(404, "not found")
            return
        username = form.get("username", "")
        if self._apply_fault(endpoint, username):
            return
        required = ("username", "enduserip", "applicationname")
        if endpoint == "otpvalid":
            required = ("username", "token", "applicationname")
        if not all(form.get(name) for name in required):
            self.simulator.record(endpoint, username, 400)
            self._send(400, "missing field")
        elif endpoint == "otpstatus":
            active = self.simulator.otp_status(username)
            self.simulator.record(endpoint, username, 200)
            self._send(200, "true" if active else "false")
        elif self.simulator.otp_valid(username, form["token"]):
            self.simulator.record(endpoint, username, 200)
            self._send(200)
        else:
            self.simulator.record(endpoint, username, 403)
            self._send(403, TOMCAT_403, "text/html")
