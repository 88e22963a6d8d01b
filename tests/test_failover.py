"""
Several Single Connect nodes, against real servers over loopback: a node is skipped only when
no connection to it could be opened; a node that took the request is that call's answer; a
code's otpvalid goes to the node that issued it.
"""

from __future__ import annotations

import dataclasses
import io
import json
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client

from django_singleconnect import signals
from django_singleconnect.client import SingleConnectClient
from django_singleconnect.exceptions import (
    SingleConnectCircuitOpen,
    SingleConnectNotConfigured,
    SingleConnectTimeout,
    SingleConnectUnexpectedResponse,
    SingleConnectUnreachable,
)
from django_singleconnect.models import AttemptCounter, CodeBudget, VerificationEvent
from django_singleconnect.simulator import Simulator
from django_singleconnect.state import PENDING_KEY
from django_singleconnect.transport.circuit import Breaker
from tests.helpers import TOKEN, FullBacklog, HangingServer, codes_of, stopped_node

pytestmark = pytest.mark.django_db

VERIFY = "/2fa/verify/"
RESEND = "/2fa/resend/"


@pytest.fixture
def second() -> Iterator[Simulator]:
    """A second live node, beside ``simulator``."""
    with Simulator(output=io.StringIO()) as running:
        yield running


@pytest.fixture
def hanging() -> Iterator[HangingServer]:
    server = HangingServer()
    yield server
    server.close()


@pytest.fixture
def refusing() -> Iterator[FullBacklog]:
    server = FullBacklog()
    yield server
    server.close()


@pytest.fixture
def quick(settings: Any, simulator: Simulator) -> None:
    """Short deadlines, so that a node that does not answer fails fast."""
    settings.SINGLECONNECT_TIMEOUT = (0.3, 0.5)


def client(*nodes: str, **overrides: Any) -> SingleConnectClient:
    return SingleConnectClient(hostname=", ".join(nodes), **overrides)


def outcomes(calls: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [(call["node"], call["outcome"]) for call in calls]


# -- which node a call goes to --------------------------------------------------------------


def test_a_stopped_node_is_skipped(
    quick: None, simulator: Simulator, calls: list[dict[str, Any]]
) -> None:
    dead = stopped_node()
    sc = client(dead, simulator.hostname)
    assert sc.otp_status("alice", "192.0.2.1") is True
    assert sc.last_node == simulator.hostname
    assert simulator.call_count("otpstatus") == 1
    assert outcomes(calls) == [(dead, "unreachable"), (simulator.hostname, "active")]
    assert calls[0]["error"].may_have_reached is False
    assert calls[0]["status"] is None


def test_a_node_refusing_connections_is_skipped(
    quick: None, simulator: Simulator, refusing: FullBacklog, calls: list[dict[str, Any]]
) -> None:
    sc = client(refusing.hostname, simulator.hostname)
    assert sc.otp_status("alice", "192.0.2.1") is True
    assert outcomes(calls) == [(refusing.hostname, "timeout"), (simulator.hostname, "active")]
    assert calls[0]["error"].may_have_reached is False  # the connect timed out: nothing sent


@pytest.mark.singleconnect_any_host
def test_a_node_whose_name_does_not_resolve_is_skipped(
    quick: None, simulator: Simulator, calls: list[dict[str, Any]]
) -> None:
    sc = client("node.invalid", simulator.hostname)  # .invalid never resolves (RFC 6761)
    assert sc.otp_status("alice", "192.0.2.1") is True
    assert outcomes(calls) == [("node.invalid", "unreachable"), (simulator.hostname, "active")]


def test_a_hanging_node_is_never_followed_by_another(
    quick: None, simulator: Simulator, hanging: HangingServer, calls: list[dict[str, Any]]
) -> None:
    sc = client(hanging.hostname, simulator.hostname)
    for ask in (
        lambda: sc.otp_status("alice", "192.0.2.1"),
        lambda: sc.otp_valid("alice", TOKEN),
    ):
        with pytest.raises(SingleConnectTimeout) as caught:
            ask()
        assert caught.value.may_have_reached is True
        assert caught.value.node == hanging.hostname
    assert hanging.requests == 2  # it took both requests...
    assert simulator.call_count() == 0  # ...and the next node heard of neither
    assert outcomes(calls) == [(hanging.hostname, "timeout")] * 2


@pytest.mark.parametrize(
    ("fault", "outcome"), [("error", "unexpected_response"), ("refuse", "unexpected_response")]
)
def test_a_node_that_answers_anything_else_is_never_followed_by_another(
    quick: None,
    simulator: Simulator,
    second: Simulator,
    calls: list[dict[str, Any]],
    fault: str,
    outcome: str,
) -> None:
    simulator.set_fault(fault)
    sc = client(simulator.hostname, second.hostname)
    with pytest.raises(SingleConnectUnexpectedResponse) as caught:
        sc.otp_status("alice", "192.0.2.1")
    assert caught.value.node == simulator.hostname
    assert second.call_count() == 0
    assert outcomes(calls) == [(simulator.hostname, outcome)]


def test_three_nodes_the_first_live_one_answers(
    quick: None,
    simulator: Simulator,
    second: Simulator,
    refusing: FullBacklog,
    calls: list[dict[str, Any]],
) -> None:
    dead = stopped_node()
    sc = client(dead, refusing.hostname, simulator.hostname, second.hostname)
    assert sc.otp_status("alice", "192.0.2.1") is True
    assert outcomes(calls) == [
        (dead, "unreachable"),
        (refusing.hostname, "timeout"),
        (simulator.hostname, "active"),
    ]
    assert second.call_count() == 0


def test_when_no_node_can_be_reached_the_request_never_left(quick: None) -> None:
    first, last = stopped_node(), stopped_node()
    with pytest.raises(SingleConnectUnreachable) as caught:
        client(first, last).otp_status("alice", "192.0.2.1")
    assert caught.value.may_have_reached is False
    assert caught.value.node == last


def test_a_connection_is_tried_twice_only_with_one_node(quick: None, simulator: Simulator) -> None:
    # With several nodes the next node is the second try: a dead node costs one connect
    # timeout before the next is asked, not two.
    one = client(simulator.hostname)._session.get_adapter("http://x").max_retries
    several = client(simulator.hostname, "127.0.0.1:1")._session.get_adapter("http://x")
    assert (one.connect, one.read, one.status) == (1, 0, 0)
    assert (several.max_retries.connect, several.max_retries.read) == (0, 0)


# -- each node's circuit breaker --------------------------------------------------------------


def test_an_open_circuit_moves_otpstatus_to_the_next_node_at_once(
    quick: None, settings: Any, simulator: Simulator, second: Simulator
) -> None:
    settings.SINGLECONNECT_CIRCUIT_FAILURES = 2
    dead = stopped_node()
    for username in ("alice", "bob"):  # two users: no one user opens a circuit
        client(dead, simulator.hostname).otp_status(username, "192.0.2.1")
    assert simulator.call_count() == 2
    # Another worker (another client, the same shared cache) skips the dead node unasked.
    sc = client(dead, simulator.hostname)
    assert sc.breakers[dead].allow() is False
    assert sc.breakers[simulator.hostname].allow() is True
    heard: list[dict[str, Any]] = []
    signals.singleconnect_called.connect(receiver := lambda **kwargs: heard.append(kwargs))
    try:
        assert sc.otp_status("alice", "192.0.2.1") is True
    finally:
        signals.singleconnect_called.disconnect(receiver)
    assert outcomes(heard) == [(simulator.hostname, "active")]  # no call to the dead node


def test_each_node_has_its_own_breaker(simulator: Simulator, second: Simulator) -> None:
    sc = client(simulator.hostname, second.hostname)
    first, other = sc.breakers[simulator.hostname], sc.breakers[second.hostname]
    for _ in range(sc.breakers[simulator.hostname].failures):
        first.failed()
    assert first.allow() is False
    assert other.allow() is True
    assert first.open_until_key != other.open_until_key
    assert cache.get(other.open_until_key) is None
    # Names differ only in case: one node, one breaker.
    upper = Breaker(cache=cache, failures=1, reset_seconds=30, trial_seconds=1, node="X:1")
    assert upper.open_until_key == dataclasses.replace(upper, node="x:1").open_until_key


# -- otpvalid goes to the node that issued the code -------------------------------------------


def test_otp_valid_asks_the_node_it_is_given_and_no_other(
    quick: None, simulator: Simulator, second: Simulator
) -> None:
    sc = client(simulator.hostname, second.hostname)
    second.otp_status("alice")
    assert sc.otp_valid("alice", second.current_code("alice") or "", node=second.hostname)
    assert simulator.call_count() == 0
    dead = stopped_node()
    with pytest.raises(SingleConnectUnreachable) as caught:
        client(dead, simulator.hostname).otp_valid("alice", TOKEN, node=dead)
    assert caught.value.may_have_reached is False
    assert simulator.call_count() == 0


def test_otp_valid_never_asks_a_node_no_longer_configured(
    simulator: Simulator, second: Simulator, calls: list[dict[str, Any]]
) -> None:
    with pytest.raises(SingleConnectNotConfigured) as caught:
        client(simulator.hostname).otp_valid("alice", TOKEN, node=second.hostname)
    assert caught.value.may_have_reached is False
    assert caught.value.node == second.hostname
    assert simulator.call_count() == second.call_count() == 0
    assert calls == []  # nothing was called


def test_otp_valid_is_not_called_when_its_nodes_circuit_is_open(
    simulator: Simulator, second: Simulator
) -> None:
    sc = client(simulator.hostname, second.hostname)
    for _ in range(sc.breakers[second.hostname].failures):
        sc.breakers[second.hostname].failed()
    with pytest.raises(SingleConnectCircuitOpen):
        sc.otp_valid("alice", TOKEN, node=second.hostname)
    assert simulator.call_count() == second.call_count() == 0


# -- through the code page --------------------------------------------------------------------


@pytest.fixture
def two_nodes(quick: None, settings: Any, simulator: Simulator, second: Simulator) -> None:
    settings.SINGLECONNECT_HOSTNAME = f"{simulator.hostname}, {second.hostname}"


def node_of_login(client: Client) -> str:
    return str(client.session[PENDING_KEY]["node"])


def test_the_code_page_records_the_node_that_issued_the_code(
    two_nodes: None, settings: Any, signed_in: Client, simulator: Simulator, second: Simulator
) -> None:
    dead = stopped_node()
    settings.SINGLECONNECT_HOSTNAME = f"{dead}, {second.hostname}, {simulator.hostname}"
    assert signed_in.get(VERIFY).status_code == 200
    assert node_of_login(signed_in) == second.hostname
    assert second.current_code("alice")
    assert simulator.current_code("alice") is None
    (row,) = VerificationEvent.objects.all()
    assert (row.event, row.node) == ("challenge_sent", second.hostname)


def test_the_code_goes_to_the_node_that_issued_it(
    two_nodes: None, settings: Any, signed_in: Client, simulator: Simulator, second: Simulator
) -> None:
    signed_in.get(VERIFY)
    assert node_of_login(signed_in) == simulator.hostname
    # The order changes (the admin's field, say): the code still goes where it came from.
    settings.SINGLECONNECT_HOSTNAME = f"{second.hostname}, {simulator.hostname}"
    response = signed_in.post(VERIFY, {"token": simulator.current_code("alice")})
    assert response.status_code == 302
    assert simulator.call_count("otpvalid") == 1
    assert second.call_count() == 0
    verified = VerificationEvent.objects.get(event="verified")
    assert verified.node == simulator.hostname


def test_a_wrong_code_is_checked_by_its_node_alone(
    two_nodes: None, signed_in: Client, simulator: Simulator, second: Simulator
) -> None:
    signed_in.get(VERIFY)
    assert signed_in.post(VERIFY, {"token": TOKEN}).status_code == 200
    assert (simulator.call_count("otpvalid"), second.call_count()) == (1, 0)
    assert VerificationEvent.objects.get(event="failed").node == simulator.hostname


def test_when_the_codes_node_is_down_the_attempt_is_given_back(
    two_nodes: None, signed_in: Client, simulator: Simulator, second: Simulator, settings: Any
) -> None:
    settings.SINGLECONNECT_RESEND_COOLDOWN = 0
    signed_in.get(VERIFY)
    code = simulator.current_code("alice")
    simulator.stop()
    response = signed_in.post(VERIFY, {"token": code})
    assert response.status_code == 503
    assert second.call_count() == 0  # the code never goes to another node
    # The request never left: the attempt is given back.
    assert AttemptCounter.objects.get(username="alice").failures == 0
    row = VerificationEvent.objects.get(event="service_unavailable")
    assert (row.node, row.detail) == (simulator.hostname, "unreachable")
    # A new code comes from the node that can be reached, and its otpvalid goes there.
    signed_in.post(RESEND)
    assert node_of_login(signed_in) == second.hostname
    assert signed_in.post(VERIFY, {"token": second.current_code("alice")}).status_code == 302
    assert second.call_count("otpvalid") == 1


def test_a_code_whose_node_was_removed_is_not_sent_anywhere(
    two_nodes: None, signed_in: Client, simulator: Simulator, second: Simulator, settings: Any
) -> None:
    signed_in.get(VERIFY)
    settings.SINGLECONNECT_HOSTNAME = second.hostname
    response = signed_in.post(VERIFY, {"token": simulator.current_code("alice")})
    assert response.status_code == 503
    assert simulator.call_count("otpvalid") == second.call_count() == 0
    assert AttemptCounter.objects.get(username="alice").failures == 0


def test_a_hanging_first_node_is_the_503_page_and_the_code_stays_spent(
    quick: None,
    settings: Any,
    signed_in: Client,
    simulator: Simulator,
    hanging: HangingServer,
) -> None:
    settings.SINGLECONNECT_HOSTNAME = f"{hanging.hostname}, {simulator.hostname}"
    assert signed_in.get(VERIFY).status_code == 503
    assert hanging.requests == 1
    assert simulator.call_count() == 0
    # It may have sent a text message: the code stays spent in the username's budget.
    assert len(json.loads(CodeBudget.objects.get(username="alice").codes)) == 1
    assert codes_of(signed_in) == []  # though the login has no code yet
    row = VerificationEvent.objects.get(event="service_unavailable")
    assert (row.node, row.detail) == (hanging.hostname, "timeout")


def test_signals_of_the_step_name_the_node(
    two_nodes: None, signed_in: Client, simulator: Simulator
) -> None:
    heard: list[dict[str, Any]] = []

    def receiver(**kwargs: Any) -> None:
        heard.append(kwargs)

    for signal in (signals.challenge_sent, signals.verification_succeeded):
        signal.connect(receiver)
    try:
        signed_in.get(VERIFY)
        signed_in.post(VERIFY, {"token": simulator.current_code("alice")})
    finally:
        for signal in (signals.challenge_sent, signals.verification_succeeded):
            signal.disconnect(receiver)
    assert [kwargs["node"] for kwargs in heard] == [simulator.hostname] * 2


def test_with_one_node_too_the_login_records_its_node(
    signed_in: Client, simulator: Simulator, settings: Any, second: Simulator, quick: None
) -> None:
    signed_in.get(VERIFY)
    assert node_of_login(signed_in) == simulator.hostname
    # A node put before it while the user reads the text message: the code is still
    # checked by the node that sent it, never by one that would call it wrong.
    settings.SINGLECONNECT_HOSTNAME = f"{second.hostname}, {simulator.hostname}"
    assert signed_in.post(VERIFY, {"token": simulator.current_code("alice")}).status_code == 302
    assert second.call_count("otpvalid") == 0
    rows = VerificationEvent.objects.order_by("pk")
    assert [(row.event, row.node) for row in rows] == [
        ("challenge_sent", simulator.hostname),
        ("verified", simulator.hostname),
    ]


def test_a_resend_that_may_have_reached_another_node_pins_that_node(
    two_nodes: None,
    settings: Any,
    signed_in: Client,
    simulator: Simulator,
    second: Simulator,
) -> None:
    settings.SINGLECONNECT_RESEND_COOLDOWN = 0
    settings.SINGLECONNECT_TIMEOUT = (0.5, 0.3)
    signed_in.get(VERIFY)
    assert node_of_login(signed_in) == simulator.hostname
    # The first node's circuit opens; the resend goes to the second, which takes it and
    # answers too late: it may have sent a code, the newest, which only it can check.
    breaker = SingleConnectClient().breakers[simulator.hostname]
    for _ in range(5):  # SINGLECONNECT_CIRCUIT_FAILURES
        breaker.failed()
    second.set_fault("latency", seconds=0.5, endpoint="otpstatus")
    assert signed_in.post("/2fa/resend/").status_code == 503
    assert node_of_login(signed_in) == second.hostname


def test_rows_of_a_login_no_node_was_asked_for_name_no_node(
    two_nodes: None, settings: Any, simulator: Simulator, user: Any, login: Any
) -> None:
    settings.SINGLECONNECT_MAX_CODES_PER_HOUR = 1
    earlier = Client()
    login(earlier)
    assert earlier.get(VERIFY).status_code == 200  # the hour's one code
    later = Client()
    login(later)
    assert later.get(VERIFY).status_code == 429  # no code, no call
    rows = VerificationEvent.objects.order_by("pk")
    # The later login names the first node from its start, where its otpvalid would go;
    # no node was asked for it, and its row says none.
    assert [(row.event, row.node) for row in rows] == [
        ("challenge_sent", simulator.hostname),
        ("codes_spent", ""),
    ]
    assert simulator.call_count("otpstatus") == 1
