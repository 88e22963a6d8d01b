"""
What ``manage.py singleconnect_prune`` deletes: rows that can no longer count for anything.

- Audit rows older than ``SINGLECONNECT_AUDIT_RETENTION_DAYS``, except the newest change of
  each settings field: the trace of who set the value in force is kept however old it is.
- Used codes past ``SINGLECONNECT_REPLAY_SECONDS`` (the replay guard looks only inside it).
- Wrong-code counters with no lockout, no wrong code in the lockout window and no lockout in
  the series window, and code budgets with no code in the past hour, each an hour (``GRACE``)
  past its window: so a live lockout, an in-window count or a growing series is never lost.
- Remembered browsers that expired.

Each delete states its condition again, so a row that came back to life since it was counted
(a new wrong code, a new code taken) stays. Rows go in batches, so no delete holds a long lock.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from django.db.models import Model, Q
from django.utils import timezone

from ..budget import HOUR, holds_no_code_since
from ..conf import Settings
from ..logs import fields
from ..models import (
    AttemptCounter,
    CodeBudget,
    RememberedBrowser,
    SingleConnectConfiguration,
    UsedCode,
    VerificationEvent,
)

logger = logging.getLogger("django_singleconnect")

BATCH_SIZE = 500
#: How long past its window a counter is kept: a margin for the clocks of several hosts, and
#: for a lockout length raised in the admin meanwhile.
GRACE = dt.timedelta(hours=1)


@dataclass(frozen=True)
class Pruned:
    """How many rows of one kind were deleted (or, in a dry run, would be)."""

    name: str
    description: str
    count: int


def kept_settings_changes() -> set[int]:
    """The newest "Settings changed" row of each settings field."""
    wanted = set(SingleConnectConfiguration.FIELD_SETTINGS)
    kept: set[int] = set()
    rows = (
        VerificationEvent.objects.filter(event=VerificationEvent.Kind.SETTINGS_CHANGED)
        .order_by("-created_at", "-pk")
        .values_list("pk", "changes")
    )
    for pk, changes in rows.iterator():
        fields = wanted.intersection(changes or {})
        if fields:
            kept.add(pk)
            wanted -= fields
        if not wanted:
            break
    return kept


def _audit_condition(config: Settings, now: dt.datetime) -> Q:
    cutoff = now - dt.timedelta(days=config.AUDIT_RETENTION_DAYS)
    return Q(created_at__lt=cutoff) & ~Q(pk__in=kept_settings_changes())


def _used_code_condition(config: Settings, now: dt.datetime) -> Q:
    # The replay guard's own rule (replay.purge_now_and_then).
    return Q(created_at__lte=now - dt.timedelta(seconds=config.REPLAY_SECONDS))


def _counter_condition(config: Settings, now: dt.datetime) -> Q:
    """
    A counter that holds nothing any more. ``last_attempt_at`` is set by every reservation,
    so a row without one is one being created right now, for an attempt: never taken.
    """
    lockout_ended = Q(locked_until__isnull=True) | Q(locked_until__lte=now - GRACE)
    attempts_over = Q(
        last_attempt_at__lte=now - dt.timedelta(seconds=config.LOCKOUT_SECONDS) - GRACE
    )
    series_over = Q(last_lockout_at__isnull=True) | Q(
        last_lockout_at__lte=now - dt.timedelta(seconds=config.LOCKOUT_SERIES_SECONDS) - GRACE
    )
    return lockout_ended & attempts_over & series_over


def _browser_condition(config: Settings, now: dt.datetime) -> Q:
    return Q(expires_at__lte=now)


def _delete_in_batches(model: type[Model], condition: Q, batch_size: int) -> int:
    deleted = 0
    manager: Any = model._default_manager
    while True:
        batch = list(
            manager.filter(condition).order_by("pk").values_list("pk", flat=True)[:batch_size]
        )
        if not batch:
            return deleted
        _, per_model = manager.filter(condition, pk__in=batch).delete()
        deleted += int(per_model.get(model._meta.label, 0))
        if len(batch) < batch_size:
            return deleted


def _stale_budgets(batch_size: int) -> Iterator[list[tuple[int, int]]]:
    """
    ``(pk, version)`` of the budgets with no code in the past hour, a batch at a time. The
    codes are JSON in a text column, so they are read here, not in SQL.
    """
    cutoff = time.time() - HOUR - GRACE.total_seconds()
    last = 0
    while True:
        rows = list(
            CodeBudget.objects.filter(pk__gt=last)
            .order_by("pk")
            .values_list("pk", "codes", "version")[:batch_size]
        )
        if not rows:
            return
        last = rows[-1][0]
        stale = [(pk, version) for pk, text, version in rows if holds_no_code_since(text, cutoff)]
        if stale:
            yield stale
        if len(rows) < batch_size:
            return


def _prune_budgets(dry_run: bool, batch_size: int) -> int:
    count = 0
    for stale in _stale_budgets(batch_size):
        if dry_run:
            count += len(stale)
            continue
        # Compare-and-swap, as budget.take does: a code taken since the read bumped the
        # version, and that row stays.
        condition = Q(pk__in=[])
        for pk, version in stale:
            condition |= Q(pk=pk, version=version)
        deleted, _ = CodeBudget.objects.filter(condition).delete()
        count += deleted
    return count


Condition = Callable[[Settings, dt.datetime], Q]

#: name, description (with the config's values), model and condition of each kind of row.
KINDS: tuple[tuple[str, Callable[[Settings], str], type[Model], Condition], ...] = (
    (
        "audit_events",
        lambda config: f"audit events older than {config.AUDIT_RETENTION_DAYS} days",
        VerificationEvent,
        _audit_condition,
    ),
    (
        "used_codes",
        lambda config: f"used codes older than {config.REPLAY_SECONDS} seconds",
        UsedCode,
        _used_code_condition,
    ),
    (
        "attempt_counters",
        lambda config: "wrong-code counters with no lockout or count in force",
        AttemptCounter,
        _counter_condition,
    ),
    (
        "remembered_browsers",
        lambda config: "remembered browsers that expired",
        RememberedBrowser,
        _browser_condition,
    ),
)


def prune(config: Settings, *, dry_run: bool = False, batch_size: int = BATCH_SIZE) -> list[Pruned]:
    """Delete what can no longer count (or, with ``dry_run``, count it); one line per kind."""
    if batch_size < 1:
        raise ValueError("batch_size must be 1 or more")
    now = timezone.now()
    results = []
    for name, describe, model, condition_for in KINDS:
        condition = condition_for(config, now)
        manager: Any = model._default_manager
        if dry_run:
            count = manager.filter(condition).count()
        else:
            count = _delete_in_batches(model, condition, batch_size)
        results.append(Pruned(name, describe(config), count))
    results.insert(
        3,
        Pruned(
            "code_budgets",
            "code budgets with no code in the past hour",
            _prune_budgets(dry_run, batch_size),
        ),
    )
    if not dry_run:
        logger.info(
            "Single Connect prune: %s",
            ", ".join(f"{result.count} {result.name}" for result in results),
            extra=fields("pruned", outcome="deleted"),
        )
    return results
