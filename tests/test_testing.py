"""
``django_singleconnect.testing`` and the pytest plugin's fixtures: verified test clients,
sync and async, and the guard that fails a test calling Single Connect outside loopback.
"""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest
import responses
from asgiref.sync import async_to_sync
from django.conf import settings
from django.test import AsyncClient, Client

from django_singleconnect import pytest_plugin, state
from django_singleconnect.client import SingleConnectClient
from django_singleconnect.simulator import Simulator
from django_singleconnect.testing import averify_client, is_loopback, verify_client
from tests.helpers import ROOT

pytestmark = pytest.mark.django_db

#: What the guard's failure says, whatever the host.
BLOCKED = "A test called Single Connect at"


def session_of(client: Client | AsyncClient) -> Any:
    return client.session


# -- verify_client and averify_client ------------------------------------------------------


def test_verify_client_passes_the_step_without_single_connect(user: Any) -> None:
    # settings.py names sc.example.com: any call there would fail this test (the guard).
    client = Client()
    assert verify_client(client, user) is client
    assert client.get("/").content == b"protected page"
    assert client.get("/mixin/").content == b"mixin page"
    assert client.get("/open-user/").content == b"open page for alice"
    mark = session_of(client)[state.VERIFIED_KEY]
    assert mark["user"] == str(user.pk)
    assert mark["method"] == "otp"
    assert state.PENDING_KEY not in session_of(client)


def test_verify_client_cycles_the_session_key(user: Any) -> None:
    client = Client()
    client.force_login(user)
    before = client.cookies[settings.SESSION_COOKIE_NAME].value
    verify_client(client, user)
    assert client.cookies[settings.SESSION_COOKIE_NAME].value != before


def test_verify_client_switches_users(user: Any, django_user_model: Any) -> None:
    bob = django_user_model.objects.create_user("bob")
    client = verify_client(Client(), user)
    verify_client(client, bob)
    assert client.get("/open-user/").content == b"open page for bob"
    assert client.get("/").status_code == 200


def test_a_later_login_drops_what_verify_client_marked(user: Any) -> None:
    client = verify_client(Client(), user)
    client.force_login(user)  # a new login: the code again, as for a real mark
    assert client.get("/")["Location"] == "/2fa/verify/?next=%2F"


def test_verify_client_on_an_async_client(user: Any) -> None:
    async_client = verify_client(AsyncClient(), user)
    assert async_to_sync(async_client.get)("/async/").content == b"async protected page"
    assert async_to_sync(async_client.get)("/async-whether/").content == b"verified"


def test_averify_client_in_async_code(user: Any) -> None:
    async def scenario() -> list[bytes]:
        async_client = AsyncClient()
        assert await averify_client(async_client, user) is async_client
        return [
            (await async_client.get("/async/")).content,
            (await async_client.get("/async-mixin/")).content,
            (await async_client.get("/async-whether/")).content,
        ]

    assert async_to_sync(scenario)() == [b"async protected page", b"async mixin page", b"verified"]


def test_the_testing_module_needs_no_pytest() -> None:
    script = (
        "import sys, django; django.setup(); "
        "import django_singleconnect.testing; "
        "assert 'pytest' not in sys.modules, 'pytest imported'"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env={"DJANGO_SETTINGS_MODULE": "tests.settings", "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr


# -- the fixtures -----------------------------------------------------------------------------


def test_the_verified_client_fixture(singleconnect_verified_client: Client) -> None:
    assert singleconnect_verified_client.get("/").content == b"protected page"


def test_the_verified_client_is_the_user_fixture(
    singleconnect_verified_client: Client, singleconnect_user: Any, client: Client
) -> None:
    assert singleconnect_verified_client is client
    name = singleconnect_user.get_username()
    assert client.get("/open-user/").content == f"open page for {name}".encode()
    assert not singleconnect_user.has_usable_password()


def test_the_verified_async_client_fixture(
    singleconnect_verified_async_client: AsyncClient, async_client: AsyncClient
) -> None:
    assert singleconnect_verified_async_client is async_client
    get = async_to_sync(async_client.get)
    assert get("/async/").content == b"async protected page"
    assert get("/async-whether/").content == b"verified"


def test_the_verify_fixture_is_the_helper(
    singleconnect_verify: Any, client: Client, user: Any
) -> None:
    assert singleconnect_verify is verify_client
    singleconnect_verify(client, user)
    assert client.get("/").status_code == 200


@pytest.mark.parametrize(
    ("field", "name"), [("username", "singleconnect"), ("email", "singleconnect@example.com")]
)
def test_the_user_fixture_names_by_the_username_field(field: str, name: str) -> None:
    assert pytest_plugin.username_for(field) == name


# -- the guard: Single Connect on loopback only ----------------------------------------------


@pytest.mark.parametrize(
    "hostname",
    [
        "localhost",
        "localhost:8765",
        "LOCALHOST:8765",
        "127.0.0.1",
        "127.0.0.1:8765",
        "127.5.6.7:80",
        "[::1]:8443",
        "[::ffff:127.0.0.1]:8443",
        "http://127.0.0.1:8765/twofactorauth-ui/rest/tfa/otpstatus",
    ],
)
def test_loopback_hosts(hostname: str) -> None:
    assert is_loopback(hostname)


@pytest.mark.parametrize(
    "hostname",
    [
        "sc.example.com",
        "sc.example.com:8443",
        "10.1.2.3",
        "0.0.0.0",  # noqa: S104 - a host name here, bound to nothing
        "[::2]:8443",
        "[::]",
        "128.0.0.1",
        "localhost.example.com",
        "127.0.0.1.nip.io",
        "app.localhost",
        "",
        "[::1",
        "https://sc.example.com/twofactorauth-ui/rest/tfa/otpstatus",
    ],
)
def test_hosts_elsewhere(hostname: str) -> None:
    assert not is_loopback(hostname)


def test_a_host_outside_loopback_fails_the_test_loudly() -> None:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mocked:
        with pytest.raises(pytest.fail.Exception) as failure:
            SingleConnectClient().otp_status("alice", "192.0.2.1")
        assert not mocked.calls  # nothing was sent
    message = str(failure.value)
    assert f"{BLOCKED} 'sc.example.com'" in message
    assert "singleconnect_simulator" in message
    assert "@pytest.mark.singleconnect_any_host" in message


def test_the_guard_is_not_swallowed_by_the_code_page(signed_in: Client, settings: Any) -> None:
    # The code page answers 503 to every SingleConnectError; the guard must get past it.
    settings.SINGLECONNECT_HOSTNAME = "10.1.2.3:8443"
    with pytest.raises(pytest.fail.Exception, match=f"{BLOCKED} '10.1.2.3:8443'"):
        signed_in.get("/2fa/verify/")


def test_the_guard_checks_each_client_not_the_settings(simulator: Simulator) -> None:
    client = SingleConnectClient(hostname="sc2.example.com")
    with pytest.raises(pytest.fail.Exception, match=f"{BLOCKED} 'sc2.example.com'"):
        client.otp_valid("alice", "123456")


def test_loopback_passes(simulator: Simulator) -> None:
    assert SingleConnectClient().otp_status("alice", "192.0.2.1") is True
    code = simulator.current_code("alice")
    assert code
    assert SingleConnectClient().otp_valid("alice", code) is True


def test_localhost_passes(server: Simulator) -> None:
    hostname = server.hostname.replace("127.0.0.1", "localhost")
    client = SingleConnectClient(hostname=hostname, scheme="http")
    assert client.otp_status("alice", "192.0.2.1") is True


@pytest.mark.singleconnect_any_host
def test_the_marker_lets_a_test_reach_any_host() -> None:
    with responses.RequestsMock() as mocked:
        mocked.post("https://sc.example.com/twofactorauth-ui/rest/tfa/otpstatus", body="true")
        assert SingleConnectClient().otp_status("alice", "192.0.2.1") is True
        assert len(mocked.calls) == 1


def test_the_marker_is_registered(pytestconfig: pytest.Config) -> None:
    markers = pytestconfig.getini("markers")
    assert any(line.startswith("singleconnect_any_host:") for line in markers)


@pytest.mark.singleconnect_any_host
def test_the_marker_leaves_the_client_as_it_is() -> None:
    assert SingleConnectClient._call.__name__ == "_call"


def test_without_the_marker_the_client_is_guarded() -> None:
    assert SingleConnectClient._call.__name__ == "loopback_only"
