"""
Figures for dashboards: the structured fields of every log record of the package, the signal
sent after every call to Single Connect, and the README's Prometheus recipe run as written.
"""

from __future__ import annotations

import ast
import logging
import time
from pathlib import Path
from typing import Any

import prometheus_client
import pytest
from django.test import Client

import django_singleconnect
from django_singleconnect import identity, policy, signals
from django_singleconnect.client import SingleConnectClient, call_slots
from django_singleconnect.conf import get_config
from django_singleconnect.exceptions import (
    SingleConnectBusy,
    SingleConnectCircuitOpen,
    SingleConnectError,
    SingleConnectTimeout,
    SingleConnectUnexpectedResponse,
    SingleConnectUnreachable,
)
from django_singleconnect.logs import FIELDS
from django_singleconnect.models import SingleConnectConfiguration
from django_singleconnect.simulator import Simulator
from tests.helpers import TOKEN, stopped_node
from tests.test_readme import block

pytestmark = pytest.mark.django_db

# The package as installed (nox runs the suite against the wheel, beside no source tree).
PACKAGE = Path(django_singleconnect.__file__).resolve().parent
LOG_METHODS = {"debug", "info", "warning", "error", "exception", "critical", "log"}


def ours(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [record for record in caplog.records if record.name == "django_singleconnect"]


def extra(record: logging.LogRecord) -> dict[str, Any]:
    return {name: getattr(record, name) for name in FIELDS}


# -- log records ----------------------------------------------------------------------------


def test_every_logger_call_of_the_package_passes_the_fields() -> None:
    found = 0
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and isinstance(node.func.value, ast.Name)
                and node.func.value.id == "logger"
                and node.func.attr in LOG_METHODS
            ):
                continue
            found += 1
            keywords = {keyword.arg: keyword.value for keyword in node.keywords}
            value = keywords.get("extra")
            where = f"{path.name}:{node.lineno}"
            assert isinstance(value, ast.Call), where
            assert isinstance(value.func, ast.Name), where
            assert value.func.id == "fields", where
    assert found >= 10  # the walk saw the package's calls


def test_calls_are_logged_with_their_fields(
    simulator: Simulator, settings: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="django_singleconnect")
    node = simulator.hostname
    client = SingleConnectClient()
    client.otp_status("alice", "192.0.2.1")
    client.otp_valid("alice", TOKEN)  # a wrong code
    simulator.set_fault("error", endpoint="otpvalid")
    with pytest.raises(SingleConnectUnexpectedResponse):
        client.otp_valid("bob", TOKEN)
    simulator.set_fault(None)
    settings.SINGLECONNECT_TIMEOUT = (0.3, 0.2)
    simulator.set_fault("latency", seconds=0.5)
    with pytest.raises(SingleConnectTimeout):
        SingleConnectClient().otp_status("carol", "192.0.2.1")
    simulator.set_fault(None)
    dead = stopped_node()
    with pytest.raises(SingleConnectUnreachable):
        SingleConnectClient(hostname=dead).otp_status("dave", "192.0.2.1")

    records = ours(caplog)
    assert [extra(record) for record in records] == [
        {
            "event": "call",
            "endpoint": "otpstatus",
            "node": node,
            "username": "alice",
            "outcome": "active",
            "status": 200,
            "duration_ms": records[0].duration_ms,
            "cause": None,
        },
        {
            "event": "call",
            "endpoint": "otpvalid",
            "node": node,
            "username": "alice",
            "outcome": "wrong_code",
            "status": 403,
            "duration_ms": records[1].duration_ms,
            "cause": None,
        },
        {
            "event": "call",
            "endpoint": "otpvalid",
            "node": node,
            "username": "bob",
            "outcome": "unexpected_response",
            "status": 500,
            "duration_ms": records[2].duration_ms,
            "cause": "unexpected_response",
        },
        {
            "event": "call",
            "endpoint": "otpstatus",
            "node": node,
            "username": "carol",
            "outcome": "timeout",
            "status": None,
            "duration_ms": records[3].duration_ms,
            "cause": "timeout",
        },
        {
            "event": "call",
            "endpoint": "otpstatus",
            "node": dead,
            "username": "dave",
            "outcome": "unreachable",
            "status": None,
            "duration_ms": records[4].duration_ms,
            "cause": "unreachable",
        },
    ]
    for record in records:
        assert isinstance(record.duration_ms, float)
        assert record.duration_ms >= 0
        # The message says it in words, with the node.
        assert record.getMessage().startswith(f"Single Connect {record.endpoint} for ")
        assert f"node {record.node} in " in record.getMessage()
    assert records[3].duration_ms >= 200  # milliseconds: it waited out the read timeout
    assert "never left" in records[4].getMessage()


def test_every_record_of_the_package_has_every_field(
    simulator: Simulator,
    settings: Any,
    caplog: pytest.LogCaptureFixture,
    signed_in: Client,
    admin_user: Any,
) -> None:
    caplog.set_level(logging.DEBUG, logger="django_singleconnect")
    settings.SINGLECONNECT_CIRCUIT_FAILURES = 1
    settings.SINGLECONNECT_CIRCUIT_RESET_SECONDS = 0.01
    # A code step: the calls, the code's check.
    signed_in.get("/2fa/verify/")
    signed_in.post("/2fa/verify/", {"token": simulator.current_code("alice")})
    # The circuit opens, a call is not made, a trial call closes it.
    simulator.set_fault("error")
    with pytest.raises(SingleConnectUnexpectedResponse):
        SingleConnectClient().otp_status("alice", "192.0.2.1")
    with pytest.raises(SingleConnectCircuitOpen):
        SingleConnectClient().otp_status("alice", "192.0.2.1")
    simulator.set_fault(None)
    time.sleep(0.05)  # past the reset time: the next call is the trial
    assert SingleConnectClient().otp_status("alice", "192.0.2.1") is True
    # No free call slot.
    settings.SINGLECONNECT_MAX_CONCURRENT_CALLS = 1
    settings.SINGLECONNECT_SLOT_WAIT_SECONDS = 0
    with call_slots.slot(1, 0), pytest.raises(SingleConnectBusy):
        SingleConnectClient().otp_status("alice", "192.0.2.1")
    # The policy, the username mapping and the settings log too.
    policy.decide("tests.does_not_exist.policy", admin_user, "root")
    settings.SINGLECONNECT_USERNAME = "tests.does_not_exist.mapping"
    identity.map_username(admin_user, get_config())
    SingleConnectConfiguration(hostname="sc2.example.com").save(changed_by=admin_user)

    records = ours(caplog)
    events = [record.event for record in records]
    for expected in (
        "call",
        "not_called",
        "circuit_opened",
        "circuit_closed",
        "policy_failed",
        "no_username",
        "settings_changed",
    ):
        assert expected in events, expected
    for record in records:
        assert set(FIELDS) <= set(vars(record)), record.getMessage()
        assert record.event is not None
    code_lines = [record for record in records if record.endpoint == "otpvalid"]
    assert code_lines  # the code's check was logged...
    for record in records:  # ...and no field holds a code
        for value in extra(record).values():
            assert not (isinstance(value, str) and value.isdigit() and len(value) == 6)
    not_called = {record.cause for record in records if record.event == "not_called"}
    assert not_called == {"circuit_open", "busy"}
    policy_record = next(record for record in records if record.event == "policy_failed")
    assert policy_record.username == "root"


# -- the signal after every call --------------------------------------------------------------


def test_the_signal_after_a_success(simulator: Simulator, calls: list[dict[str, Any]]) -> None:
    client = SingleConnectClient()
    assert client.otp_status("alice", "192.0.2.1") is True
    assert client.otp_valid("alice", simulator.current_code("alice") or "") is True
    assert [(call["endpoint"], call["outcome"], call["status"]) for call in calls] == [
        ("otpstatus", "active", 200),
        ("otpvalid", "valid", 200),
    ]
    for call in calls:
        assert call["sender"] is SingleConnectClient
        assert call["node"] == simulator.hostname
        assert call["username"] == "alice"
        assert call["error"] is None
        assert isinstance(call["duration"], float)
        assert call["duration"] >= 0


def test_the_signal_after_a_refusal(simulator: Simulator, calls: list[dict[str, Any]]) -> None:
    simulator.inactive.add("bob")
    client = SingleConnectClient()
    assert client.otp_valid("alice", TOKEN) is False  # a wrong code: 403
    assert client.otp_status("bob", "192.0.2.1") is False  # OTP not active
    simulator.set_fault("refuse")  # a 400 for this request
    with pytest.raises(SingleConnectUnexpectedResponse):
        client.otp_status("alice", "192.0.2.1")
    assert [(call["outcome"], call["status"]) for call in calls] == [
        ("wrong_code", 403),
        ("not_active", 200),
        ("unexpected_response", 400),
    ]
    assert isinstance(calls[2]["error"], SingleConnectUnexpectedResponse)


def test_the_signal_after_a_timeout(
    simulator: Simulator, settings: Any, calls: list[dict[str, Any]]
) -> None:
    settings.SINGLECONNECT_TIMEOUT = (0.5, 0.2)
    simulator.set_fault("latency", seconds=0.5)
    with pytest.raises(SingleConnectTimeout):
        SingleConnectClient().otp_valid("alice", TOKEN)
    (call,) = calls
    assert (call["endpoint"], call["outcome"], call["status"]) == ("otpvalid", "timeout", None)
    assert isinstance(call["error"], SingleConnectTimeout)
    assert call["error"].may_have_reached is True
    # A copy: no traceback, no chain, whose frames and requests hold the code and cookies.
    error = call["error"]
    assert (error.__traceback__, error.__cause__, error.__context__) == (None, None, None)
    assert TOKEN not in repr(error.__dict__) + str(error)
    # Seconds, not milliseconds: it waited out the 0.2 s read timeout.
    assert 0.2 <= call["duration"] < 60


def test_the_signal_after_a_connect_failure(calls: list[dict[str, Any]]) -> None:
    dead = stopped_node()
    with pytest.raises(SingleConnectUnreachable):
        SingleConnectClient(hostname=dead).otp_status("alice", "192.0.2.1")
    (call,) = calls
    assert (call["node"], call["outcome"], call["status"]) == (dead, "unreachable", None)
    assert call["error"].may_have_reached is False


def test_no_signal_for_a_call_not_made(
    simulator: Simulator, settings: Any, calls: list[dict[str, Any]]
) -> None:
    settings.SINGLECONNECT_CIRCUIT_FAILURES = 1
    client = SingleConnectClient()
    client.breaker.failed()
    with pytest.raises(SingleConnectCircuitOpen):
        client.otp_status("alice", "192.0.2.1")
    assert calls == []
    assert simulator.call_count() == 0


def test_a_receiver_that_fails_does_not_fail_the_call(
    simulator: Simulator, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(**kwargs: Any) -> None:
        raise RuntimeError("metrics down")

    signals.singleconnect_called.connect(broken)
    try:
        assert SingleConnectClient().otp_status("alice", "192.0.2.1") is True
    finally:
        signals.singleconnect_called.disconnect(broken)
    (record,) = [record for record in ours(caplog) if record.event == "receiver_failed"]
    assert record.levelno == logging.ERROR
    assert (record.node, record.cause) == (simulator.hostname, "RuntimeError")


# -- the README's recipe ----------------------------------------------------------------------


def test_the_prometheus_recipe_as_written(simulator: Simulator) -> None:
    recipe = block("# myproject/metrics.py")
    namespace: dict[str, Any] = {"__name__": "myproject.metrics"}
    exec(compile(recipe, "README.md", "exec"), namespace)  # noqa: S102
    histogram = namespace["SINGLECONNECT_CALLS"]
    try:
        client = SingleConnectClient()
        client.otp_status("alice", "192.0.2.1")
        client.otp_valid("alice", TOKEN)
        with pytest.raises(SingleConnectError):
            SingleConnectClient(hostname=stopped_node()).otp_status("alice", "192.0.2.1")
        registry = prometheus_client.REGISTRY
        name = "singleconnect_call_duration_seconds"

        def count(**labels: str) -> float | None:
            value: float | None = registry.get_sample_value(f"{name}_count", labels)
            return value

        node = simulator.hostname
        assert count(endpoint="otpstatus", node=node, outcome="active") == 1
        assert count(endpoint="otpvalid", node=node, outcome="wrong_code") == 1
        unreachable = [
            sample
            for metric in registry.collect()
            if metric.name == name
            for sample in metric.samples
            if sample.name == f"{name}_count" and sample.labels["outcome"] == "unreachable"
        ]
        assert [sample.value for sample in unreachable] == [1]
        total = registry.get_sample_value(
            f"{name}_sum", {"endpoint": "otpstatus", "node": node, "outcome": "active"}
        )
        assert total is not None
        assert 0 <= total < 60  # seconds
    finally:
        signals.singleconnect_called.disconnect(dispatch_uid="myproject.metrics.observe_call")
        prometheus_client.REGISTRY.unregister(histogram)
