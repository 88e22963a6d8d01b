"""
The probes of ``manage.py singleconnect_check``: for each Single Connect node, DNS, a TCP
connection, the TLS handshake (with the CA bundle and client certificate of the settings)
and one GET of the base path.

None of them can issue a code or spend an attempt: ``otpstatus`` and ``otpvalid`` are never
called, and the GET goes to the base path itself, which answers it with a 404 or a 405. Any
HTTP answer proves the way up to HTTP; redirects are not followed. Each probe has the
client's deadlines (``SINGLECONNECT_TIMEOUT``) and trusts what the settings trust, never the
environment.
"""

from __future__ import annotations

import http.client
import socket
import ssl
import threading
import time
import warnings
from typing import Any
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from requests.utils import select_proxy
from urllib3.exceptions import InsecureRequestWarning

from .. import __version__
from ..conf import Settings
from ..nodes import node_list
from ..transport.deadline import POOL_CLASSES, deadline
from ..validators import hostname_problem
from .report import NodeReport, Report, Step, elapsed_ms, reason
from .tls import probe_tls

#: A server certificate that expires sooner than this many days is a warning.
WARN_DAYS = 30


def _split(node: str, scheme: str) -> tuple[str, int]:
    """``(host, port)`` of a ``host[:port]`` value already validated; IPv6 unbracketed."""
    if node.startswith("["):
        host, _, rest = node[1:].partition("]")
        port = rest[1:]
    else:
        host, _, port = node.partition(":")
    return host, int(port) if port else (443 if scheme == "https" else 80)


def _resolve(host: str, port: int, seconds: float) -> list[Any]:
    """getaddrinfo under a deadline: the system resolver's own may be far longer."""
    answer: list[Any] = []
    error: list[BaseException] = []

    def run() -> None:
        try:
            answer.extend(socket.getaddrinfo(host, port, type=socket.SOCK_STREAM))
        except BaseException as exc:  # handed to the caller's thread
            error.append(exc)

    thread = threading.Thread(target=run, name="singleconnect-check-dns", daemon=True)
    thread.start()
    thread.join(seconds)
    if thread.is_alive():
        raise TimeoutError(f"no answer within {seconds:g} s")
    if error:
        raise error[0]
    return answer


def _dns(host: str, port: int, connect: float) -> tuple[Step, list[Any]]:
    started = time.monotonic()
    try:
        infos = _resolve(host, port, connect)
    except (OSError, UnicodeError) as exc:
        return Step("dns", "failed", elapsed_ms(started), f"{host}: {reason(exc)}"), []
    addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
    found = {"addresses": addresses}
    return Step("dns", "ok", elapsed_ms(started), ", ".join(addresses), found), infos


def _tcp(infos: list[Any], connect: float) -> tuple[Step, socket.socket | None]:
    """Each address in the resolver's order until one connects, as the client does."""
    started = time.monotonic()
    failures = []
    for family, kind, proto, _, address in infos:
        sock = socket.socket(family, kind, proto)
        sock.settimeout(connect)
        try:
            sock.connect(address)
        except OSError as exc:
            sock.close()
            failures.append(f"{address[0]} port {address[1]}: {reason(exc)}")
            continue
        found = {"address": str(address[0]), "port": int(address[1])}
        detail = f"{address[0]} port {address[1]}"
        return Step("tcp", "ok", elapsed_ms(started), detail, found), sock
    return Step("tcp", "failed", elapsed_ms(started), "; ".join(failures)), None


class _ProbeAdapter(HTTPAdapter):
    """Connections the deadline watchdog can cut short, as the client's; no retry at all."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = POOL_CLASSES


def _session(config: Settings) -> requests.Session:
    session = requests.Session()
    session.trust_env = False  # settings alone decide trust and proxies
    session.headers["User-Agent"] = f"django-singleconnect/{__version__} (check)"
    session.headers.update(config.EXTRA_HEADERS)
    if config.COOKIES:
        # What every call sends, so that a gateway in front of Single Connect lets it pass.
        session.headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in config.COOKIES.items())
    adapter = _ProbeAdapter(max_retries=0)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session


def _http(session: requests.Session, url: str, config: Settings) -> Step:
    connect, read = config.TIMEOUT
    path = urlsplit(url).path
    started = time.monotonic()
    with deadline(connect + read) as call, warnings.catch_warnings():
        if config.VERIFY is False:
            # The TLS step already warns, once, not urllib3 on every request.
            warnings.simplefilter("ignore", InsecureRequestWarning)
        try:
            response = session.get(
                url,
                timeout=config.TIMEOUT,
                verify=config.VERIFY,
                cert=config.CLIENT_CERT,
                proxies=config.PROXIES,
                allow_redirects=False,
                stream=True,
            )
            response.close()  # the status line is all a probe needs
        except (requests.exceptions.RequestException, OSError) as exc:
            why = "deadline passed" if call.expired else _request_reason(exc)
            return Step("http", "failed", elapsed_ms(started), f"GET {path}: {why}")
    ms = elapsed_ms(started)
    if call.expired:
        # Cut short without an error is no answer either: http.client takes the end of the
        # stream in the middle of the headers for their end.
        return Step("http", "failed", ms, f"GET {path}: deadline passed")
    status = response.status_code
    found = {"status": status, "url": url}
    detail = f"GET {path}: {status} {response.reason or ''}".rstrip()
    if response.is_redirect:
        detail += " (redirect not followed)"
    if status >= 500:
        return Step("http", "warn", ms, detail + ": a server error", found)
    return Step("http", "ok", ms, detail, found)


def _request_reason(exc: BaseException) -> str:
    """The innermost reason of a requests error: an ssl or socket error when there is one."""
    seen: set[int] = set()
    pending: list[Any] = [exc]
    while pending:
        error = pending.pop(0)
        if not isinstance(error, BaseException) or id(error) in seen:
            continue
        seen.add(id(error))
        if isinstance(error, (ssl.SSLError, ConnectionRefusedError, socket.gaierror)):
            return reason(error)
        if isinstance(error, (http.client.RemoteDisconnected, ConnectionResetError)):
            return "the connection was closed without an answer"
        pending.extend([*error.args, getattr(error, "reason", None), error.__cause__])
        pending.append(error.__context__)
    if isinstance(exc, requests.exceptions.Timeout):
        return "timed out"
    return type(exc).__name__


def probe_node(
    node: str,
    config: Settings,
    warn_days: int = WARN_DAYS,
    session: requests.Session | None = None,
) -> NodeReport:
    """Every probe of one ``host[:port]``, each after the one before succeeded."""
    report = NodeReport(node)
    scheme = config.SCHEME
    problem = hostname_problem(node)
    if problem is not None:
        report.steps.append(Step("host", "failed", None, f"not a host or host:port ({problem})"))
        return report
    connect, _ = config.TIMEOUT
    host, port = _split(node, scheme)
    url = f"{scheme}://{node}{config.BASE_PATH}"
    proxy = select_proxy(url, config.PROXIES)
    through = ""
    if proxy:
        # The site connects to the proxy, which connects to the node: probe the proxy, and
        # leave TLS with the node to the request (no expiry date that way). Never the
        # proxy's credentials in the output.
        parts = urlsplit(proxy if "://" in proxy else f"http://{proxy}")
        default_port = 443 if parts.scheme == "https" else 1080 if "socks" in parts.scheme else 80
        host, port = parts.hostname or "", parts.port or default_port
        through = f"proxy {host} port {port}: "
    dns, infos = _dns(host, port, connect)
    _prefix(dns, through)
    report.steps.append(dns)
    tcp, sock = _tcp(infos, connect) if infos else (Step("tcp", "skipped"), None)
    _prefix(tcp, through)
    report.steps.append(tcp)
    if scheme != "https":
        tls = Step("tls", "skipped", detail="the scheme is http")
    elif proxy:
        tls = Step("tls", "skipped", detail="through the proxy: see http")
    elif sock is None:
        tls = Step("tls", "skipped")
    else:
        tls, sock = probe_tls(sock, host, config, connect, warn_days), None  # closed by it
    if sock is not None:
        sock.close()
    report.steps.append(tls)
    if report.ok:
        report.steps.append(_http(session or _session(config), url, config))
    else:
        report.steps.append(Step("http", "skipped"))
    return report


def _prefix(step: Step, text: str) -> None:
    if text and step.detail:
        step.detail = text + step.detail
    if text:
        step.found["proxy"] = True


def check(config: Settings, warn_days: int = WARN_DAYS) -> Report:
    """Probe every node of ``config``; the report says how each went and the exit status."""
    raw = {name: (value, source) for name, value, source in config.describe()}
    hostname, source = raw["SINGLECONNECT_HOSTNAME"]
    report = Report(config.SCHEME, config.BASE_PATH, source)
    nodes = node_list(hostname)
    if not nodes:
        report.problems.append("SINGLECONNECT_HOSTNAME is not set")
    if not config.APPLICATION_NAME.strip():
        report.problems.append("SINGLECONNECT_APPLICATION_NAME is not set")
    if config.SCHEME not in ("https", "http"):
        report.problems.append(f"SINGLECONNECT_SCHEME is {config.SCHEME!r}")
        return report
    session = _session(config)
    try:
        for node in nodes:
            node_report = probe_node(node, config, warn_days, session)
            if hostname_problem(node) is not None:
                report.problems.append(f"{node!r} is not a host or host:port")
            report.nodes.append(node_report)
    finally:
        session.close()
    return report
