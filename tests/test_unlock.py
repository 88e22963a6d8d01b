"""``manage.py singleconnect_unlock``: lockouts cleared, each in the audit log, nothing else."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django.utils import timezone

from django_singleconnect import budget, lockout
from django_singleconnect.models import (
    AttemptCounter,
    CodeBudget,
    RememberedBrowser,
    VerificationEvent,
)
from django_singleconnect.operations import unlock as unlock_module
from django_singleconnect.simulator import Simulator

pytestmark = pytest.mark.django_db

LIMITS = lockout.Limits(max_attempts=3, lockout_seconds=900)
Kind = VerificationEvent.Kind


def employee_number(user: Any) -> str:
    return f"E-{user.pk}"


def no_name(user: Any) -> None:
    return None


def lock(key: str, wrong: int = 3) -> None:
    for _ in range(wrong):
        lockout.record_wrong(lockout.reserve(key, LIMITS), LIMITS)


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("singleconnect_unlock", *args, stdout=out)
    return out.getvalue()


@pytest.fixture(autouse=True)
def _os_user(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(unlock_module.getpass, "getuser", lambda: "oncall")


def cleared_events() -> list[tuple[str, str]]:
    return list(
        VerificationEvent.objects.filter(event=Kind.LOCKOUT_CLEARED)
        .order_by("pk")
        .values_list("username", "detail")
    )


def test_a_lockout_is_cleared_and_recorded(caplog: pytest.LogCaptureFixture) -> None:
    lock("bob")
    until = lockout.locked_until("bob")
    assert until is not None
    output = run("bob")
    assert output == (
        f"Cleared 'bob': locked until {until:%Y-%m-%d %H:%M:%S} UTC, 3 wrong codes, "
        "1 lockout in a row.\n"
    )
    assert lockout.locked_until("bob") is None
    assert lockout.reserve("bob", LIMITS).granted
    ((username, detail),) = cleared_events()
    assert username == "bob"
    assert detail.startswith("by singleconnect_unlock (OS user oncall): locked until ")
    event = VerificationEvent.objects.get(event=Kind.LOCKOUT_CLEARED)
    assert event.user is None
    assert [record.getMessage() for record in caplog.records] == [
        f"Lockout of 'bob' cleared {detail}"
    ]


def test_the_name_is_normalised_as_the_counters_are() -> None:
    lock("vic")
    assert run("Vic").startswith("Cleared 'vic': locked until")
    assert lockout.locked_until("vic") is None


def test_a_django_username_is_mapped_first(settings: Any, django_user_model: Any) -> None:
    settings.SINGLECONNECT_USERNAME = "tests.test_unlock.employee_number"
    dora = django_user_model.objects.create_user("dora")
    lock(f"e-{dora.pk}")
    lock("dora")  # someone whose Single Connect name is "dora": not this one
    output = run("dora")
    assert output.splitlines()[0] == f"The Django user 'dora' is 'E-{dora.pk}' in Single Connect."
    assert output.splitlines()[1].startswith(f"Cleared 'e-{dora.pk}': locked until")
    assert lockout.locked_until(f"e-{dora.pk}") is None
    assert lockout.locked_until("dora") is not None
    # --as-is takes the name as it is.
    assert run("dora", "--as-is").startswith("Cleared 'dora': locked until")
    assert lockout.locked_until("dora") is None


def test_a_django_user_without_a_single_connect_name_is_refused(
    settings: Any, django_user_model: Any
) -> None:
    settings.SINGLECONNECT_USERNAME = "tests.test_unlock.no_name"
    django_user_model.objects.create_user("erin")
    lock("erin")
    with pytest.raises(CommandError, match="gives no Single Connect name for the Django user"):
        run("erin")
    assert lockout.locked_until("erin") is not None
    assert cleared_events() == []


def test_nothing_to_clear_writes_nothing() -> None:
    AttemptCounter.objects.create(username="frank", last_attempt_at=timezone.now())
    assert run("frank") == "Nothing to clear for 'frank': no lockout, no wrong code.\n"
    assert run("nobody") == "Nothing to clear for 'nobody': no lockout, no wrong code.\n"
    assert cleared_events() == []


def test_wrong_codes_without_a_lockout_are_cleared_too() -> None:
    lock("gina", wrong=2)
    assert run("gina") == "Cleared 'gina': 2 wrong codes.\n"
    assert AttemptCounter.objects.get(username="gina").failures == 0


def test_an_ended_lockout_ends_its_series() -> None:
    lock("hal")
    AttemptCounter.objects.filter(username="hal").update(
        locked_until=timezone.now() - dt.timedelta(minutes=1)
    )
    assert run("hal") == "Cleared 'hal': 3 wrong codes, 1 lockout in a row.\n"
    assert AttemptCounter.objects.get(username="hal").lockouts == 0


def test_all_clears_every_lockout_in_force_and_only_those() -> None:
    lock("ivy")
    lock("jack")
    lock("kim", wrong=2)  # not locked out: its count stays
    output = run("--all")
    lines = output.splitlines()
    assert [line.split(":")[0] for line in lines[:2]] == ["Cleared 'ivy'", "Cleared 'jack'"]
    assert lines[2] == "Cleared 2 lockouts."
    assert [username for username, _ in cleared_events()] == ["ivy", "jack"]
    assert AttemptCounter.objects.get(username="kim").failures == 2
    assert run("--all") == "No lockout in force.\n"


@pytest.mark.parametrize("args", [(), ("bob", "--all")])
def test_a_username_or_all(args: tuple[str, ...]) -> None:
    with pytest.raises(CommandError, match="Give either a USERNAME or --all"):
        run(*args)


def test_it_revokes_nothing_else(user: Any) -> None:
    lock("alice")
    assert budget.take("alice", "login", budget.Limits(10, 60, 5), first=True).granted
    RememberedBrowser.objects.create(
        user=user,
        username="alice",
        secret_digest="s" * 64,
        password_digest="p" * 64,
        expires_at=timezone.now() + dt.timedelta(days=1),
    )
    codes = CodeBudget.objects.get(username="alice").codes
    run("alice")
    assert CodeBudget.objects.get(username="alice").codes == codes
    assert RememberedBrowser.objects.count() == 1


def test_the_os_user_may_have_no_name(monkeypatch: pytest.MonkeyPatch) -> None:
    def nameless() -> str:
        raise KeyError("getpwuid(): uid not found")

    monkeypatch.setattr(unlock_module.getpass, "getuser", nameless)
    assert unlock_module.operator().startswith("uid ")


def lockout_end() -> str:
    until = AttemptCounter.objects.get(username="alice").locked_until
    assert until is not None
    return f"{until:%Y-%m-%d %H:%M:%S} UTC"


def test_a_user_locked_out_on_the_code_page_gets_back_in(
    signed_in: Client, simulator: Simulator, settings: Any
) -> None:
    settings.SINGLECONNECT_MAX_ATTEMPTS = 2
    assert signed_in.get("/2fa/verify/").status_code == 200
    for _ in range(2):
        signed_in.post("/2fa/verify/", {"token": "000000"})
    assert signed_in.get("/2fa/verify/").status_code == 429
    until = lockout_end()
    assert run("alice").splitlines() == [
        "The Django user 'alice' is 'alice' in Single Connect.",
        f"Cleared 'alice': locked until {until}, 2 wrong codes, 1 lockout in a row.",
    ]
    code = simulator.current_code("alice")
    assert code is not None
    response = signed_in.post("/2fa/verify/", {"token": code})
    assert response.status_code == 302
    kinds = list(VerificationEvent.objects.order_by("pk").values_list("event", flat=True))
    assert kinds[-3:] == [Kind.LOCKED_OUT, Kind.LOCKOUT_CLEARED, Kind.VERIFIED]


def test_what_a_clearance_says() -> None:
    cleared = unlock_module.Cleared
    assert cleared("x", 0, None, 2).describe() == "2 lockouts in a row"
    assert cleared("x", 1, None, 0).describe() == "1 wrong code"
