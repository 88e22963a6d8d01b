"""
Wrong-code counting, shared through the database by every process and host.

An attempt is reserved with one conditional UPDATE before Single Connect is asked, so a
burst of parallel guesses cannot get past ``SINGLECONNECT_MAX_ATTEMPTS``: the database lets
only that many reservations through. A service failure gives its reservation back.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import IntegrityError, router, transaction
from django.db.models import Case, Exists, F, Q, Subquery, Value, When
from django.utils import timezone

from .models import AttemptCounter


@dataclass(frozen=True)
class Limits:
    max_attempts: int
    lockout_seconds: int
    #: A lockout that starts within this many seconds of the last one continues its series.
    series_seconds: int = 0
    #: The longest a lockout of a series may last.
    max_lockout_seconds: int = 0

    @property
    def lockout(self) -> dt.timedelta:
        return dt.timedelta(seconds=self.lockout_seconds)

    def lockout_for(self, series: int) -> dt.timedelta:
        """The ``series``-th lockout in a row lasts twice the one before, up to the cap."""
        seconds = self.lockout_seconds * 2 ** min(max(series - 1, 0), 32)
        cap = max(self.max_lockout_seconds, self.lockout_seconds)
        return dt.timedelta(seconds=min(seconds, cap))


@dataclass(frozen=True)
class Cleared:
    """What a counter held when it was cleared."""

    username: str
    failures: int
    #: When the lockout in force would have ended; None when there was none.
    locked_until: dt.datetime | None
    lockouts: int

    @classmethod
    def of(cls, row: AttemptCounter, now: dt.datetime) -> Cleared:
        until = row.locked_until if row.locked_until and row.locked_until > now else None
        return cls(row.username, row.failures, until, row.lockouts)

    def describe(self) -> str:
        parts = []
        if self.locked_until is not None:
            parts.append(f"locked until {self.locked_until:%Y-%m-%d %H:%M:%S} UTC")
        if self.failures:
            parts.append(f"{self.failures} wrong code{'s' if self.failures != 1 else ''}")
        if self.lockouts:
            parts.append(f"{self.lockouts} lockout{'s' if self.lockouts != 1 else ''} in a row")
        return ", ".join(parts) or "nothing in force"


def locked_until(username: str) -> dt.datetime | None:
    """When the lockout of ``username`` ends, or None when the user is not locked out."""
    now = timezone.now()
    return (
        AttemptCounter.objects.filter(username=username, locked_until__gt=now)
        .values_list("locked_until", flat=True)
        .first()
    )


def locked_until_subquery(username: str) -> Subquery:
    """``locked_until`` as a subquery, for a SELECT of another table to read it alongside."""
    now = timezone.now()
    return Subquery(
        AttemptCounter.objects.filter(username=username, locked_until__gt=now).values(
            "locked_until"
        )[:1]
    )


@dataclass(frozen=True)
class Reservation:
    username: str
    granted: bool
    #: Set when the reservation was refused because the user is locked out; a refusal
    #: without it means every attempt left is being checked by Single Connect right now.
    locked_until: dt.datetime | None = None


@dataclass(frozen=True)
class WrongCode:
    """What a wrong code left behind."""

    #: Wrong codes still allowed before the lockout.
    attempts_left: int
    #: Set when the user is locked out now, by this code or by one checked alongside it.
    locked_until: dt.datetime | None = None
    #: Whether this code started the lockout.
    started_lockout: bool = False
    #: Lockouts in a row for this username, this one included, when this code started one.
    series: int = 0


def reserve(username: str, limits: Limits, provided: Exists | None = None) -> Reservation:
    """
    Take one attempt for ``username`` before Single Connect is asked: one UPDATE, which
    also forgets a lockout that ran out and wrong codes older than the lockout.
    ``provided``: a further condition, tested in the same statement; when it does not
    hold, nothing is taken and the reservation is refused as when locked out.
    """
    now = timezone.now()
    stale = Q(locked_until__lte=now) | Q(
        locked_until__isnull=True, last_attempt_at__lte=now - limits.lockout
    )
    has_room = Q(locked_until__isnull=True, failures__lt=limits.max_attempts)
    counters = AttemptCounter.objects.filter(username=username)
    takers = counters if provided is None else counters.filter(provided)
    for _ in range(2):
        # MariaDB and MySQL assign SET columns left to right, each seeing the ones before:
        # ``failures`` reads ``locked_until`` and ``last_attempt_at``, so it comes first.
        # (The count is of matched rows there too: Django connects with FOUND_ROWS.)
        granted = takers.filter(stale | has_room).update(
            failures=Case(When(stale, then=Value(1)), default=F("failures") + 1),
            locked_until=None,
            last_attempt_at=now,
        )
        if granted:
            return Reservation(username, True)
        known = counters.values_list("locked_until", flat=True)
        if known:
            # Refused: either locked out, or every attempt left is being checked now.
            return Reservation(username, False, known[0])
        _create_counter(username)
    # The row vanished again (staff deleting counters meanwhile): refuse, never let through.
    return Reservation(username, False)


def _create_counter(username: str) -> None:
    # The first attempt of this user; a request alongside may create the row first.
    try:
        with transaction.atomic(using=router.db_for_write(AttemptCounter)):
            AttemptCounter.objects.create(username=username)
    except IntegrityError:
        pass


def record_wrong(reservation: Reservation, limits: Limits) -> WrongCode:
    """The code was wrong: keep the attempt, and lock the user out at the limit."""
    now = timezone.now()
    counters = AttemptCounter.objects.filter(username=reservation.username)
    in_series = Q(last_lockout_at__gt=now - dt.timedelta(seconds=limits.series_seconds))
    # The lockout starts in this statement, at its shortest; a longer one of a series
    # is set right after, so no code gets in between. ``lockouts`` reads
    # ``last_lockout_at`` before it is set (MariaDB and MySQL assign left to right).
    started = counters.filter(failures__gte=limits.max_attempts, locked_until__isnull=True).update(
        locked_until=now + limits.lockout,
        lockouts=Case(When(in_series, then=F("lockouts") + 1), default=Value(1)),
        last_lockout_at=now,
    )
    series = 0
    if started:
        series = counters.values_list("lockouts", flat=True).first() or 1
        if series > 1:
            counters.filter(last_lockout_at=now).update(
                locked_until=now + limits.lockout_for(series)
            )
    # The row is gone only when staff deleted it meanwhile: a clean slate.
    failures, until = counters.values_list("failures", "locked_until").first() or (0, None)
    if until is not None and until <= now:
        until = None
    return WrongCode(max(limits.max_attempts - failures, 0), until, bool(started), series)


def give_back(reservation: Reservation, limits: Limits) -> None:
    """Single Connect gave no answer: the attempt does not count."""
    AttemptCounter.objects.filter(username=reservation.username, failures__gt=0).update(
        failures=F("failures") - 1
    )
    # A wrong code checked alongside may have locked the user on the strength of this
    # attempt; with it given back, the count may be under the limit again, and that
    # lockout no longer counts in the series either.
    AttemptCounter.objects.filter(
        username=reservation.username,
        failures__lt=limits.max_attempts,
        locked_until__isnull=False,
    ).update(
        locked_until=None,
        lockouts=Case(When(lockouts__gt=0, then=F("lockouts") - 1), default=Value(0)),
    )


def reset(username: str) -> None:
    """A right code, or staff clearing a lockout: start counting from zero, a new series."""
    AttemptCounter.objects.filter(username=username).update(
        failures=0, locked_until=None, lockouts=0
    )
