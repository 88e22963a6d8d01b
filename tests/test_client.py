from __future__ import annotations

import logging
import re
import socket
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qsl

import pytest
import requests
import responses
from django.test import override_settings

from django_singleconnect import __version__
from django_singleconnect import client as client_module
from django_singleconnect import simulator as simulator_module
from django_singleconnect.client import MAX_RESPONSE_BYTES, SingleConnectClient, close_sessions
from django_singleconnect.conf import Settings
from django_singleconnect.exceptions import (
    SingleConnectError,
    SingleConnectTimeout,
    SingleConnectTLSError,
    SingleConnectUnexpectedResponse,
    SingleConnectUnreachable,
)
from django_singleconnect.logs import FIELDS
from django_singleconnect.simulator import Simulator
from django_singleconnect.transport.sessions import _sessions
from tests.helpers import TOKEN, DripServer, ask, client_for

# The client reads the admin's values (the database, or the cache once warm). Its calls to
# sc.example.com are answered by responses, in place of the network, so the plugin's guard
# against hosts outside loopback is lifted here.
pytestmark = [pytest.mark.django_db, pytest.mark.singleconnect_any_host]

BASE = "https://sc.example.com/twofactorauth-ui/rest/tfa"
STATUS_URL = f"{BASE}/otpstatus"
VALID_URL = f"{BASE}/otpvalid"

COOKIE_VALUE = "cookie-secret-value"
HEADER_VALUE = "header-secret-value"


@pytest.fixture
def mocked() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


def form(call: Any) -> dict[str, str]:
    return dict(parse_qsl(call.request.body, keep_blank_values=True))


# -- otpstatus -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("true", True),
        ("false", False),
        (" TRUE\n", True),
        ("False\r\n", False),
        (b"\ttrue ", True),
    ],
)
def test_otp_status_answers(mocked: responses.RequestsMock, body: Any, expected: bool) -> None:
    mocked.post(STATUS_URL, body=body)
    assert SingleConnectClient().otp_status("alice", "192.0.2.1") is expected


@pytest.mark.parametrize(
    "body",
    ["", "yes", "1", "true false", "truee", '"true"', '{"otpstatus": true}', "<html>true</html>"],
)
def test_otp_status_any_other_body_is_an_error(mocked: responses.RequestsMock, body: str) -> None:
    mocked.post(STATUS_URL, body=body)
    with pytest.raises(SingleConnectUnexpectedResponse) as caught:
        SingleConnectClient().otp_status("alice", "192.0.2.1")
    assert caught.value.status_code == 200


@pytest.mark.parametrize("status", [201, 204, 301, 302, 400, 401, 403, 404, 500, 502, 503])
def test_otp_status_any_other_status_is_an_error(
    mocked: responses.RequestsMock, status: int
) -> None:
    # "true", which would be the right answer with a 200 (a 204 has no body at all).
    mocked.post(STATUS_URL, status=status, body="" if status == 204 else "true")
    with pytest.raises(SingleConnectUnexpectedResponse) as caught:
        SingleConnectClient().otp_status("alice", "192.0.2.1")
    assert caught.value.status_code == status
    assert caught.value.cause == "unexpected_response"
    assert len(mocked.calls) == 1  # no retry of an answer


def test_otp_status_html_login_page_is_an_error(mocked: responses.RequestsMock) -> None:
    mocked.post(STATUS_URL, body="<!doctype html><form>login</form>", content_type="text/html")
    with pytest.raises(SingleConnectUnexpectedResponse):
        SingleConnectClient().otp_status("alice", "192.0.2.1")


def test_otp_status_sends_exactly_the_api_fields(mocked: responses.RequestsMock) -> None:
    mocked.post(STATUS_URL, body="true")
    SingleConnectClient().otp_status("ayşe", "2001:db8::1")
    (call,) = mocked.calls
    assert call.request.method == "POST"
    assert call.request.url == STATUS_URL
    assert call.request.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert form(call) == {
        "username": "ayşe",
        "enduserip": "2001:db8::1",
        "applicationname": "tests",
    }


# -- otpvalid ------------------------------------------------------------------------------


@pytest.mark.parametrize("body", ["", "\n", "true", " TRUE "])
def test_otp_valid_200_is_valid(mocked: responses.RequestsMock, body: str) -> None:
    mocked.post(VALID_URL, status=200, body=body)
    assert SingleConnectClient().otp_valid("alice", TOKEN) is True


def test_otp_valid_403_is_a_wrong_code(mocked: responses.RequestsMock) -> None:
    mocked.post(
        VALID_URL, status=403, body="<html>HTTP Status 403</html>", content_type="text/html"
    )
    assert SingleConnectClient().otp_valid("alice", TOKEN) is False


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        ("<!doctype html><html><form>login</form></html>", "text/plain"),
        ("  <html></html>", None),
        ("", "text/html"),
        ("", "text/html; charset=UTF-8"),
        ("", "application/xhtml+xml"),
        ("<ok/>", "application/xml"),
        # A 200 with a body that is no documented answer never verifies anybody.
        ("false", "text/plain"),
        ("\x00\xff garbage", "application/octet-stream"),
        ("OK", "text/plain"),
    ],
)
def test_otp_valid_200_with_another_body_is_an_error(
    mocked: responses.RequestsMock, body: str, content_type: str | None
) -> None:
    mocked.post(VALID_URL, status=200, body=body, content_type=content_type)
    with pytest.raises(SingleConnectUnexpectedResponse) as caught:
        SingleConnectClient().otp_valid("alice", TOKEN)
    assert caught.value.status_code == 200


@pytest.mark.parametrize("status", [201, 204, 302, 400, 401, 404, 500, 503])
def test_otp_valid_other_statuses_are_errors(mocked: responses.RequestsMock, status: int) -> None:
    mocked.post(VALID_URL, status=status, body="")
    with pytest.raises(SingleConnectUnexpectedResponse) as caught:
        SingleConnectClient().otp_valid("alice", TOKEN)
    assert caught.value.status_code == status
    assert len(mocked.calls) == 1


def test_otp_valid_sends_exactly_the_api_fields(mocked: responses.RequestsMock) -> None:
    mocked.post(VALID_URL, status=200)
    SingleConnectClient().otp_valid("alice", TOKEN)
    (call,) = mocked.calls
    assert call.request.url == VALID_URL
    assert call.request.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert form(call) == {"username": "alice", "token": TOKEN, "applicationname": "tests"}


@pytest.mark.parametrize(
    ("status", "location"), [(301, VALID_URL), (302, STATUS_URL), (307, VALID_URL)]
)
def test_redirects_are_not_followed(
    mocked: responses.RequestsMock, status: int, location: str
) -> None:
    mocked.post(VALID_URL, status=status, headers={"Location": location})
    mocked.post(STATUS_URL, body="true")
    with pytest.raises(SingleConnectUnexpectedResponse) as caught:
        SingleConnectClient().otp_valid("alice", TOKEN)
    assert caught.value.status_code == status
    assert len(mocked.calls) == 1


# -- transport failures --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raised", "expected"),
    [
        (requests.exceptions.ConnectTimeout(), SingleConnectTimeout),
        (requests.exceptions.ReadTimeout(), SingleConnectTimeout),
        (requests.exceptions.ConnectionError(), SingleConnectUnreachable),
        (requests.exceptions.ChunkedEncodingError(), SingleConnectUnreachable),
        (requests.exceptions.ProxyError(), SingleConnectUnreachable),
        (requests.exceptions.SSLError(), SingleConnectTLSError),
        (requests.exceptions.ContentDecodingError(), SingleConnectUnexpectedResponse),
        (requests.exceptions.InvalidHeader(), SingleConnectError),
        (requests.exceptions.TooManyRedirects(), SingleConnectError),
    ],
)
@pytest.mark.parametrize("endpoint", ["otpstatus", "otpvalid"])
def test_transport_errors(
    mocked: responses.RequestsMock, raised: Exception, expected: type, endpoint: str
) -> None:
    mocked.post(f"{BASE}/{endpoint}", body=raised)
    client = SingleConnectClient()
    with pytest.raises(SingleConnectError) as caught:
        ask(client, endpoint)
    assert type(caught.value) is expected
    # Not chained: requests' exception holds the form (the code) and the cookies.
    assert caught.value.__cause__ is None
    assert caught.value.__suppress_context__
    assert type(raised).__name__ in str(caught.value)
    assert len(mocked.calls) == 1


@pytest.mark.parametrize("extra", [0, 1, 50_000])
def test_long_answers_are_cut_off(mocked: responses.RequestsMock, extra: int) -> None:
    mocked.post(STATUS_URL, body=b"true" + b" " * (MAX_RESPONSE_BYTES - 4 + extra))
    client = SingleConnectClient()
    if extra == 0:  # exactly the limit is still read
        assert client.otp_status("alice", "192.0.2.1") is True
    else:
        with pytest.raises(SingleConnectUnexpectedResponse) as caught:
            client.otp_status("alice", "192.0.2.1")
        assert caught.value.status_code == 200


def test_a_long_answer_is_not_read_to_its_end(
    server: Simulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Over real HTTP: reading stops past the limit, whatever the server still sends."""
    monkeypatch.setattr(simulator_module, "TOMCAT_500", "x" * (1024 * 1024))
    server.set_fault("error")
    with pytest.raises(SingleConnectUnexpectedResponse) as caught:
        client_for(server).otp_status("alice", "192.0.2.1")
    assert "longer than" in str(caught.value)
    assert caught.value.status_code == 500


# -- what is sent --------------------------------------------------------------------------


@override_settings(
    SINGLECONNECT_EXTRA_HEADERS={"X-Gateway-Key": HEADER_VALUE, "X-Team": "web"},
    SINGLECONNECT_COOKIES={"JSESSIONID": COOKIE_VALUE, "route": "b"},
)
def test_extra_headers_and_cookies_are_sent(mocked: responses.RequestsMock) -> None:
    mocked.post(STATUS_URL, body="true")
    mocked.post(VALID_URL)
    client = SingleConnectClient()
    client.otp_status("alice", "192.0.2.1")
    client.otp_valid("alice", TOKEN)
    for call in mocked.calls:
        assert call.request.headers["X-Gateway-Key"] == HEADER_VALUE
        assert call.request.headers["X-Team"] == "web"
        assert call.request.headers["Cookie"] == f"JSESSIONID={COOKIE_VALUE}; route=b"


def test_no_cookie_header_without_cookies(mocked: responses.RequestsMock) -> None:
    mocked.post(STATUS_URL, body="true")
    SingleConnectClient().otp_status("alice", "192.0.2.1")
    assert "Cookie" not in mocked.calls[0].request.headers
    assert mocked.calls[0].request.headers["User-Agent"] == f"django-singleconnect/{__version__}"


def test_cookies_set_by_the_server_are_not_kept(mocked: responses.RequestsMock) -> None:
    mocked.post(
        STATUS_URL,
        body="true",
        headers={"Set-Cookie": "JSESSIONID=from-server; Path=/; Domain=sc.example.com"},
    )
    mocked.post(VALID_URL)
    client = SingleConnectClient()
    client.otp_status("alice", "192.0.2.1")
    client.otp_valid("alice", TOKEN)
    SingleConnectClient().otp_status("bob", "192.0.2.1")
    assert [call.request.headers.get("Cookie") for call in mocked.calls] == [None, None, None]
    assert len(client._session.cookies) == 0


def test_a_cookie_in_the_jar_is_never_sent(mocked: responses.RequestsMock) -> None:
    mocked.post(STATUS_URL, body="true")
    client = SingleConnectClient()
    # Whatever ends up in the shared jar, one user's cookie must not travel with another's call.
    client._session.cookies.set("planted", "x", domain="sc.example.com", path="/")
    client.otp_status("alice", "192.0.2.1")
    assert "Cookie" not in mocked.calls[0].request.headers


@override_settings(SINGLECONNECT_COOKIES={"JSESSIONID": "configured"})
def test_server_cookies_do_not_replace_configured_ones(mocked: responses.RequestsMock) -> None:
    mocked.post(STATUS_URL, body="true", headers={"Set-Cookie": "JSESSIONID=from-server; Path=/"})
    client = SingleConnectClient()
    client.otp_status("alice", "192.0.2.1")
    client.otp_status("alice", "192.0.2.1")
    assert [call.request.headers["Cookie"] for call in mocked.calls] == [
        "JSESSIONID=configured",
        "JSESSIONID=configured",
    ]


def test_explicit_timeout_verify_and_no_proxy(mocked: responses.RequestsMock) -> None:
    mocked.post(STATUS_URL, body="true")
    SingleConnectClient().otp_status("alice", "192.0.2.1")
    kwargs = mocked.calls[0].request.req_kwargs
    assert kwargs["timeout"] == (3.05, 10.0)
    assert kwargs["verify"] is True
    assert kwargs["cert"] is None
    assert kwargs["proxies"] == {}
    assert kwargs["stream"] is True


@override_settings(
    SINGLECONNECT_TIMEOUT=(1, 4),
    SINGLECONNECT_VERIFY="/etc/ssl/kron-ca.pem",
    SINGLECONNECT_CLIENT_CERT=["/etc/ssl/client.pem", "/etc/ssl/client.key"],
    SINGLECONNECT_PROXIES={"https": "http://proxy.example.com:3128"},
)
def test_configured_transport_settings_are_passed(mocked: responses.RequestsMock) -> None:
    mocked.post(STATUS_URL, body="true")
    SingleConnectClient().otp_status("alice", "192.0.2.1")
    kwargs = mocked.calls[0].request.req_kwargs
    assert kwargs["timeout"] == (1.0, 4.0)
    assert kwargs["verify"] == "/etc/ssl/kron-ca.pem"
    assert kwargs["cert"] == ("/etc/ssl/client.pem", "/etc/ssl/client.key")
    assert kwargs["proxies"] == {"https": "http://proxy.example.com:3128"}


def test_environment_is_ignored(
    mocked: responses.RequestsMock, monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    bundle = tmp_path / "env-ca.pem"
    bundle.write_text("not a certificate")
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.invalid:3128")
    monkeypatch.setenv("https_proxy", "http://proxy.invalid:3128")
    monkeypatch.setenv("ALL_PROXY", "http://proxy.invalid:3128")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(bundle))
    monkeypatch.setenv("CURL_CA_BUNDLE", str(bundle))
    mocked.post(STATUS_URL, body="true")
    client = SingleConnectClient()
    client.otp_status("alice", "192.0.2.1")
    assert client._session.trust_env is False
    kwargs = mocked.calls[0].request.req_kwargs
    assert kwargs["proxies"] == {}
    assert kwargs["verify"] is True


def test_proxy_environment_is_ignored_over_the_network(
    server: Simulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    dead = free_port()
    for variable in ("HTTP_PROXY", "http_proxy", "ALL_PROXY"):
        monkeypatch.setenv(variable, f"http://127.0.0.1:{dead}")
    monkeypatch.setenv("NO_PROXY", "")
    assert client_for(server).otp_status("alice", "192.0.2.1") is True


# -- keyword overrides ---------------------------------------------------------------------


def test_keyword_overrides(mocked: responses.RequestsMock) -> None:
    mocked.post("http://other.example.com:8080/custom/otpstatus", body="false")
    client = SingleConnectClient(
        timeout=(1, 2),
        hostname="other.example.com:8080",
        scheme="http",
        base_path="custom/",
        application_name="intranet",
        verify=False,
        extra_headers={"X-A": "b"},
        cookies={"c": "d"},
        proxies=None,
        client_cert=None,
    )
    assert client.otp_status("alice", "192.0.2.1") is False
    (call,) = mocked.calls
    assert call.request.req_kwargs["timeout"] == (1, 2)
    assert call.request.req_kwargs["verify"] is False
    assert call.request.headers["X-A"] == "b"
    assert call.request.headers["Cookie"] == "c=d"
    assert form(call)["applicationname"] == "intranet"


@pytest.mark.parametrize("value", ["", "   ", None])
def test_a_blank_verify_override_still_verifies(value: Any) -> None:
    assert SingleConnectClient(verify=value).verify is True


def test_explicit_config_object() -> None:
    with override_settings(SINGLECONNECT_HOSTNAME="elsewhere.example.com"):
        config = Settings()
        client = SingleConnectClient(config)
        assert client.url("otpstatus") == (
            "https://elsewhere.example.com/twofactorauth-ui/rest/tfa/otpstatus"
        )


def test_unknown_keyword() -> None:
    with pytest.raises(TypeError, match="tiemout"):
        SingleConnectClient(tiemout=(1, 2))
    with pytest.raises(TypeError, match="HOSTNAME"):
        SingleConnectClient(HOSTNAME="x")  # settings names are not keywords


@pytest.mark.parametrize(
    "overrides",
    [{"hostname": ""}, {"application_name": ""}, {"hostname": None}],
)
def test_missing_required_values(overrides: dict[str, Any]) -> None:
    with pytest.raises(SingleConnectError, match="must be set"):
        SingleConnectClient(**overrides)


def test_missing_hostname_setting(settings: Any) -> None:
    del settings.SINGLECONNECT_HOSTNAME
    with pytest.raises(SingleConnectError):
        SingleConnectClient()


def test_the_admin_hostname_is_used(mocked: responses.RequestsMock) -> None:
    from django_singleconnect.models import SingleConnectConfiguration

    SingleConnectConfiguration.objects.create(hostname="admin.example.com")
    mocked.post("https://admin.example.com/twofactorauth-ui/rest/tfa/otpstatus", body="true")
    assert SingleConnectClient().otp_status("alice", "192.0.2.1") is True


# -- the connection pool -------------------------------------------------------------------


def test_sessions_are_pooled_per_transport() -> None:
    first = SingleConnectClient()
    assert SingleConnectClient()._session is first._session
    assert SingleConnectClient(timeout=1, cookies={"a": "b"})._session is first._session
    assert SingleConnectClient(verify=False)._session is not first._session
    assert SingleConnectClient(client_cert="/x.pem")._session is not first._session
    assert SingleConnectClient(proxies={"https": "http://p:1"})._session is not first._session
    assert len(_sessions) == 4
    close_sessions()
    assert _sessions == {}
    assert SingleConnectClient()._session is not first._session


def test_one_connection_for_many_clients(server: Simulator) -> None:
    """A client per call, as the views make them: they share one pooled connection."""
    for index in range(10):
        client = client_for(server)
        assert client.otp_status(f"user{index}", "192.0.2.1") is True
        assert client.otp_valid(f"user{index}", "not-the-code") is False
    assert server.call_count() == 20
    assert server.connections == 1


# -- no retry once the server may have the request -----------------------------------------


def test_a_500_is_asked_once(server: Simulator) -> None:
    server.set_fault("error")
    with pytest.raises(SingleConnectUnexpectedResponse):
        client_for(server).otp_valid("alice", TOKEN)
    assert server.call_count() == 1
    assert server.connections == 1


def test_a_dropped_connection_is_not_retried(server: Simulator) -> None:
    server.set_fault("drop")
    with pytest.raises(SingleConnectUnreachable):
        client_for(server).otp_valid("alice", TOKEN)
    assert server.call_count() == 1
    assert server.connections == 1


def test_a_read_timeout_is_not_retried(server: Simulator) -> None:
    server.set_fault("latency", seconds=0.3)
    with pytest.raises(SingleConnectTimeout):
        client_for(server, timeout=(1, 0.05)).otp_valid("alice", TOKEN)
    # A retry would have been sent before the error came back.
    assert server.connections == 1
    deadline = time.monotonic() + 2
    while server.call_count() == 0 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert server.call_count() == 1


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_connection_refused_is_unreachable() -> None:
    client = SingleConnectClient(hostname=f"127.0.0.1:{free_port()}", scheme="http")
    with pytest.raises(SingleConnectUnreachable):
        client.otp_status("alice", "192.0.2.1")


def test_a_timeout_in_the_middle_of_the_body_is_a_timeout() -> None:
    # Part of the body at once, then nothing for longer than the read timeout.
    server = DripServer(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\ntr", b"u", interval=5)
    try:
        client = SingleConnectClient(hostname=server.hostname, scheme="http", timeout=(1, 0.1))
        with pytest.raises(SingleConnectTimeout):
            client.otp_status("alice", "192.0.2.1")
    finally:
        server.close()


def test_missing_ca_bundle_is_a_tls_error(tmp_path: Any) -> None:
    # requests looks for the file before it connects; nothing listens on this port.
    client = SingleConnectClient(
        hostname=f"127.0.0.1:{free_port()}", verify=str(tmp_path / "missing.pem")
    )
    with pytest.raises(SingleConnectTLSError) as caught:
        client.otp_status("alice", "192.0.2.1")
    assert caught.value.__cause__ is None
    assert "OSError" in str(caught.value) or "No such file" in str(caught.value)


def test_missing_client_certificate_is_a_tls_error(tmp_path: Any) -> None:
    client = SingleConnectClient(
        hostname=f"127.0.0.1:{free_port()}",
        scheme="http",
        client_cert=(str(tmp_path / "client.pem"), str(tmp_path / "client.key")),
    )
    with pytest.raises(SingleConnectTLSError):
        client.otp_valid("alice", TOKEN)


# -- logging -------------------------------------------------------------------------------


def assert_nothing_secret(records: list[logging.LogRecord]) -> None:
    for record in records:
        text = record.getMessage() + " " + repr(record.args)
        for secret in (TOKEN, COOKIE_VALUE, HEADER_VALUE):
            assert secret not in text, (record.name, text)


@override_settings(
    SINGLECONNECT_EXTRA_HEADERS={"X-Gateway-Key": HEADER_VALUE},
    SINGLECONNECT_COOKIES={"JSESSIONID": COOKIE_VALUE},
)
def test_logs_name_outcome_user_and_duration_but_no_secret(
    mocked: responses.RequestsMock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    mocked.post(STATUS_URL, body="true")
    mocked.post(VALID_URL, status=200)
    client = SingleConnectClient()
    client.otp_status("alice", "192.0.2.1")
    client.otp_valid("alice", TOKEN)
    mocked.replace(responses.POST, STATUS_URL, body="false")
    mocked.replace(responses.POST, VALID_URL, status=403)
    client.otp_status("carol", "192.0.2.1")
    client.otp_valid("bob", TOKEN)
    mocked.replace(responses.POST, VALID_URL, status=500, body=f"echo {TOKEN} {COOKIE_VALUE}")
    with pytest.raises(SingleConnectUnexpectedResponse):
        client.otp_valid("dave", TOKEN)
    mocked.replace(responses.POST, VALID_URL, body=requests.exceptions.ReadTimeout(TOKEN))
    with pytest.raises(SingleConnectTimeout) as caught:
        client.otp_valid("erin", TOKEN)
    assert TOKEN not in str(caught.value)

    ours = [record for record in caplog.records if record.name == "django_singleconnect"]
    messages = [record.getMessage() for record in ours]
    assert len(ours) == 6
    expected = [
        ("alice", "otpstatus", "active", logging.INFO),
        ("alice", "otpvalid", "valid", logging.INFO),
        ("carol", "otpstatus", "not active", logging.INFO),
        ("bob", "otpvalid", "wrong code", logging.INFO),
        ("dave", "otpvalid", "unexpected answer, status 500", logging.WARNING),
        ("erin", "otpvalid", "timeout", logging.WARNING),
    ]
    for record, message, (username, endpoint, outcome, level) in zip(
        ours, messages, expected, strict=True
    ):
        assert f"'{username}'" in message
        assert endpoint in message
        assert outcome in message
        assert re.search(r" \d+ ms$", message), message
        assert record.levelno == level
    assert_nothing_secret(caplog.records)


@override_settings(
    SINGLECONNECT_EXTRA_HEADERS={"X-Gateway-Key": HEADER_VALUE},
    SINGLECONNECT_COOKIES={"JSESSIONID": COOKIE_VALUE},
)
def test_logs_over_real_http_hold_no_secret(
    server: Simulator, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    client = client_for(server)
    client.otp_status("alice", "192.0.2.1")
    code = server.current_code("alice")
    assert code is not None
    client.otp_valid("alice", TOKEN if code != TOKEN else "000000")
    server.set_fault("drop")
    with pytest.raises(SingleConnectUnreachable):
        client.otp_valid("alice", TOKEN)
    assert_nothing_secret(caplog.records)
    # urllib3 spoke too, at DEBUG: the check above covered its records.
    assert any(record.name.startswith("urllib3") for record in caplog.records)


@pytest.mark.parametrize("level", [logging.INFO, logging.CRITICAL], ids=["logged", "dropped"])
def test_the_signal_is_sent_whether_the_lines_are_logged_or_not(
    level: int,
    mocked: responses.RequestsMock,
    calls: list[dict[str, Any]],
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A line the logger would drop is not made at all, fields included: the signal is sent."""
    made: list[str] = []
    real_fields = client_module.fields

    def counted_fields(event: str, **values: Any) -> dict[str, Any]:
        made.append(event)
        return real_fields(event, **values)

    monkeypatch.setattr(client_module, "fields", counted_fields)
    caplog.set_level(level, logger="django_singleconnect")
    mocked.post(STATUS_URL, body="true")
    mocked.post(VALID_URL, status=403)
    client = SingleConnectClient()
    assert client.otp_status("alice", "192.0.2.1") is True
    assert client.otp_valid("alice", TOKEN) is False
    mocked.replace(responses.POST, VALID_URL, status=500)
    with pytest.raises(SingleConnectUnexpectedResponse):
        client.otp_valid("bob", TOKEN)
    mocked.replace(responses.POST, VALID_URL, body=requests.exceptions.ConnectionError())
    with pytest.raises(SingleConnectUnreachable):
        client.otp_valid("carol", TOKEN)

    node = "sc.example.com"
    assert [
        (call["sender"], call["endpoint"], call["node"], call["username"], call["outcome"])
        for call in calls
    ] == [
        (SingleConnectClient, "otpstatus", node, "alice", "active"),
        (SingleConnectClient, "otpvalid", node, "alice", "wrong_code"),
        (SingleConnectClient, "otpvalid", node, "bob", "unexpected_response"),
        (SingleConnectClient, "otpvalid", node, "carol", "unreachable"),
    ]
    assert [call["status"] for call in calls] == [200, 403, 500, None]
    assert [type(call["error"]) for call in calls] == [
        type(None),
        type(None),
        SingleConnectUnexpectedResponse,
        SingleConnectUnreachable,
    ]
    assert all(isinstance(call["duration"], float) for call in calls)
    records = [record for record in caplog.records if record.name == "django_singleconnect"]
    if level == logging.CRITICAL:
        assert made == []
        assert records == []
    else:
        assert made == ["call"] * 4
        assert [record.event for record in records] == made
        for record in records:
            assert set(FIELDS) <= set(vars(record))
        assert [record.outcome for record in records] == [
            "active",
            "wrong_code",
            "unexpected_response",
            "unreachable",
        ]
