"""The code budget per Single Connect username: through the API, the views, and in parallel."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.db import connection
from django.db.models import QuerySet
from django.test import Client
from django.test.utils import CaptureQueriesContext

from django_singleconnect import budget, signals
from django_singleconnect.models import CodeBudget, VerificationEvent
from tests.conftest import Clock
from tests.helpers import start_children, stop_children

VERIFY = "/2fa/verify/"
RESEND = "/2fa/resend/"
LIMITS = budget.Limits(per_hour=3, cooldown=60, per_login_hour=2)


def stored(username: str = "bob") -> list[list[Any]]:
    return list(json.loads(CodeBudget.objects.get(username=username).codes))


# -- through the API ------------------------------------------------------------------------------

pytestmark = pytest.mark.django_db


def test_the_first_code_of_a_login_is_taken_once(clock: Clock) -> None:
    assert budget.take("bob", "login-1", LIMITS, first=True).granted
    again = budget.take("bob", "login-1", LIMITS, first=True)
    assert (again.granted, again.refused) == (False, "issued")
    assert budget.take("bob", "login-2", LIMITS, first=True).granted
    assert budget.codes_of_login("bob", "login-1") == [clock.now]


def test_the_budget_counts_every_login_of_the_username(clock: Clock) -> None:
    for number in range(3):
        assert budget.take("bob", f"login-{number}", LIMITS, first=True).granted
        clock.advance(100)
    refused = budget.take("bob", "login-9", LIMITS, first=True)
    assert refused.refused == "budget"
    # The oldest code leaves the hour 3600 s after it was taken: 300 s have passed.
    assert refused.retry_after == 3300
    clock.advance(3300)
    assert budget.take("bob", "login-9", LIMITS, first=True).granted


def test_another_username_keeps_its_own_budget(clock: Clock) -> None:
    for number in range(3):
        budget.take("bob", f"login-{number}", LIMITS, first=True)
    assert budget.take("bob", "login-9", LIMITS, first=True).refused == "budget"
    assert budget.take("carol", "login-9", LIMITS, first=True).granted
    assert len(stored("bob")) == 3
    assert len(stored("carol")) == 1


def test_codes_older_than_an_hour_are_dropped_when_a_code_is_taken(clock: Clock) -> None:
    CodeBudget.objects.create(
        username="bob", codes=json.dumps([[clock.now - 3600, "old"], [clock.now - 3601, "old"]])
    )
    assert budget.take("bob", "login-1", LIMITS, first=True).granted
    assert stored() == [[clock.now, "login-1"]]
    assert budget.codes_of_login("bob", "old") == []


def test_a_new_code_waits_for_the_cooldown_then_stops_at_the_login_cap(clock: Clock) -> None:
    budget.take("bob", "login-1", LIMITS, first=True)
    clock.advance(20)
    cooldown = budget.take("bob", "login-1", LIMITS, first=False)
    assert (cooldown.refused, cooldown.retry_after) == ("cooldown", 40)
    clock.advance(39)
    cooldown = budget.take("bob", "login-1", LIMITS, first=False)
    assert (cooldown.refused, cooldown.retry_after) == ("cooldown", 1)
    clock.advance(1)
    assert budget.take("bob", "login-1", LIMITS, first=False).granted
    clock.advance(60)
    capped = budget.take("bob", "login-1", LIMITS, first=False)
    assert (capped.refused, capped.retry_after) == ("login_cap", 3600 - 120)
    # Another login of the same user still has a code left in the username's budget.
    assert budget.take("bob", "login-2", LIMITS, first=True).granted


def test_give_back_drops_only_that_code(clock: Clock) -> None:
    mine = budget.take("bob", "login-1", LIMITS, first=True)
    budget.take("bob", "login-2", LIMITS, first=True)  # the same second, another login
    budget.take("carol", "login-1", LIMITS, first=True)
    budget.give_back(mine)
    assert stored() == [[clock.now, "login-2"]]
    assert stored("carol") == [[clock.now, "login-1"]]
    budget.give_back(mine)  # twice changes nothing
    assert stored() == [[clock.now, "login-2"]]


def test_a_failed_call_stays_spent_but_the_login_may_ask_again(clock: Clock) -> None:
    taken = budget.take("bob", "login-1", LIMITS, first=True)
    budget.failed(taken)
    assert stored() == [[clock.now, "login-1" + budget.FAILED]]
    assert budget.codes_of_login("bob", "login-1") == []
    assert budget.take("bob", "login-1", LIMITS, first=True).granted
    # Two calls of this login in the hour, the failed one included: the login cap.
    assert budget.take("bob", "login-1", LIMITS, first=True).refused == "issued"
    clock.advance(60)
    assert budget.take("bob", "login-1", LIMITS, first=False).refused == "login_cap"


def test_a_login_whose_calls_keep_failing_ends_on_the_budget_page(clock: Clock) -> None:
    for _ in range(2):
        budget.failed(budget.take("bob", "login-1", LIMITS, first=True))
    assert budget.take("bob", "login-1", LIMITS, first=True).refused == "budget"


def test_a_row_written_by_something_else_refuses(clock: Clock) -> None:
    CodeBudget.objects.create(username="bob", codes="not json")
    refused = budget.take("bob", "login-1", LIMITS, first=True)
    assert refused.refused == "busy"
    budget.give_back(refused)
    budget.failed(refused)
    assert CodeBudget.objects.get().codes == "not json"
    assert budget.codes_of_login("bob", "login-1") == []


def test_give_back_without_a_row_does_nothing() -> None:
    budget.give_back(budget.Taken("bob", "login-1", 1.0))
    assert not CodeBudget.objects.exists()


def test_a_lost_race_reads_again(monkeypatch: pytest.MonkeyPatch, clock: Clock) -> None:
    budget.take("bob", "login-1", LIMITS, first=True)
    real_update = QuerySet.update
    raced: list[bool] = []

    def update(self: QuerySet[Any], **values: Any) -> int:
        if not raced:  # a request alongside takes a code between our read and our write
            raced.append(True)
            real_update(
                CodeBudget.objects.filter(username="bob"),
                codes=json.dumps([[clock.now, "login-1"], [clock.now, "login-2"]]),
                version=99,
            )
        return real_update(self, **values)

    monkeypatch.setattr(QuerySet, "update", update)
    assert budget.take("bob", "login-3", LIMITS, first=True).granted
    assert [login for _, login in stored()] == ["login-1", "login-2", "login-3"]


def test_a_take_that_read_before_a_failed_call_was_filed_reads_again(
    monkeypatch: pytest.MonkeyPatch, clock: Clock
) -> None:
    earlier = budget.take("bob", "login-1", LIMITS, first=True)
    real_refusal = budget._refusal
    raced: list[bool] = []

    def refusal(*args: Any, **kwargs: Any) -> Any:
        if not raced:  # the call of login-1 fails between this take's read and its write
            raced.append(True)
            budget.failed(earlier)
        return real_refusal(*args, **kwargs)

    monkeypatch.setattr(budget, "_refusal", refusal)
    assert budget.take("bob", "login-2", LIMITS, first=True).granted
    assert stored() == [[clock.now, "login-1" + budget.FAILED], [clock.now, "login-2"]]


def test_a_take_alongside_a_give_back_is_never_lost(
    monkeypatch: pytest.MonkeyPatch, clock: Clock
) -> None:
    earlier = budget.take("bob", "login-1", LIMITS, first=True)
    real_refusal = budget._refusal
    raced: list[bool] = []

    def refusal(*args: Any, **kwargs: Any) -> Any:
        if not raced:  # between this take's read and its write: a give-back, then a take
            raced.append(True)
            budget.failed(earlier)
            assert budget.take("bob", "login-3", LIMITS, first=True).granted
        return real_refusal(*args, **kwargs)

    monkeypatch.setattr(budget, "_refusal", refusal)
    assert budget.take("bob", "login-2", LIMITS, first=True).granted
    # Every code counts: the version only ever grows, so no write lands on a stale read.
    assert [login for _, login in stored()] == ["login-1" + budget.FAILED, "login-3", "login-2"]


def test_the_first_code_asked_twice_side_by_side_is_taken_once(
    monkeypatch: pytest.MonkeyPatch, clock: Clock
) -> None:
    budget.take("bob", "login-0", LIMITS, first=True)  # the row exists, at some version
    real_refusal = budget._refusal
    inner: list[budget.Taken] = []
    raced: list[bool] = []

    def refusal(*args: Any, **kwargs: Any) -> Any:
        if not raced:  # the same request again, start to end, between our read and our write
            raced.append(True)
            inner.append(budget.take("bob", "login-1", LIMITS, first=True))
        return real_refusal(*args, **kwargs)

    monkeypatch.setattr(budget, "_refusal", refusal)
    outer = budget.take("bob", "login-1", LIMITS, first=True)
    assert inner[0].granted
    assert outer.refused == "issued"
    assert [login for _, login in stored()] == ["login-0", "login-1"]


def test_a_race_lost_every_round_refuses(monkeypatch: pytest.MonkeyPatch) -> None:
    budget.take("bob", "login-1", LIMITS, first=True)
    monkeypatch.setattr(QuerySet, "update", lambda self, **values: 0)
    assert budget.take("bob", "login-2", LIMITS, first=True).refused == "busy"


def test_a_row_created_alongside_is_used(monkeypatch: pytest.MonkeyPatch) -> None:
    original = budget._create

    def create_twice(username: str) -> None:
        original(username)
        original(username)  # the second one meets the row the first made

    monkeypatch.setattr(budget, "_create", create_twice)
    assert budget.take("bob", "login-1", LIMITS, first=True).granted
    assert CodeBudget.objects.count() == 1


# -- through the views ----------------------------------------------------------------------------


def test_new_logins_do_not_refill_the_budget(
    client: Client, user: Any, login: Any, simulator: Any, settings: Any, clock: Clock
) -> None:
    settings.SINGLECONNECT_MAX_CODES_PER_HOUR = 3
    spent: list[dict[str, Any]] = []
    signals.codes_spent.connect(lambda **kwargs: spent.append(kwargs), weak=False)
    try:
        for _ in range(3):
            login(client)
            assert client.get(VERIFY).status_code == 200
            clock.advance(10)
        login(client)
        response = client.get(VERIFY)
    finally:
        signals.codes_spent.receivers.clear()
    assert response.status_code == 429
    assert response["Retry-After"] == str(3600 - 30)
    assert "Too many codes sent" in response.content.decode()
    assert simulator.call_count("otpstatus") == 3
    assert VerificationEvent.objects.filter(event="codes_spent").count() == 1
    assert [kwargs["retry_after"] for kwargs in spent] == [3570]
    assert spent[0]["username"] == "alice"


def test_resend_is_refused_once_the_budget_is_spent(
    client: Client, user: Any, login: Any, simulator: Any, settings: Any, clock: Clock
) -> None:
    settings.SINGLECONNECT_MAX_CODES_PER_HOUR = 2
    settings.SINGLECONNECT_RESEND_COOLDOWN = 0
    login(client)
    client.get(VERIFY)
    client.post(RESEND)
    assert simulator.call_count("otpstatus") == 2
    response = client.post(RESEND)
    assert response.status_code == 429
    assert simulator.call_count("otpstatus") == 2


def test_a_failed_call_that_never_left_is_given_back(signed_in: Client, settings: Any) -> None:
    settings.SINGLECONNECT_HOSTNAME = "127.0.0.1:1"  # nothing listens: connection refused
    settings.SINGLECONNECT_SCHEME = "http"
    assert signed_in.get(VERIFY).status_code == 503
    assert stored("alice") == []


def test_a_call_that_may_have_reached_the_server_stays_spent(
    signed_in: Client, simulator: Any
) -> None:
    simulator.set_fault("error", endpoint="otpstatus")  # a 500: a text may have gone out
    assert signed_in.get(VERIFY).status_code == 503
    ((_, owner),) = stored("alice")
    assert owner.endswith(budget.FAILED)


def test_the_deny_policy_makes_one_call_however_often_the_page_is_loaded(
    signed_in: Client, simulator: Any, settings: Any
) -> None:
    settings.SINGLECONNECT_OTP_INACTIVE_POLICY = "deny"
    simulator.inactive.add("alice")
    for _ in range(4):
        assert signed_in.get(VERIFY).status_code == 403
    assert simulator.call_count("otpstatus") == 1


# -- in parallel ----------------------------------------------------------------------------------

CHILD = r"""
import json, sys

config = json.loads(sys.argv[1])
import django
from django.conf import settings

settings.DATABASES["default"]["NAME"] = config["database"]
for name, value in config["settings"].items():
    setattr(settings, name, value)
django.setup()

from django.contrib.auth import get_user_model
from django.test import Client

clients = [Client() for _ in range(config["logins"])]
for client in clients:
    client.force_login(get_user_model().objects.get(username="alice"))
print("ready", flush=True)
sys.stdin.readline()
statuses = [client.get("/2fa/verify/").status_code for client in clients for _ in range(2)]
print(json.dumps(statuses), flush=True)
"""


@pytest.mark.django_db(transaction=True)
def test_parallel_logins_stop_at_the_budget(
    django_user_model: Any, simulator: Any, settings: Any
) -> None:
    django_user_model.objects.create_user("alice", password="pw")
    per_hour = 3
    config = {
        "database": connection.settings_dict["NAME"],
        "logins": 3,
        "settings": {
            **simulator.django_settings(),
            "SINGLECONNECT_APPLICATION_NAME": settings.SINGLECONNECT_APPLICATION_NAME,
            "SINGLECONNECT_MAX_CODES_PER_HOUR": per_hour,
        },
    }
    children = start_children(CHILD, config, 4)
    try:
        for child in children:
            assert child.stdout.readline() == "ready\n", child.stderr.read()
        for child in children:  # all at once
            child.stdin.write("go\n")
            child.stdin.flush()
        results: list[int] = []
        for child in children:
            out, err = child.communicate(timeout=30)
            assert child.returncode == 0, err
            results.extend(json.loads(out))
    finally:
        stop_children(children)
    # 12 logins, each loading the code page twice: three codes in all, never more.
    assert simulator.call_count("otpstatus") == per_hour
    assert results.count(200) == 2 * per_hour
    assert set(results) == {200, 429}


def test_a_row_read_before_is_used_once_then_read_again(clock: Clock) -> None:
    """``known`` spares the first read; when another request wrote the row since, the
    compare-and-swap fails and the row is read again: nothing is lost."""
    assert budget.take("bob", "login-1", LIMITS, first=True).granted
    known = budget.read("bob")
    assert budget.take("bob", "login-2", LIMITS, first=True).granted  # alongside
    clock.advance(1)
    assert budget.take("bob", "login-3", LIMITS, first=True, known=known).granted
    assert [login for _, login in stored()] == ["login-1", "login-2", "login-3"]
    # Read just now, it is the only read.
    known = budget.read("bob")
    with CaptureQueriesContext(connection) as queries:
        assert budget.take("bob", "login-4", LIMITS, first=False, known=known).refused
    assert len(queries) == 0  # refused by the row read before: the budget is spent


def test_a_first_code_taken_alongside_shows_the_form_without_a_call(
    signed_in: Client, simulator: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The request saw no code yet, but one alongside took this login's first code meanwhile.
    monkeypatch.setattr(
        budget,
        "take",
        lambda username, login, limits, first, known: budget.Taken(username, login, 1.0, "issued"),
    )
    response = signed_in.get(VERIFY)
    assert response.status_code == 200
    assert 'name="token"' in response.content.decode()
    assert simulator.call_count("otpstatus") == 0


def test_a_budget_row_too_contended_is_a_503_without_a_call(
    signed_in: Client, simulator: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(QuerySet, "update", lambda self, **values: 0)
    response = signed_in.get(VERIFY)
    assert response.status_code == 503
    assert simulator.call_count("otpstatus") == 0
    assert VerificationEvent.objects.get().detail == "busy"


def test_issued_in_a_login_asks_for_that_login_of_that_user_alone(clock: Clock) -> None:
    def issued(username: str, login: str) -> bool:
        # The subquery alone, as the attempt's UPDATE tests it.
        return CodeBudget.objects.filter(budget.issued_subquery(username, login)).exists()

    assert budget.take("alice", "L1-x", LIMITS, first=True).granted
    budget.failed(budget.take("carol", "L3", LIMITS, first=True))  # spent, but no code of L3
    assert issued("alice", "L1-x")
    assert not issued("alice", "L1")  # a prefix of the login is another login
    assert not issued("alice", "L1_x")  # "_" is no wildcard
    assert not issued("alice", "L1-x!")
    assert not issued("bob", "L1-x")  # another user, with no row
    assert not issued("carol", "L3")  # its call failed
    assert budget.take("bob", "L2", LIMITS, first=True).granted
    assert not issued("bob", "L1-x")  # another user's row, which holds other logins
    assert not issued("alice", "L2")
