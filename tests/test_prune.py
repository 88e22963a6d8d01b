"""``manage.py singleconnect_prune``: what can no longer count goes, nothing that can stays."""

from __future__ import annotations

import datetime as dt
import io
import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from django_singleconnect import budget, lockout
from django_singleconnect.models import (
    AttemptCounter,
    CodeBudget,
    RememberedBrowser,
    SingleConnectConfiguration,
    UsedCode,
    VerificationEvent,
)
from django_singleconnect.operations import prune as prune_module

pytestmark = pytest.mark.django_db

Kind = VerificationEvent.Kind
DAY = dt.timedelta(days=1)


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("singleconnect_prune", *args, stdout=out)
    return out.getvalue()


def counts(output: str) -> dict[str, int]:
    """``{description: count}`` from the command's lines."""
    found = {}
    for line in output.splitlines()[1:]:
        number, _, description = line.strip().partition("  ")
        found[description.strip()] = int(number)
    return found


def event(age: dt.timedelta, kind: str = Kind.FAILED, **fields: Any) -> VerificationEvent:
    row = VerificationEvent.objects.create(username="alice", event=kind, **fields)
    VerificationEvent.objects.filter(pk=row.pk).update(created_at=timezone.now() - age)
    return row


def test_old_audit_events_go_and_recent_ones_stay(settings: Any) -> None:
    settings.SINGLECONNECT_AUDIT_RETENTION_DAYS = 30
    old = [event(31 * DAY) for _ in range(3)]
    recent = event(29 * DAY)
    output = run()
    assert output.splitlines()[0] == "Deleted:"
    assert counts(output)["audit events older than 30 days"] == 3
    assert list(VerificationEvent.objects.values_list("pk", flat=True)) == [recent.pk]
    assert not VerificationEvent.objects.filter(pk__in=[row.pk for row in old]).exists()


def test_the_default_retention_is_a_year() -> None:
    event(364 * DAY)
    gone = event(366 * DAY)
    assert counts(run())["audit events older than 365 days"] == 1
    assert not VerificationEvent.objects.filter(pk=gone.pk).exists()
    assert VerificationEvent.objects.count() == 1


def test_the_newest_change_of_each_settings_field_is_kept(settings: Any) -> None:
    settings.SINGLECONNECT_AUDIT_RETENTION_DAYS = 30
    # Saved through the model, as the admin does: each save writes its "Settings changed" row.
    SingleConnectConfiguration(hostname="sc1.example.com").save()
    SingleConnectConfiguration(hostname="sc2.example.com", enforce="all").save()
    SingleConnectConfiguration(hostname="sc3.example.com", enforce="all").save()
    first, second, third = VerificationEvent.objects.order_by("pk")
    assert [row.event for row in (first, second, third)] == [Kind.SETTINGS_CHANGED] * 3
    VerificationEvent.objects.update(created_at=timezone.now() - 400 * DAY)
    assert counts(run())["audit events older than 30 days"] == 1
    # The hostname's newest change is the third row, the enforce's the second: both stay.
    assert set(VerificationEvent.objects.values_list("pk", flat=True)) == {second.pk, third.pk}


def test_the_newest_change_of_every_field_at_once_keeps_one_row() -> None:
    every = {
        "hostname": "sc1.example.com",
        "application_name": "intranet",
        "enforce": "all",
        "otp_inactive_policy": "deny",
        "max_attempts": 3,
        "lockout_seconds": 60,
        "resend_cooldown": 10,
    }
    assert set(every) == set(SingleConnectConfiguration.FIELD_SETTINGS)
    SingleConnectConfiguration(**every).save()
    SingleConnectConfiguration(
        **{
            **every,
            "hostname": "sc2.example.com",
            "max_attempts": 4,
            "application_name": "other",
            "enforce": "decorated",
            "otp_inactive_policy": "allow",
            "lockout_seconds": 61,
            "resend_cooldown": 11,
        }
    ).save()
    newest = VerificationEvent.objects.order_by("pk").last()
    assert newest is not None
    VerificationEvent.objects.update(created_at=timezone.now() - 400 * DAY)
    assert counts(run())["audit events older than 365 days"] == 1
    assert list(VerificationEvent.objects.values_list("pk", flat=True)) == [newest.pk]


def test_old_used_codes_go(settings: Any) -> None:
    settings.SINGLECONNECT_REPLAY_SECONDS = 600
    old = UsedCode.objects.create(digest="a" * 64)
    fresh = UsedCode.objects.create(digest="b" * 64)
    UsedCode.objects.filter(pk=old.pk).update(created_at=timezone.now() - dt.timedelta(hours=1))
    assert counts(run())["used codes older than 600 seconds"] == 1
    assert list(UsedCode.objects.values_list("pk", flat=True)) == [fresh.pk]


def counter(name: str, **fields: Any) -> AttemptCounter:
    return AttemptCounter.objects.create(username=name, **fields)


COUNTERS = "wrong-code counters with no lockout or count in force"


def test_only_counters_that_hold_nothing_go(settings: Any) -> None:
    settings.SINGLECONNECT_LOCKOUT_SECONDS = 900
    settings.SINGLECONNECT_LOCKOUT_SERIES_SECONDS = 86400
    now = timezone.now()
    long_ago = now - 3 * DAY
    counter("stale", failures=3, last_attempt_at=long_ago)
    counter(
        "stale-lockout",
        failures=5,
        last_attempt_at=long_ago,
        locked_until=long_ago,
        lockouts=1,
        last_lockout_at=long_ago,
    )
    kept = {
        # A lockout in force, however old its last attempt.
        counter(
            "locked",
            failures=5,
            last_attempt_at=long_ago,
            locked_until=now + DAY,
            lockouts=3,
            last_lockout_at=long_ago,
        ).username,
        # Wrong codes inside the lockout window still count.
        counter("counting", failures=4, last_attempt_at=now - dt.timedelta(minutes=5)).username,
        # Just past the window: within the grace.
        counter("grace", failures=4, last_attempt_at=now - dt.timedelta(minutes=20)).username,
        # A lockout that ended, but its series goes on: the next one would be longer.
        counter(
            "series",
            failures=5,
            last_attempt_at=now - dt.timedelta(hours=5),
            locked_until=now - dt.timedelta(hours=4),
            lockouts=2,
            last_lockout_at=now - dt.timedelta(hours=5),
        ).username,
        # Being created for an attempt right now.
        counter("new").username,
    }
    assert counts(run())[COUNTERS] == 2
    assert set(AttemptCounter.objects.values_list("username", flat=True)) == kept
    assert lockout.locked_until("locked") is not None


def test_a_lockout_made_by_the_code_page_survives_a_prune() -> None:
    limits = lockout.Limits(max_attempts=2, lockout_seconds=60)
    for _ in range(2):
        lockout.record_wrong(lockout.reserve("mallory", limits), limits)
    until = lockout.locked_until("mallory")
    assert until is not None
    # Even with the last attempt made to look old: the lockout itself is in force.
    AttemptCounter.objects.update(last_attempt_at=timezone.now() - 30 * DAY)
    assert counts(run())[COUNTERS] == 0
    assert lockout.locked_until("mallory") == until
    assert not lockout.reserve("mallory", limits).granted


def budget_row(name: str, *ages: float) -> CodeBudget:
    now = time.time()
    codes = [[now - age, "login"] for age in ages]
    return CodeBudget.objects.create(username=name, codes=json.dumps(codes), version=3)


BUDGETS = "code budgets with no code in the past hour"


def test_only_budgets_with_no_code_in_the_hour_go() -> None:
    budget_row("old", 3 * 3600, 4 * 3600)
    budget_row("empty")
    kept = {
        budget_row("recent", 10).username,
        budget_row("mixed", 10, 5 * 3600).username,
        budget_row("grace", 3600 + 60).username,
        CodeBudget.objects.create(username="garbled", codes="not json").username,
    }
    assert counts(run())[BUDGETS] == 2
    assert set(CodeBudget.objects.values_list("username", flat=True)) == kept


def test_a_budget_that_took_a_code_since_it_was_read_stays(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    budget_row("alice", 3 * 3600)
    read = prune_module._stale_budgets

    def read_then_take(batch_size: int) -> Iterator[list[tuple[int, int]]]:
        for stale in read(batch_size):
            # A login takes a code between the read and the delete.
            assert budget.take("alice", "new", budget.Limits(10, 60, 5), first=True).granted
            yield stale

    monkeypatch.setattr(prune_module, "_stale_budgets", read_then_take)
    assert counts(run())[BUDGETS] == 0
    assert len(budget.codes_of_login("alice", "new")) == 1


def browser(user: Any, expires: dt.timedelta) -> RememberedBrowser:
    return RememberedBrowser.objects.create(
        user=user,
        username="alice",
        secret_digest="s" * 64,
        password_digest="p" * 64,
        expires_at=timezone.now() + expires,
    )


def test_expired_remembered_browsers_go(user: Any) -> None:
    browser(user, -DAY)
    live = browser(user, DAY)
    assert counts(run())["remembered browsers that expired"] == 1
    assert list(RememberedBrowser.objects.values_list("pk", flat=True)) == [live.pk]


def test_a_dry_run_counts_and_deletes_nothing(user: Any) -> None:
    event(400 * DAY)
    event(400 * DAY)
    UsedCode.objects.create(digest="a" * 64)
    UsedCode.objects.update(created_at=timezone.now() - DAY)
    counter("stale", failures=1, last_attempt_at=timezone.now() - 3 * DAY)
    budget_row("old", 3 * 3600)
    browser(user, -DAY)
    output = run("--dry-run")
    assert output.splitlines() == [
        "Would delete:",
        "  2  audit events older than 365 days",
        "  1  used codes older than 600 seconds",
        "  1  wrong-code counters with no lockout or count in force",
        "  1  code budgets with no code in the past hour",
        "  1  remembered browsers that expired",
    ]
    assert VerificationEvent.objects.count() == 2
    assert UsedCode.objects.count() == 1
    assert AttemptCounter.objects.count() == 1
    assert CodeBudget.objects.count() == 1
    assert RememberedBrowser.objects.count() == 1
    # The same counts, deleted for real.
    assert run().splitlines()[1:] == output.splitlines()[1:]
    assert VerificationEvent.objects.count() == 0
    assert run("--dry-run").splitlines()[1:] == [
        "  0  audit events older than 365 days",
        "  0  used codes older than 600 seconds",
        "  0  wrong-code counters with no lockout or count in force",
        "  0  code budgets with no code in the past hour",
        "  0  remembered browsers that expired",
    ]


def test_batches_delete_everything() -> None:
    for _ in range(5):
        event(400 * DAY)
    for number in range(5):
        budget_row(f"old{number}", 3 * 3600)
    output = run("--batch-size", "2")
    assert counts(output)["audit events older than 365 days"] == 5
    assert counts(output)[BUDGETS] == 5
    assert VerificationEvent.objects.count() == 0
    assert CodeBudget.objects.count() == 0


def test_batches_with_nothing_stale_in_them() -> None:
    for number in range(3):
        budget_row(f"recent{number}", 10)
    budget_row("old", 3 * 3600)
    assert counts(run("--batch-size", "2"))[BUDGETS] == 1
    assert CodeBudget.objects.count() == 3


def test_a_bad_batch_size_is_refused() -> None:
    with pytest.raises(CommandError, match="--batch-size must be 1 or more"):
        run("--batch-size", "0")
    with pytest.raises(ValueError, match="batch_size"):
        prune_module.prune(prune_module.Settings(), batch_size=0)
