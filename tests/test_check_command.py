"""
``manage.py singleconnect_check`` against real simulators over loopback: DNS, TCP, TLS with
certificates made by trustme, one GET of the base path, never a code.
"""

from __future__ import annotations

import datetime as dt
import io
import itertools
import json
import shutil
import socket
import socketserver
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import pytest
import trustme
from django.core.management import CommandError, call_command

from django_singleconnect.client import SingleConnectClient
from django_singleconnect.models import SingleConnectConfiguration
from django_singleconnect.operations import check as check_module
from django_singleconnect.operations.report import reason
from django_singleconnect.simulator import Simulator, _Handler
from tests.helpers import MANAGE, ROOT, environment, free_port

pytestmark = pytest.mark.django_db

BASE = "/twofactorauth-ui/rest/tfa"


def run(*args: str) -> tuple[int, str]:
    """The command's exit status and what it printed."""
    out = io.StringIO()
    try:
        call_command("singleconnect_check", *args, stdout=out)
    except SystemExit as exc:
        return int(str(exc.code)), out.getvalue()
    return 0, out.getvalue()


class CannedServer:
    """
    Answers every connection's request with ``answer`` after ``wait`` seconds, then ``drip``
    a byte at a time.
    """

    def __init__(
        self, answer: bytes, drip: bytes = b"", interval: float = 0.05, wait: float = 0
    ) -> None:
        canned = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                received = b""
                while b"\r\n\r\n" not in received:
                    chunk = self.request.recv(4096)
                    if not chunk:
                        return  # the TCP probe: connected, then gone
                    received += chunk
                if canned.stop.wait(canned.wait):
                    return
                self.request.sendall(canned.answer)
                give_up = time.monotonic() + 5  # a client that does not hang up fails
                for byte in itertools.cycle(canned.drip) if canned.drip else ():
                    if canned.stop.wait(canned.interval) or time.monotonic() > give_up:
                        break
                    self.request.sendall(bytes([byte]))

        self.answer, self.drip, self.interval, self.wait = answer, drip, interval, wait
        self.stop = threading.Event()
        self.server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,))
        self.thread.start()

    @property
    def hostname(self) -> str:
        return f"127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> CannedServer:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop.set()
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)


def run_json(*args: str) -> tuple[int, dict[str, Any]]:
    code, output = run("--json", *args)
    return code, json.loads(output)


def steps(report: dict[str, Any], node: int = 0) -> dict[str, dict[str, Any]]:
    return {step["name"]: step for step in report["nodes"][node]["steps"]}


@pytest.fixture
def headers_seen() -> list[Any]:
    return []


@pytest.fixture
def requests_seen(monkeypatch: pytest.MonkeyPatch, headers_seen: list[Any]) -> list[str]:
    """Every request line any simulator gets, GETs included (``calls`` has only the API's)."""
    seen: list[str] = []

    def log_request(self: BaseHTTPRequestHandler, *args: Any) -> None:
        seen.append(self.requestline)
        headers_seen.append(self.headers)

    monkeypatch.setattr(_Handler, "log_request", log_request)
    return seen


def point_at(settings: Any, *hostnames: str, scheme: str = "http") -> None:
    settings.SINGLECONNECT_HOSTNAME = ", ".join(hostnames)
    settings.SINGLECONNECT_SCHEME = scheme


# -- plain HTTP --------------------------------------------------------------------------------


def test_a_node_that_answers_is_ok(server: Simulator, settings: Any) -> None:
    point_at(settings, server.hostname)
    code, output = run()
    assert code == 0
    lines = output.splitlines()
    assert lines[0] == f"Single Connect: http, base path {BASE}, host names from settings.py"
    assert lines[1].split() == ["NODE", "STEP", "RESULT", "TIME", "DETAIL"]
    assert lines[2].split()[:3] == [server.hostname, "dns", "ok"]
    assert lines[2].endswith("  127.0.0.1")
    assert lines[3].split()[:2] == ["tcp", "ok"]
    assert lines[3].endswith(f"127.0.0.1 port {server.port}")
    assert lines[4].split()[:2] == ["tls", "skipped"]
    assert lines[5].split()[:2] == ["http", "ok"]
    assert lines[5].endswith(f"GET {BASE}: 404 Not Found")
    assert lines[6] == "Result: ok, 1 of 1 node ok (exit status 0)"


def test_it_never_calls_otpstatus_or_otpvalid(
    server: Simulator, settings: Any, requests_seen: list[str]
) -> None:
    point_at(settings, server.hostname)
    assert run()[0] == 0
    assert run("--json")[0] == 0
    assert requests_seen == [f"GET {BASE} HTTP/1.1"] * 2
    assert server.calls == []
    assert server.stats() == {"otpstatus": 0, "otpvalid": 0, "connections": 4}
    # What a real call looks like to the same recorders.
    SingleConnectClient(hostname=server.hostname, scheme="http").otp_status("alice", "192.0.2.1")
    assert requests_seen[-1] == f"POST {BASE}/otpstatus HTTP/1.1"
    assert server.call_count("otpstatus") == 1


def test_a_refused_connection(settings: Any) -> None:
    node = f"127.0.0.1:{free_port()}"
    point_at(settings, node)
    code, report = run_json()
    assert code == 1
    assert report["status"] == "down"
    found = steps(report)
    assert found["dns"]["status"] == "ok"
    assert found["tcp"]["status"] == "failed"
    assert found["tcp"]["detail"].endswith(": connection refused")
    assert found["http"]["status"] == "skipped"


def test_a_name_that_does_not_resolve(settings: Any) -> None:
    point_at(settings, "singleconnect.invalid")
    code, output = run()
    assert code == 1
    dns = output.splitlines()[2]
    assert dns.split()[:3] == ["singleconnect.invalid", "dns", "failed"]
    assert "singleconnect.invalid: " in dns
    assert output.splitlines()[-1] == "Result: down, 0 of 1 node ok (exit status 1)"


def test_one_node_down_of_two_is_degraded(server: Simulator, settings: Any) -> None:
    down = f"127.0.0.1:{free_port()}"
    settings.SINGLECONNECT_SCHEME = "http"
    settings.SINGLECONNECT_HOSTNAME = [f"{down} ", server.hostname]  # a list works too
    code, report = run_json()
    assert code == 2
    assert report["status"] == "degraded"
    assert [node["node"] for node in report["nodes"]] == [down, server.hostname]
    assert [node["ok"] for node in report["nodes"]] == [False, True]
    code, output = run()
    assert code == 2
    assert output.splitlines()[-1] == "Result: degraded, 1 of 2 nodes ok (exit status 2)"


def test_every_node_down_is_down(settings: Any) -> None:
    point_at(settings, f"127.0.0.1:{free_port()}", "singleconnect.invalid")
    code, report = run_json()
    assert (code, report["status"]) == (1, "down")


def test_the_json_report(server: Simulator, settings: Any) -> None:
    point_at(settings, server.hostname)
    code, report = run_json()
    assert code == 0
    assert {key: report[key] for key in ("status", "exit_code", "scheme", "base_path")} == {
        "status": "ok",
        "exit_code": 0,
        "scheme": "http",
        "base_path": BASE,
    }
    assert report["hostname_source"] == "settings"
    assert report["problems"] == []
    (node,) = report["nodes"]
    assert node["node"] == server.hostname
    assert node["ok"] is True
    found = steps(report)
    assert list(found) == ["dns", "tcp", "tls", "http"]
    assert found["dns"]["found"] == {"addresses": ["127.0.0.1"]}
    assert found["tcp"]["found"] == {"address": "127.0.0.1", "port": server.port}
    assert found["http"]["found"] == {
        "status": 404,
        "url": f"http://{server.hostname}{BASE}",
    }
    assert all(isinstance(found[name]["ms"], float) for name in ("dns", "tcp", "http"))


def test_the_admins_host_name_wins(server: Simulator, settings: Any) -> None:
    settings.SINGLECONNECT_SCHEME = "http"  # settings.py still names sc.example.com
    SingleConnectConfiguration(hostname=server.hostname).save()
    code, report = run_json()
    assert code == 0
    assert report["hostname_source"] == "admin"
    assert [node["node"] for node in report["nodes"]] == [server.hostname]
    assert run()[1].splitlines()[0].endswith("host names from the admin")


@pytest.mark.parametrize(
    ("setting", "value", "problem"),
    [
        ("SINGLECONNECT_HOSTNAME", "", "SINGLECONNECT_HOSTNAME is not set"),
        ("SINGLECONNECT_HOSTNAME", " , ", "SINGLECONNECT_HOSTNAME is not set"),
        ("SINGLECONNECT_APPLICATION_NAME", " ", "SINGLECONNECT_APPLICATION_NAME is not set"),
        ("SINGLECONNECT_SCHEME", "ftp", "SINGLECONNECT_SCHEME is 'ftp'"),
    ],
)
def test_a_misconfiguration_exits_1(
    server: Simulator, settings: Any, setting: str, value: str, problem: str
) -> None:
    point_at(settings, server.hostname)
    setattr(settings, setting, value)
    code, report = run_json()
    assert (code, report["status"], report["problems"]) == (1, "misconfigured", [problem])
    code, output = run()
    assert code == 1
    assert f"Problem: {problem}" in output.splitlines()


def test_a_node_that_is_no_host_name(server: Simulator, settings: Any) -> None:
    point_at(settings, server.hostname, "https://sc.example.com")
    code, report = run_json()
    assert code == 1
    assert report["problems"] == ["'https://sc.example.com' is not a host or host:port"]
    assert [node["ok"] for node in report["nodes"]] == [True, False]


def test_redirects_are_not_followed(settings: Any) -> None:
    answer = b"HTTP/1.1 302 Found\r\nLocation: /netright/login\r\nContent-Length: 0\r\n\r\n"
    with CannedServer(answer) as redirecting:
        point_at(settings, redirecting.hostname)
        code, report = run_json()
    assert code == 0
    assert steps(report)["http"]["detail"] == f"GET {BASE}: 302 Found (redirect not followed)"


def test_a_server_error_is_an_answer_with_a_warning(settings: Any) -> None:
    answer = b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n"
    with CannedServer(answer) as failing:
        point_at(settings, failing.hostname)
        code, report = run_json()
    assert code == 0
    assert steps(report)["http"]["status"] == "warn"


def test_a_hanging_node_is_cut_at_the_deadline(settings: Any) -> None:
    # Each header line in time for the read timeout; the headers never end.
    with CannedServer(b"HTTP/1.1 200 OK\r\n", b"X-Slow: 1\r\n", 0.05) as hanging:
        point_at(settings, hanging.hostname)
        settings.SINGLECONNECT_TIMEOUT = (0.3, 0.3)
        code, report = run_json()
    assert code == 1
    assert steps(report)["http"]["detail"] == f"GET {BASE}: deadline passed"


def test_proxies_are_honoured_and_their_credentials_never_shown(
    server: Simulator, settings: Any, requests_seen: list[str]
) -> None:
    # The simulator stands in for the proxy: it answers the proxied GET with its 404.
    point_at(settings, "singleconnect.internal:8443")
    settings.SINGLECONNECT_PROXIES = {"http": f"http://user:s3cret@{server.hostname}"}
    code, output = run()
    assert code == 0
    assert "s3cret" not in output
    assert f"proxy 127.0.0.1 port {server.port}: 127.0.0.1" in output
    assert requests_seen == [f"GET http://singleconnect.internal:8443{BASE} HTTP/1.1"]
    assert "s3cret" not in run("--json")[1]


def test_a_negative_warning_window_is_refused() -> None:
    with pytest.raises(CommandError, match="--warn-days"):
        run("--warn-days", "-1")


# -- TLS ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Certificates:
    ca: str
    other_ca: str
    server: str
    localhost: str
    expiring: str
    client: str
    client_key: str


@pytest.fixture(scope="module")
def certificates(tmp_path_factory: pytest.TempPathFactory) -> Certificates:
    folder = tmp_path_factory.mktemp("check-tls")
    ca = trustme.CA()
    now = dt.datetime.now(dt.timezone.utc)
    paths = {name: str(folder / f"{name}.pem") for name in Certificates.__dataclass_fields__}
    ca.cert_pem.write_to_path(paths["ca"])
    trustme.CA().cert_pem.write_to_path(paths["other_ca"])
    year = now + dt.timedelta(days=400, hours=1)
    servers = {
        "server": ca.issue_cert("127.0.0.1", not_after=year),
        "localhost": ca.issue_cert("localhost", not_after=year),
        "expiring": ca.issue_cert("127.0.0.1", not_after=now + dt.timedelta(days=10, hours=1)),
    }
    for name, leaf in servers.items():
        leaf.private_key_and_cert_chain_pem.write_to_path(paths[name])
    client = ca.issue_cert("client.example.com")
    client.cert_chain_pems[0].write_to_path(paths["client"])
    client.private_key_pem.write_to_path(paths["client_key"])
    return Certificates(**paths)


@pytest.fixture
def tls_server(certificates: Certificates, request: pytest.FixtureRequest) -> Iterator[Simulator]:
    """The simulator over mutual TLS with the certificate ``request.param`` (``server``)."""
    name = getattr(request, "param", "server")
    with Simulator(
        output=io.StringIO(), certfile=getattr(certificates, name), client_ca=certificates.ca
    ) as running:
        yield running


@pytest.fixture
def tls_settings(settings: Any, certificates: Certificates) -> Any:
    settings.SINGLECONNECT_SCHEME = "https"
    settings.SINGLECONNECT_VERIFY = certificates.ca
    settings.SINGLECONNECT_CLIENT_CERT = (certificates.client, certificates.client_key)
    return settings


def test_mutual_tls_with_the_ca_bundle(
    tls_server: Simulator, tls_settings: Any, requests_seen: list[str]
) -> None:
    tls_settings.SINGLECONNECT_HOSTNAME = tls_server.hostname
    code, report = run_json()
    assert code == 0
    tls = steps(report)["tls"]
    assert tls["status"] == "ok"
    assert tls["found"]["days_left"] == 400
    assert tls["found"]["verified"] is True
    assert tls["found"]["version"].startswith("TLSv1.")
    assert tls["detail"].endswith(f"certificate valid until {tls['found']['not_after']} (400 days)")
    assert steps(report)["http"]["found"]["status"] == 404
    assert requests_seen == [f"GET {BASE} HTTP/1.1"]
    assert tls_server.calls == []


@pytest.mark.parametrize("tls_server", ["localhost"], indirect=True)
def test_a_name_resolved_and_checked_against_the_certificate(
    tls_server: Simulator, tls_settings: Any
) -> None:
    tls_settings.SINGLECONNECT_HOSTNAME = f"localhost:{tls_server.port}"
    code, report = run_json()
    assert code == 0
    assert "127.0.0.1" in steps(report)["dns"]["found"]["addresses"]
    assert steps(report)["tls"]["status"] == "ok"


def test_the_wrong_ca_bundle(
    tls_server: Simulator, tls_settings: Any, certificates: Certificates
) -> None:
    tls_settings.SINGLECONNECT_HOSTNAME = tls_server.hostname
    tls_settings.SINGLECONNECT_VERIFY = certificates.other_ca
    code, report = run_json()
    assert code == 1
    tls = steps(report)["tls"]
    assert tls["status"] == "failed"
    # Which of the two OpenSSL says depends on whether the server sends its CA along.
    assert tls["detail"] in (
        "unable to get local issuer certificate",
        "self-signed certificate in certificate chain",
    )
    assert steps(report)["http"]["status"] == "skipped"


def test_a_ca_bundle_that_is_not_there(tls_server: Simulator, tls_settings: Any) -> None:
    tls_settings.SINGLECONNECT_HOSTNAME = tls_server.hostname
    tls_settings.SINGLECONNECT_VERIFY = "/nowhere/ca.pem"
    code, report = run_json()
    assert code == 1
    assert steps(report)["tls"]["detail"].startswith("CA bundle or client certificate: ")


@pytest.mark.parametrize("tls_server", ["expiring"], indirect=True)
def test_a_certificate_that_expires_soon_warns(tls_server: Simulator, tls_settings: Any) -> None:
    tls_settings.SINGLECONNECT_HOSTNAME = tls_server.hostname
    code, report = run_json()
    assert code == 0  # it still works: a warning, not a failure
    tls = steps(report)["tls"]
    assert (tls["status"], tls["found"]["days_left"]) == ("warn", 10)
    code, output = run()
    assert code == 0
    assert "  tls   warn  " in output
    assert "(10 days)" in output
    code, report = run_json("--warn-days", "10")
    assert steps(report)["tls"]["status"] == "ok"


def test_no_client_certificate_where_the_server_asks_for_one(
    tls_server: Simulator, tls_settings: Any
) -> None:
    tls_settings.SINGLECONNECT_HOSTNAME = tls_server.hostname
    tls_settings.SINGLECONNECT_CLIENT_CERT = None
    code, report = run_json()
    # Under TLS 1.3 the server refuses after the handshake: the GET finds out.
    assert code == 1
    assert not report["nodes"][0]["ok"]
    assert tls_server.calls == []


def test_a_refused_tls_node_skips_the_handshake(tls_settings: Any) -> None:
    tls_settings.SINGLECONNECT_HOSTNAME = f"127.0.0.1:{free_port()}"
    code, report = run_json()
    assert code == 1
    assert [step["status"] for step in report["nodes"][0]["steps"]] == [
        "ok",
        "failed",
        "skipped",
        "skipped",
    ]


def test_the_default_cas_do_not_know_a_company_ca(tls_server: Simulator, tls_settings: Any) -> None:
    tls_settings.SINGLECONNECT_HOSTNAME = tls_server.hostname
    tls_settings.SINGLECONNECT_VERIFY = True  # certifi's CAs: trustme's is not one
    code, report = run_json()
    assert code == 1
    assert steps(report)["tls"]["status"] == "failed"


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command")
def test_a_ca_folder_and_a_client_certificate_in_one_file(
    tls_server: Simulator, tls_settings: Any, certificates: Certificates, tmp_path: Path
) -> None:
    # A folder of CA certificates named by their subject hash, as c_rehash leaves it.
    subject_hash = subprocess.run(
        ["openssl", "x509", "-subject_hash", "-noout", "-in", certificates.ca],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    folder = tmp_path / "cas"
    folder.mkdir()
    shutil.copy(certificates.ca, folder / f"{subject_hash}.0")
    combined = tmp_path / "client-with-key.pem"
    combined.write_text(
        Path(certificates.client_key).read_text() + Path(certificates.client).read_text()
    )
    tls_settings.SINGLECONNECT_HOSTNAME = tls_server.hostname
    tls_settings.SINGLECONNECT_VERIFY = str(folder)
    tls_settings.SINGLECONNECT_CLIENT_CERT = str(combined)
    code, report = run_json()
    assert code == 0, report
    assert steps(report)["tls"]["status"] == "ok"


def test_verification_turned_off_warns(tls_server: Simulator, tls_settings: Any) -> None:
    tls_settings.SINGLECONNECT_HOSTNAME = tls_server.hostname
    tls_settings.SINGLECONNECT_VERIFY = False
    code, report = run_json()
    assert code == 0
    tls = steps(report)["tls"]
    assert (tls["status"], tls["found"]["verified"]) == ("warn", False)
    assert tls["detail"].endswith("certificate not verified")


def test_one_tls_node_of_two_with_the_wrong_certificate(
    certificates: Certificates, tls_settings: Any
) -> None:
    with (
        Simulator(output=io.StringIO(), certfile=certificates.server) as good,
        Simulator(output=io.StringIO(), certfile=certificates.localhost) as wrong_name,
    ):
        tls_settings.SINGLECONNECT_HOSTNAME = f"{good.hostname} {wrong_name.hostname}"
        code, report = run_json()
    assert code == 2
    assert steps(report, 1)["tls"]["detail"].endswith(
        "mismatch, certificate is not valid for '127.0.0.1'."
    )


# -- as a readiness probe runs it: a process and its exit status ------------------------------


def manage(*args: str, **variables: str) -> subprocess.CompletedProcess[str]:
    """``manage.py`` of the example project, whose settings come from ``variables``."""
    return subprocess.run(
        [sys.executable, MANAGE, *args],
        env=environment(**variables),
        cwd=ROOT,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=60,
    )


def test_the_exit_status_of_the_process(server: Simulator, tmp_path: Path) -> None:
    database = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    assert manage("migrate", "--no-input", DATABASE_URL=database).returncode == 0
    down = f"127.0.0.1:{free_port()}"
    for hostname, expected in ((server.hostname, 0), (down, 1)):
        result = manage(
            "singleconnect_check", SINGLECONNECT_HOSTNAME=hostname, DATABASE_URL=database
        )
        assert result.returncode == expected, result.stdout + result.stderr
        assert result.stdout.splitlines()[-1].endswith(f"(exit status {expected})")
    assert server.calls == []


def test_an_unreadable_database_exits_1(tmp_path: Path) -> None:
    result = manage(
        "singleconnect_check", "--json", DATABASE_URL=f"sqlite:///{tmp_path / 'empty.sqlite3'}"
    )
    assert result.returncode == 1, result.stderr
    report = json.loads(result.stdout)
    assert report["status"] == "misconfigured"
    (problem,) = report["problems"]
    assert problem.startswith("the admin's values could not be read from the database")


def test_a_node_that_hangs_up_without_an_answer(settings: Any) -> None:
    with CannedServer(b"") as hanging_up:
        point_at(settings, hanging_up.hostname)
        code, report = run_json()
    assert code == 1
    assert steps(report)["http"]["detail"] == (
        f"GET {BASE}: the connection was closed without an answer"
    )


def test_a_node_that_never_answers_times_out(settings: Any) -> None:
    with CannedServer(b"HTTP/1.1 404 Not Found\r\n\r\n", wait=5) as silent:
        point_at(settings, silent.hostname)
        settings.SINGLECONNECT_TIMEOUT = (0.2, 0.2)
        code, report = run_json()
    assert code == 1
    assert steps(report)["http"]["detail"] == f"GET {BASE}: timed out"


def test_a_resolver_that_does_not_answer_in_time(
    settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    stuck = threading.Event()

    def getaddrinfo(*args: Any, **kwargs: Any) -> Any:
        stuck.wait(5)
        raise socket.gaierror("never")

    monkeypatch.setattr(check_module.socket, "getaddrinfo", getaddrinfo)
    point_at(settings, "sc.example.com")
    settings.SINGLECONNECT_TIMEOUT = (0.2, 0.2)
    try:
        code, report = run_json()
    finally:
        stuck.set()
    assert code == 1
    assert steps(report)["dns"]["detail"] == "sc.example.com: timed out (no answer within 0.2 s)"


def test_the_headers_and_cookies_of_every_call_go_along_unprinted(
    server: Simulator, settings: Any, headers_seen: list[Any], requests_seen: list[str]
) -> None:
    point_at(settings, server.hostname)
    settings.SINGLECONNECT_EXTRA_HEADERS = {"X-Gateway-Key": "k3y"}
    settings.SINGLECONNECT_COOKIES = {"JSESSIONID": "c00kie"}
    code, output = run()
    assert code == 0
    (headers,) = headers_seen
    assert headers["X-Gateway-Key"] == "k3y"
    assert headers["Cookie"] == "JSESSIONID=c00kie"
    assert headers["User-Agent"].endswith(" (check)")
    assert "k3y" not in output
    assert "c00kie" not in output
    assert "c00kie" not in run("--json")[1]


def test_where_a_node_s_host_and_port_are_found() -> None:
    assert check_module._split("[::1]:8443", "https") == ("::1", 8443)
    assert check_module._split("[::1]", "https") == ("::1", 443)
    assert check_module._split("sc.example.com", "http") == ("sc.example.com", 80)
    assert check_module._split("10.1.2.3:8080", "http") == ("10.1.2.3", 8080)


def test_the_words_of_a_socket_failure() -> None:
    assert reason(TimeoutError("timed out")) == "timed out"
    assert reason(ConnectionRefusedError(111, "Connection refused")) == "connection refused"
    assert reason(OSError(101, "Network is unreachable")) == "Network is unreachable"
    assert reason(ValueError()) == "ValueError"


def test_the_tls_probe_trusts_the_configured_bundle_alone(tmp_path: Any, settings: Any) -> None:
    # As the client does: not the system's store beside it, which would pass a certificate
    # the client refuses.
    import certifi

    from django_singleconnect.conf import Settings
    from django_singleconnect.operations.tls import tls_context

    bundle = Path(certifi.where()).read_text(encoding="ascii")
    end = "-----END CERTIFICATE-----"
    first = bundle[bundle.index("-----BEGIN CERTIFICATE-----") : bundle.index(end) + len(end)]
    (tmp_path / "ca.pem").write_text(first + "\n", encoding="ascii")
    settings.SINGLECONNECT_VERIFY = str(tmp_path / "ca.pem")
    assert len(tls_context(Settings()).get_ca_certs()) == 1
