from __future__ import annotations

import gc
import io
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
import trustme
from django.core.cache import cache
from django.core.management import call_command
from django.core.management.base import OutputWrapper

from django_singleconnect.client import SingleConnectClient
from django_singleconnect.conf import CACHE_KEY, Settings, get_config
from django_singleconnect.exceptions import (
    SingleConnectError,
    SingleConnectTimeout,
    SingleConnectTLSError,
    SingleConnectUnexpectedResponse,
    SingleConnectUnreachable,
)
from django_singleconnect.management.commands.singleconnect_simulator import (
    Command as SimulatorCommand,
)
from django_singleconnect.simulator import FAULT_MODES, Call, Simulator

ROOT = Path(__file__).resolve().parent.parent
BASE_PATH = "/twofactorauth-ui/rest/tfa"
CODE_LINE = re.compile(r"code for (?P<name>\S+): (?P<code>\d{6})\n")


@pytest.fixture
def server() -> Iterator[Simulator]:
    """A simulator of its own (bob has no OTP); the settings still point at sc.example.com."""
    with Simulator(output=io.StringIO(), inactive=["bob"]) as running:
        yield running


@pytest.fixture
def raw() -> Iterator[requests.Session]:
    """Plain HTTP, to see the simulator's answers as they are."""
    with requests.Session() as session:
        session.trust_env = False
        yield session


def client_for(server: Simulator, **overrides: Any) -> SingleConnectClient:
    values: dict[str, Any] = {
        "hostname": server.hostname,
        "scheme": server.scheme,
        "base_path": server.base_path,
        "application_name": "tests",
        **overrides,
    }
    return SingleConnectClient(**values)


def api(server: Simulator, endpoint: str) -> str:
    return f"{server.url}{server.base_path}/{endpoint}"


def printed(server: Simulator) -> str:
    assert isinstance(server.output, io.StringIO)
    return server.output.getvalue()


# -- otpstatus -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_otp_status_issues_and_prints_a_fresh_code(server: Simulator) -> None:
    client = client_for(server)
    assert client.otp_status("alice", "192.0.2.1") is True
    first = server.current_code("alice")
    assert first is not None
    assert re.fullmatch(r"\d{6}", first)
    assert printed(server) == f"code for alice: {first}\n"

    assert client.otp_status("alice", "192.0.2.1") is True
    second = server.current_code("alice")
    assert printed(server) == f"code for alice: {first}\ncode for alice: {second}\n"
    if second != first:  # one chance in a million that they are the same
        assert client.otp_valid("alice", first) is False
    assert client.otp_valid("alice", second) is True


@pytest.mark.django_db
def test_codes_are_per_user(server: Simulator) -> None:
    client = client_for(server)
    client.otp_status("alice", "192.0.2.1")
    client.otp_status("carol", "192.0.2.1")
    alice, carol = server.current_code("alice"), server.current_code("carol")
    assert alice is not None
    assert carol is not None
    if alice != carol:
        assert client.otp_valid("carol", alice) is False
    assert client.otp_valid("alice", alice) is True
    assert client.otp_valid("carol", carol) is True


@pytest.mark.django_db
def test_inactive_user(server: Simulator) -> None:
    client = client_for(server)
    assert client.otp_status("bob", "192.0.2.1") is False
    assert server.current_code("bob") is None
    assert printed(server) == ""
    assert client.otp_valid("bob", "123456") is False


def test_codes_go_to_a_management_command_output_one_line_each() -> None:
    buffer = io.StringIO()
    with Simulator(output=OutputWrapper(buffer)) as running:
        running.otp_status("alice")
        running.otp_status("carol")
    # No blank line after each code: print() would have written the newline separately.
    assert [match["name"] for match in CODE_LINE.finditer(buffer.getvalue())] == ["alice", "carol"]
    assert len(buffer.getvalue().splitlines()) == 2


def test_no_output() -> None:
    with Simulator(output=None) as running:
        assert running.otp_status("alice") is True
        assert running.current_code("alice") is not None


# -- otpvalid ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_code_is_valid_once(server: Simulator) -> None:
    client = client_for(server)
    client.otp_status("alice", "192.0.2.1")
    code = server.current_code("alice")
    assert code is not None
    wrong = "000000" if code != "000000" else "111111"
    assert client.otp_valid("alice", wrong) is False
    assert client.otp_valid("alice", code) is True  # a wrong code does not use it up
    assert client.otp_valid("alice", code) is False
    assert server.current_code("alice") is None


@pytest.mark.django_db
def test_codes_expire() -> None:
    with Simulator(output=io.StringIO(), code_ttl=0.05) as running:
        client = client_for(running)
        client.otp_status("alice", "192.0.2.1")
        code = running.current_code("alice")
        assert code is not None
        time.sleep(0.1)
        assert running.current_code("alice") is None
        assert client.otp_valid("alice", code) is False


def test_a_wrong_code_is_a_tomcat_403(server: Simulator, raw: requests.Session) -> None:
    response = raw.post(
        api(server, "otpvalid"),
        data={"username": "alice", "token": "123456", "applicationname": "tests"},
    )
    assert response.status_code == 403
    assert response.headers["Content-Type"] == "text/html;charset=UTF-8"
    assert "HTTP Status 403" in response.text
    assert response.headers["Server"] == "Apache-Coyote/1.1"


def test_a_right_code_is_an_empty_200(server: Simulator, raw: requests.Session) -> None:
    server.otp_status("alice")
    response = raw.post(
        api(server, "otpvalid"),
        data={
            "username": "alice",
            "token": server.current_code("alice"),
            "applicationname": "tests",
        },
    )
    assert response.status_code == 200
    assert response.content == b""


def test_a_non_ascii_token_is_just_wrong(server: Simulator, raw: requests.Session) -> None:
    server.otp_status("alice")
    response = raw.post(
        api(server, "otpvalid"),
        data={
            "username": "alice",
            "token": "\uff11\uff12\uff13\uff14\uff15\uff16",
            "applicationname": "tests",
        },
    )
    assert response.status_code == 403
    assert server.otp_valid("alice", "ş") is False


@pytest.mark.django_db
def test_a_non_ascii_username(server: Simulator, raw: requests.Session) -> None:
    client = client_for(server)
    assert client.otp_status("ayşe", "192.0.2.1") is True
    code = server.current_code("ayşe")
    assert f"code for ayşe: {code}\n" == printed(server)
    response = raw.get(f"{server.url}/_simulator/otp", params={"username": "ayşe"})
    assert response.text == code
    assert client.otp_valid("ayşe", response.text) is True


@pytest.mark.parametrize(
    ("endpoint", "data"),
    [
        ("otpstatus", {"username": "alice", "applicationname": "tests"}),
        ("otpstatus", {"username": "alice", "enduserip": "192.0.2.1"}),
        ("otpstatus", {"enduserip": "192.0.2.1", "applicationname": "tests"}),
        ("otpstatus", {"username": "alice", "enduserip": "", "applicationname": "tests"}),
        ("otpvalid", {"username": "alice", "applicationname": "tests"}),
        ("otpvalid", {"username": "alice", "token": "123456"}),
        ("otpvalid", {"token": "123456", "applicationname": "tests"}),
        ("otpvalid", {}),
    ],
)
def test_a_missing_field_is_a_400(
    server: Simulator, raw: requests.Session, endpoint: str, data: dict[str, str]
) -> None:
    response = raw.post(api(server, endpoint), data=data)
    assert response.status_code == 400
    assert response.text == "missing field"
    assert server.calls == [Call(endpoint, data.get("username", ""), 400)]
    assert server.current_code("alice") is None


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/other/path/otpstatus"),
        ("POST", f"{BASE_PATH}/otpother"),
        ("POST", f"{BASE_PATH}/extra/otpstatus"),
        ("GET", f"{BASE_PATH}/otpstatus"),
        ("GET", "/"),
    ],
)
def test_unknown_routes(server: Simulator, raw: requests.Session, method: str, path: str) -> None:
    response = raw.request(
        method, f"{server.url}{path}", data={"username": "a"} if method == "POST" else None
    )
    assert response.status_code == 404
    assert server.calls == []


def test_a_bad_content_length_is_a_400(server: Simulator) -> None:
    with socket.create_connection(("127.0.0.1", server.port), timeout=2) as sock:
        request = f"POST {BASE_PATH}/otpstatus HTTP/1.1\r\nHost: x\r\nContent-Length: nope\r\n\r\n"
        sock.sendall(request.encode())
        answer = sock.recv(4096)
    assert answer.startswith(b"HTTP/1.1 400 ")
    assert server.calls == []


# -- the test hooks ------------------------------------------------------------------------


def test_the_otp_hook(server: Simulator, raw: requests.Session) -> None:
    hook = f"{server.url}/_simulator/otp"
    assert raw.get(hook, params={"username": "alice"}).status_code == 404
    assert raw.get(hook).status_code == 404
    server.otp_status("alice")
    response = raw.get(hook, params={"username": "alice"})
    assert response.status_code == 200
    assert response.text == server.current_code("alice")


@pytest.mark.django_db
def test_the_stats_hook(server: Simulator, raw: requests.Session) -> None:
    client = client_for(server)
    client.otp_status("alice", "192.0.2.1")
    client.otp_status("bob", "192.0.2.1")
    client.otp_valid("alice", "nope")
    response = raw.get(f"{server.url}/_simulator/stats")
    assert response.headers["Content-Type"] == "application/json;charset=UTF-8"
    # The client's pooled connection, and this one.
    assert json.loads(response.text) == {"otpstatus": 2, "otpvalid": 1, "connections": 2}
    assert server.stats() == {"otpstatus": 2, "otpvalid": 1, "connections": 2}
    assert server.call_count() == 3
    assert server.call_count("otpvalid") == 1
    assert server.calls == [
        Call("otpstatus", "alice", 200),
        Call("otpstatus", "bob", 200),
        Call("otpvalid", "alice", 403),
    ]


@pytest.mark.django_db
def test_the_fault_hook(server: Simulator, raw: requests.Session) -> None:
    hook = f"{server.url}/_simulator/fault"
    client = client_for(server)
    response = raw.post(hook, data={"mode": "error", "endpoint": "otpvalid"})
    assert response.status_code == 204
    assert server.fault is not None
    assert client.otp_status("alice", "192.0.2.1") is True  # the other endpoint is fine
    with pytest.raises(SingleConnectUnexpectedResponse) as caught:
        client.otp_valid("alice", "123456")
    assert caught.value.status_code == 500

    assert raw.post(hook, data={"mode": "none"}).status_code == 204
    assert server.fault is None
    assert client.otp_valid("alice", "123456") is False

    assert raw.post(hook, data={"mode": "latency", "seconds": "0.01"}).status_code == 204
    assert server.fault is not None
    assert server.fault.seconds == 0.01
    assert raw.post(hook, data={}).status_code == 204
    assert server.fault is None


@pytest.mark.parametrize(
    "data",
    [
        {"mode": "explode"},
        {"mode": "error", "endpoint": "otpother"},
        {"mode": "latency", "seconds": "soon"},
    ],
)
def test_the_fault_hook_refuses_nonsense(
    server: Simulator, raw: requests.Session, data: dict[str, str]
) -> None:
    response = raw.post(f"{server.url}/_simulator/fault", data=data)
    assert response.status_code == 400
    assert response.text
    assert server.fault is None


def test_set_fault_refuses_nonsense(server: Simulator) -> None:
    with pytest.raises(ValueError, match="explode"):
        server.set_fault("explode")
    with pytest.raises(ValueError, match="otpother"):
        server.set_fault("error", endpoint="otpother")
    server.set_fault("error", endpoint="otpstatus")
    server.set_fault(None)
    assert server.fault is None


# -- every fault, as the client sees it ----------------------------------------------------


@dataclass(frozen=True)
class Expected:
    error: type[SingleConnectError]
    status: int | None = None


FAULTS = {
    "latency": Expected(SingleConnectTimeout),
    "error": Expected(SingleConnectUnexpectedResponse, 500),
    "refuse": Expected(SingleConnectUnexpectedResponse, 400),
    "garbage": Expected(SingleConnectUnexpectedResponse, 200),
    "html": Expected(SingleConnectUnexpectedResponse, 200),
    "redirect": Expected(SingleConnectUnexpectedResponse, 302),
    "drop": Expected(SingleConnectUnreachable),
    "drip": Expected(SingleConnectTimeout),  # 0.2 s a byte, past the 0.05 s read timeout
    "endless": Expected(SingleConnectUnexpectedResponse, 200),
}


def test_every_fault_mode_is_tested() -> None:
    assert set(FAULTS) == set(FAULT_MODES)


@pytest.mark.django_db
@pytest.mark.parametrize("endpoint", ["otpstatus", "otpvalid"])
@pytest.mark.parametrize("mode", FAULTS)
def test_each_fault_gives_its_error(server: Simulator, mode: str, endpoint: str) -> None:
    server.otp_status("alice")
    code = server.current_code("alice")
    assert code is not None
    server.set_fault(mode, seconds=0.2)
    # A short read timeout only where the fault is slowness: the others answer at once,
    # which a loaded machine may take longer than 50 ms to deliver.
    slow = mode in ("latency", "drip")
    client = client_for(server, timeout=(1, 0.05 if slow else 2))
    expected = FAULTS[mode]
    # otpvalid gets the right code: only the fault may keep it from verifying.
    call = {
        "otpstatus": lambda: client.otp_status("alice", "192.0.2.1"),
        "otpvalid": lambda: client.otp_valid("alice", code),
    }[endpoint]
    with pytest.raises(SingleConnectError) as caught:
        call()
    assert type(caught.value) is expected.error
    if expected.status is not None:
        assert isinstance(caught.value, SingleConnectUnexpectedResponse)
        assert caught.value.status_code == expected.status
    if mode != "latency":
        assert server.calls[-1] == Call(endpoint, "alice", 0)


@pytest.mark.django_db
def test_a_short_latency_still_answers(server: Simulator) -> None:
    server.set_fault("latency", seconds=0.05)
    started = time.monotonic()
    assert client_for(server).otp_status("alice", "192.0.2.1") is True
    assert time.monotonic() - started >= 0.05


@pytest.mark.django_db
def test_a_fault_for_one_endpoint(server: Simulator) -> None:
    server.set_fault("garbage", endpoint="otpstatus")
    client = client_for(server)
    with pytest.raises(SingleConnectUnexpectedResponse):
        client.otp_status("alice", "192.0.2.1")
    assert client.otp_valid("alice", "123456") is False


def test_reset(server: Simulator) -> None:
    server.otp_status("alice")
    server.record("otpstatus", "alice", 200)
    server.set_fault("drop")
    server.reset()
    assert server.current_code("alice") is None
    assert server.calls == []
    assert server.fault is None


# -- where it listens, and its lifecycle ---------------------------------------------------


def test_addresses() -> None:
    with Simulator(output=None, base_path="custom/tfa/") as running:
        assert running.port > 0
        assert running.hostname == f"127.0.0.1:{running.port}"
        assert running.scheme == "http"
        assert running.url == f"http://127.0.0.1:{running.port}"
        assert running.base_path == "/custom/tfa"
        assert running.django_settings() == {
            "SINGLECONNECT_HOSTNAME": running.hostname,
            "SINGLECONNECT_SCHEME": "http",
            "SINGLECONNECT_BASE_PATH": "/custom/tfa",
        }


@pytest.mark.django_db
def test_a_custom_base_path() -> None:
    with Simulator(output=None, base_path="/custom/tfa") as running:
        assert client_for(running).otp_status("alice", "192.0.2.1") is True
        with pytest.raises(SingleConnectUnexpectedResponse) as caught:
            client_for(running, base_path="/twofactorauth-ui/rest/tfa").otp_status(
                "alice", "192.0.2.1"
            )
        assert caught.value.status_code == 404


def test_stop_closes_the_port() -> None:
    running = Simulator(output=None).start()
    port = running.port
    socket.create_connection(("127.0.0.1", port), timeout=1).close()
    started = time.monotonic()
    running.stop()
    assert time.monotonic() - started < 0.5
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    running.stop()  # twice is harmless


def test_stop_without_start_does_not_hang() -> None:
    unstarted = Simulator(output=None)
    finished = threading.Event()

    def stop() -> None:
        unstarted.stop()
        finished.set()

    threading.Thread(target=stop, daemon=True).start()
    assert finished.wait(2)
    unstarted.serve_forever()  # returns at once: it was stopped


def test_stop_ends_serve_forever_in_another_thread() -> None:
    foreground = Simulator(output=None)
    thread = threading.Thread(target=foreground.serve_forever)
    thread.start()
    foreground.stop()
    thread.join(2)
    assert not thread.is_alive()


@pytest.mark.django_db
def test_stop_while_a_connection_is_open(server: Simulator) -> None:
    client_for(server).otp_status("alice", "192.0.2.1")  # leaves a kept-alive connection
    started = time.monotonic()
    server.stop()
    assert time.monotonic() - started < 1


def test_stop_copes_with_a_connection_already_gone(server: Simulator) -> None:
    gone = socket.socket()
    gone.close()
    server._server._open.add(gone)
    server.stop()  # no OSError


def test_client_errors_are_quiet(server: Simulator, capsys: pytest.CaptureFixture[str]) -> None:
    try:
        raise BrokenPipeError
    except BrokenPipeError:
        server._server.handle_error(None, ("127.0.0.1", 1))
    assert capsys.readouterr().err == ""
    try:
        raise ValueError("a real bug")
    except ValueError:
        server._server.handle_error(None, ("127.0.0.1", 1))
    assert "a real bug" in capsys.readouterr().err


# -- connection reuse ----------------------------------------------------------------------


@pytest.mark.django_db
def test_twenty_calls_one_connection(server: Simulator) -> None:
    for index in range(10):
        client = client_for(server)
        assert client.otp_status(f"user{index}", "192.0.2.1") is True
        code = server.current_code(f"user{index}")
        assert code is not None
        # Right and wrong codes: a 403 must keep the connection too.
        assert client.otp_valid(f"user{index}", code if index % 2 else "x") is bool(index % 2)
    assert server.call_count() == 20
    assert server.connections == 1


# -- HTTPS ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Certificates:
    ca: str
    server: str
    localhost_only: str
    client: str
    other_ca: str


@pytest.fixture(scope="module")
def certificates(tmp_path_factory: pytest.TempPathFactory) -> Certificates:
    folder = tmp_path_factory.mktemp("tls")
    ca = trustme.CA()
    other_ca = trustme.CA()
    paths = {
        "ca": folder / "ca.pem",
        "server": folder / "server.pem",
        "localhost_only": folder / "localhost.pem",
        "client": folder / "client.pem",
        "other_ca": folder / "other-ca.pem",
    }
    ca.cert_pem.write_to_path(str(paths["ca"]))
    other_ca.cert_pem.write_to_path(str(paths["other_ca"]))
    ca.issue_cert("127.0.0.1").private_key_and_cert_chain_pem.write_to_path(str(paths["server"]))
    ca.issue_cert("localhost").private_key_and_cert_chain_pem.write_to_path(
        str(paths["localhost_only"])
    )
    ca.issue_cert("client.example.com").private_key_and_cert_chain_pem.write_to_path(
        str(paths["client"])
    )
    return Certificates(**{name: str(path) for name, path in paths.items()})


@pytest.fixture
def tls_simulator(certificates: Certificates) -> Iterator[Simulator]:
    with Simulator(output=io.StringIO(), certfile=certificates.server) as running:
        yield running


@pytest.mark.django_db
def test_https_with_the_ca_bundle(tls_simulator: Simulator, certificates: Certificates) -> None:
    assert tls_simulator.scheme == "https"
    assert tls_simulator.url.startswith("https://127.0.0.1:")
    client = client_for(tls_simulator, verify=certificates.ca)
    assert client.otp_status("alice", "192.0.2.1") is True
    code = tls_simulator.current_code("alice")
    assert code is not None
    assert client.otp_valid("alice", code) is True


@pytest.mark.django_db
def test_https_with_the_ca_setting(
    tls_simulator: Simulator, certificates: Certificates, settings: Any
) -> None:
    for name, value in tls_simulator.django_settings().items():
        setattr(settings, name, value)
    settings.SINGLECONNECT_VERIFY = certificates.ca
    assert SingleConnectClient().otp_status("alice", "192.0.2.1") is True


@pytest.mark.django_db
@pytest.mark.parametrize("verify", [True, "", "  ", None, "other_ca"])
def test_https_refuses_an_unknown_ca(
    tls_simulator: Simulator, certificates: Certificates, verify: Any
) -> None:
    if verify == "other_ca":
        verify = certificates.other_ca
    with pytest.raises(SingleConnectTLSError):
        client_for(tls_simulator, verify=verify).otp_status("alice", "192.0.2.1")
    assert tls_simulator.calls == []


@pytest.mark.django_db
def test_https_ignores_requests_ca_bundle(
    tls_simulator: Simulator, certificates: Certificates, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", certificates.ca)
    monkeypatch.setenv("CURL_CA_BUNDLE", certificates.ca)
    with pytest.raises(SingleConnectTLSError):
        client_for(tls_simulator).otp_status("alice", "192.0.2.1")


@pytest.mark.django_db
def test_https_checks_the_host_name(certificates: Certificates) -> None:
    with Simulator(output=None, certfile=certificates.localhost_only) as running:
        with pytest.raises(SingleConnectTLSError):
            client_for(running, verify=certificates.ca).otp_status("alice", "192.0.2.1")
        assert running.calls == []


@pytest.mark.django_db
def test_https_one_connection(tls_simulator: Simulator, certificates: Certificates) -> None:
    client = client_for(tls_simulator, verify=certificates.ca)
    for _ in range(20):
        client.otp_status("alice", "192.0.2.1")
    assert tls_simulator.connections == 1


@pytest.mark.django_db
def test_https_drop_is_unreachable(tls_simulator: Simulator, certificates: Certificates) -> None:
    tls_simulator.set_fault("drop")
    with pytest.raises(SingleConnectUnreachable):
        client_for(tls_simulator, verify=certificates.ca).otp_status("alice", "192.0.2.1")


@pytest.mark.django_db
def test_client_certificates(certificates: Certificates) -> None:
    with Simulator(output=None, certfile=certificates.server, client_ca=certificates.ca) as running:
        good = client_for(running, verify=certificates.ca, client_cert=certificates.client)
        assert good.otp_status("alice", "192.0.2.1") is True
        without = client_for(running, verify=certificates.ca)
        with pytest.raises(SingleConnectError):
            without.otp_status("carol", "192.0.2.1")
        assert running.call_count() == 1


def test_a_bad_certificate_file_frees_the_port(tmp_path: Path) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(FileNotFoundError):
            Simulator(output=None, certfile=str(tmp_path / "missing.pem"))
        gc.collect()
    assert not [warning for warning in caught if warning.category is ResourceWarning]


# -- the management command ----------------------------------------------------------------


@pytest.mark.django_db
def test_the_command_in_a_thread() -> None:
    command = SimulatorCommand()
    out = io.StringIO()
    thread = threading.Thread(
        target=call_command,
        args=(command,),
        kwargs={"port": 0, "inactive": "bob, carol,", "code_ttl": 30, "stdout": out},
        daemon=True,
    )
    thread.start()
    deadline = time.monotonic() + 5
    while not hasattr(command, "simulator") and time.monotonic() < deadline:
        time.sleep(0.01)
    running: Simulator = command.simulator
    try:
        banner = out.getvalue()
        assert f"Single Connect simulator on {running.url}" in banner
        assert f"SINGLECONNECT_HOSTNAME={running.hostname}" in banner
        assert "SINGLECONNECT_SCHEME=http" in banner
        assert running.inactive == {"bob", "carol"}
        assert running.code_ttl == 30
        client = client_for(running)
        assert client.otp_status("alice", "192.0.2.1") is True
        assert client.otp_status("bob", "192.0.2.1") is False
        match = CODE_LINE.search(out.getvalue())
        assert match is not None
        assert match["name"] == "alice"
        assert client.otp_valid("alice", match["code"]) is True
    finally:
        running.stop()
        thread.join(5)
    assert not thread.is_alive()


def test_the_command_with_https(certificates: Certificates) -> None:
    command = SimulatorCommand()
    out = io.StringIO()
    thread = threading.Thread(
        target=call_command,
        args=(command,),
        kwargs={"port": 0, "certfile": certificates.server, "stdout": out},
        daemon=True,
    )
    thread.start()
    deadline = time.monotonic() + 5
    while not hasattr(command, "simulator") and time.monotonic() < deadline:
        time.sleep(0.01)
    command.simulator.stop()
    thread.join(5)
    assert "SINGLECONNECT_SCHEME=https" in out.getvalue()
    assert command.simulator.tls


def test_the_command_stops_on_control_c(monkeypatch: pytest.MonkeyPatch) -> None:
    started: list[Simulator] = []

    def interrupted(self: Simulator) -> None:
        started.append(self)
        raise KeyboardInterrupt

    monkeypatch.setattr(Simulator, "serve_forever", interrupted)
    call_command("singleconnect_simulator", port=0, stdout=io.StringIO())
    (running,) = started
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", running.port), timeout=1).close()


def test_the_command_needs_no_singleconnect_settings(tmp_path: Path) -> None:
    """Run as an operator would, with settings that have no SINGLECONNECT_* at all."""
    (tmp_path / "bare_settings.py").write_text(
        "from tests.settings import *  # noqa: F403\n"
        "del SINGLECONNECT_HOSTNAME, SINGLECONNECT_APPLICATION_NAME  # noqa: F821\n"
    )
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("SINGLECONNECT_", "PYTHON"))
    }
    env["PYTHONPATH"] = os.pathsep.join([str(tmp_path), str(ROOT)])
    env["DJANGO_SETTINGS_MODULE"] = "bare_settings"

    # The settings really are incomplete: the system checks refuse them.
    check = subprocess.run(
        [sys.executable, "-m", "django", "check"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert check.returncode != 0
    assert "django_singleconnect.E001" in check.stderr

    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "django",
            "singleconnect_simulator",
            "--port",
            "0",
            "--inactive",
            "bob",
        ],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        encoding="utf-8",
    )
    # A pipe is block-buffered: without a flush the banner would never come.
    watchdog = threading.Timer(20, process.kill)
    watchdog.start()
    try:
        assert process.stdout is not None
        banner = process.stdout.readline()
        match = re.search(r"SINGLECONNECT_HOSTNAME=(\S+),", banner)
        assert match is not None, banner
        assert process.stdout.readline() == "Quit with CONTROL-C.\n"
        # Settings(): these values alone, without the admin's (no database in this test).
        client = SingleConnectClient(
            Settings(), hostname=match[1], scheme="http", application_name="tests"
        )
        assert client.otp_status("alice", "192.0.2.1") is True
        line = process.stdout.readline()
        code = CODE_LINE.fullmatch(line)
        assert code is not None, line
        assert client.otp_valid("alice", code["code"]) is True
        assert client.otp_status("bob", "192.0.2.1") is False
        process.send_signal(signal.SIGINT)
        assert process.wait(10) == 0
        assert process.stderr is not None
        assert process.stderr.read() == ""
    finally:
        watchdog.cancel()
        if process.poll() is None:
            process.kill()
            process.wait()
        for stream in (process.stdout, process.stderr):
            if stream is not None:
                stream.close()


def test_the_command_runs_without_system_checks() -> None:
    assert SimulatorCommand.requires_system_checks == []


# -- the pytest fixture --------------------------------------------------------------------


@pytest.mark.django_db
def test_the_fixture(singleconnect_simulator: Simulator, settings: Any) -> None:
    assert singleconnect_simulator.hostname == settings.SINGLECONNECT_HOSTNAME
    assert settings.SINGLECONNECT_SCHEME == "http"
    assert singleconnect_simulator.base_path == settings.SINGLECONNECT_BASE_PATH
    assert settings.SINGLECONNECT_APPLICATION_NAME == "tests"  # kept when set
    client = SingleConnectClient()
    assert client.otp_status("alice", "192.0.2.1") is True
    code = singleconnect_simulator.current_code("alice")
    assert f"code for alice: {code}" in printed(singleconnect_simulator)
    assert client.otp_valid("alice", code or "") is True


@pytest.mark.django_db
def test_the_fixture_names_an_application_when_none_is_set(
    settings: Any, request: pytest.FixtureRequest
) -> None:
    del settings.SINGLECONNECT_APPLICATION_NAME
    # Values the admin saved before, still cached: the fixture must not be shadowed by them.
    cache.set(CACHE_KEY, {"HOSTNAME": "stale.example.com"})
    running: Simulator = request.getfixturevalue("singleconnect_simulator")
    assert settings.SINGLECONNECT_APPLICATION_NAME == "simulated-app"
    assert running.hostname == get_config().HOSTNAME
    assert SingleConnectClient().otp_status("alice", "192.0.2.1") is True
