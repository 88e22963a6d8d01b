"""
TLS faults against the simulator in HTTPS mode, with certificates made by trustme.

tests/test_simulator.py already shows an unknown CA and a host name mismatch refused, the CA
bundle given to the client and a client certificate presented; this file adds the expired and
not-yet-valid certificates, the log line and both endpoints for every failure, and the
settings (``SINGLECONNECT_VERIFY``, ``SINGLECONNECT_CLIENT_CERT``) on the code page.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import logging
import socket
import ssl
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import trustme
from django.test import Client

from django_singleconnect.client import SingleConnectClient
from django_singleconnect.conf import forget_overrides
from django_singleconnect.exceptions import SingleConnectTimeout, SingleConnectTLSError
from django_singleconnect.models import VerificationEvent
from django_singleconnect.simulator import Simulator
from django_singleconnect.transport.deadline import Call

pytestmark = pytest.mark.django_db

VERIFY = "/2fa/verify/"


class Connection:
    """Stands in for a urllib3 connection: the watchdog only touches ``sock``."""

    def __init__(self, sock: Any) -> None:
        self.sock = sock


@dataclass(frozen=True)
class Certificates:
    ca: str
    other_ca: str
    server: str
    other_host: str
    expired: str
    not_yet_valid: str
    client: str
    client_key: str


@pytest.fixture(scope="module")
def certificates(tmp_path_factory: pytest.TempPathFactory) -> Certificates:
    folder = tmp_path_factory.mktemp("tls")
    ca = trustme.CA()
    now = dt.datetime.now(dt.timezone.utc)
    day = dt.timedelta(days=1)
    paths = {name: str(folder / f"{name}.pem") for name in Certificates.__dataclass_fields__}
    ca.cert_pem.write_to_path(paths["ca"])
    trustme.CA().cert_pem.write_to_path(paths["other_ca"])
    servers = {
        "server": ca.issue_cert("127.0.0.1"),
        "other_host": ca.issue_cert("other.example"),
        "expired": ca.issue_cert("127.0.0.1", not_before=now - 2 * day, not_after=now - day),
        "not_yet_valid": ca.issue_cert("127.0.0.1", not_before=now + day, not_after=now + 2 * day),
    }
    for name, leaf in servers.items():
        leaf.private_key_and_cert_chain_pem.write_to_path(paths[name])
    # The client's certificate and key in two files, as the (certificate, key) pair setting.
    client = ca.issue_cert("client.example.com")
    client.cert_chain_pems[0].write_to_path(paths["client"])
    client.private_key_pem.write_to_path(paths["client_key"])
    return Certificates(**paths)


def warnings_of(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        record.getMessage()
        for record in caplog.records
        if record.name == "django_singleconnect" and record.levelno == logging.WARNING
    ]


# -- every failure fails closed, and says so in the log ---------------------------------------

# case: (the server's certificate, the client's CA bundle, whether the server asks for a
# client certificate)
CASES = {
    "unknown CA": ("server", "other_ca", False),
    "wrong host name": ("other_host", "ca", False),
    "expired": ("expired", "ca", False),
    "not yet valid": ("not_yet_valid", "ca", False),
    "no client certificate": ("server", "ca", True),
}
# What the log line says of each, in the ssl module's own words, for the operator. Under
# TLS 1.3 the server's refusal of a missing client certificate arrives after the handshake,
# sometimes as a bare end of stream with no reason to quote.
REASONS: dict[str, str | None] = {
    "unknown CA": "unable to get local issuer certificate",
    "wrong host name": "certificate is not valid for '127.0.0.1'",
    "expired": "certificate has expired",
    "not yet valid": "certificate is not yet valid",
    "no client certificate": None,
}


@pytest.mark.parametrize("endpoint", ["otpstatus", "otpvalid"])
@pytest.mark.parametrize("case", CASES)
def test_tls_failures_fail_closed(
    certificates: Certificates, caplog: pytest.LogCaptureFixture, case: str, endpoint: str
) -> None:
    server_cert, bundle, asks_for_client_cert = CASES[case]
    with Simulator(
        output=None,
        certfile=getattr(certificates, server_cert),
        client_ca=certificates.ca if asks_for_client_cert else None,
    ) as server:
        # The right code for otpvalid: only TLS may keep it from verifying.
        server.otp_status("alice")
        code = server.current_code("alice")
        assert code is not None
        client = SingleConnectClient(
            hostname=server.hostname, scheme="https", verify=getattr(certificates, bundle)
        )
        call = {
            "otpstatus": lambda: client.otp_status("alice", "192.0.2.1"),
            "otpvalid": lambda: client.otp_valid("alice", code),
        }[endpoint]
        with pytest.raises(SingleConnectTLSError):
            call()
        assert server.calls == []
        assert server.current_code("alice") == code  # not used up
    (message,) = warnings_of(caplog)
    assert f"Single Connect {endpoint} for 'alice': tls (SSLError" in message
    reason = REASONS[case]
    assert reason is None or reason in message


# -- the settings, on the code page -----------------------------------------------------------


@pytest.fixture
def https_simulator(
    certificates: Certificates, settings: Any, request: pytest.FixtureRequest
) -> Iterator[Simulator]:
    """The simulator over mutual TLS, the settings pointing at it with the CA bundle."""
    server_cert = getattr(request, "param", "server")
    with Simulator(
        output=io.StringIO(),
        certfile=getattr(certificates, server_cert),
        client_ca=certificates.ca,
    ) as server:
        for name, value in server.django_settings().items():
            setattr(settings, name, value)
        settings.SINGLECONNECT_VERIFY = certificates.ca
        settings.SINGLECONNECT_CLIENT_CERT = (certificates.client, certificates.client_key)
        forget_overrides()
        yield server


def test_the_code_page_over_mutual_tls(
    client: Client, user: Any, login: Callable[..., Any], https_simulator: Simulator
) -> None:
    assert https_simulator.scheme == "https"
    login(client)
    assert client.get(VERIFY).status_code == 200
    code = https_simulator.current_code("alice")
    assert code
    response = client.post(VERIFY, {"token": code, "next": "/mixin/"})
    assert response.status_code == 302
    assert response["Location"] == "/mixin/"
    assert client.get("/mixin/").status_code == 200
    assert https_simulator.call_count() == 2
    assert https_simulator.connections == 1


@pytest.mark.parametrize(
    ("https_simulator", "setting", "value"),
    [
        ("server", "SINGLECONNECT_CLIENT_CERT", None),
        ("server", "SINGLECONNECT_VERIFY", True),  # certifi's CAs: trustme's is not one
        ("expired", None, None),
        ("other_host", None, None),
    ],
    indirect=["https_simulator"],
    ids=["no client certificate", "default CAs", "expired", "wrong host name"],
)
def test_a_tls_failure_on_the_code_page_is_a_503(
    client: Client,
    user: Any,
    login: Callable[..., Any],
    https_simulator: Simulator,
    settings: Any,
    caplog: pytest.LogCaptureFixture,
    setting: str | None,
    value: Any,
) -> None:
    if setting is not None:
        setattr(settings, setting, value)
    login(client)
    response = client.get(VERIFY, {"next": "/mixin/"})
    assert response.status_code == 503
    assert "Sign-in codes are unavailable" in response.content.decode()
    assert https_simulator.calls == []
    assert VerificationEvent.objects.get().detail == "tls"
    assert any("otpstatus for 'alice': tls" in message for message in warnings_of(caplog))
    assert client.get("/mixin/")["Location"] == "/2fa/verify/?next=%2Fmixin%2F"


# -- the deadline over TLS ----------------------------------------------------------------------


def test_a_dripped_answer_over_tls_is_cut_at_the_deadline(
    https_simulator: Simulator, certificates: Certificates
) -> None:
    client = SingleConnectClient(timeout=(0.2, 0.2))
    https_simulator.set_fault("drip", seconds=0.05)
    started = time.monotonic()
    with pytest.raises(SingleConnectTimeout):
        client.otp_status("alice", "192.0.2.1")
    assert time.monotonic() - started < 1.5
    https_simulator.set_fault(None)
    assert client.otp_status("alice", "192.0.2.1") is True
    assert https_simulator.connections == 2


def test_the_watchdog_leaves_the_tls_state_to_the_reader(
    https_simulator: Simulator, certificates: Certificates
) -> None:
    # SSLSocket.shutdown() would drop the TLS state under the reading thread's feet: a read
    # starting then fails with a ValueError, which no caller expects, instead of an end of file
    # or a connection error (which Python gives depends on its version; requests maps both).
    context = ssl.create_default_context(cafile=certificates.ca)
    context.load_cert_chain(certificates.client, certificates.client_key)
    raw = socket.create_connection(("127.0.0.1", https_simulator.port))
    with context.wrap_socket(raw, server_hostname="127.0.0.1") as sock:
        call = Call(time.monotonic())
        call.watch(Connection(sock))
        call.expire()
        # Python 3.13 says "reset by peer": not a ValueError either, the TLS state is intact.
        with contextlib.suppress(ConnectionError):
            assert sock.read(1) == b""
