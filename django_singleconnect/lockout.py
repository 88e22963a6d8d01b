"""
Wrong-code counting, shared through the database by every process and host.

An attempt is reserved with one conditional UPDATE before Single Connect is asked, so a
burst of parallel guesses cannot get past ``SINGLECONNECT_MAX_ATTEMPTS``: the database lets
only that many reservations through. A service failure gives its reservation back.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import F, Q
from django.utils import timezone

from .models import AttemptCounter


@dataclass(frozen=True)
class Limits:
    max_attempts: int
    lockout_seconds: int

    @property
    def lockout(self) -> dt.timedelta:
        return dt.timedelta(seconds=self.lockout_seconds)


def _counter(username: str) -> AttemptCounter:
    counter, _ = AttemptCounter.objects.get_or_create(username=username)
    return counter


def _forget_stale(username: str, limits: Limits, now: dt.datetime) -> None:
    """A lockout that ran out, or wrong codes older than the lockout, are forgotten."""
    AttemptCounter.objects.filter(username=username).filter(
        Q(locked_until__lte=now)
        | Q(locked_until__isnull=True, last_attempt_at__lte=now - limits.lockout)
    ).update(failures=0, locked_until=None)


def locked_until(username: str) -> dt.datetime | None:
    """When the lockout of ``username`` ends, or None when the user is not locked out."""
    now = timezone.now()
    return (
        AttemptCounter.objects.filter(username=username, locked_until__gt=now)
        .values_list("locked_until", flat=True)
        .first()
    )


@dataclass(frozen=True)
class Reservation:
    username: str
    granted: bool
    #: Wrong codes still allowed after this one, if this one is wrong too.
    attempts_left: int
    #: Set when the reservation was refused.
    locked_until: dt.datetime | None = None


def reserve(username: str, limits: Limits) -> Reservation:
    """Take one attempt for ``username`` before Single Connect is asked."""
    now = timezone.now()
    _counter(username)
    _forget_stale(username, limits, now)
    granted = AttemptCounter.objects.filter(
        username=username, failures__lt=limits.max_attempts, locked_until__isnull=True
    ).update(failures=F("failures") + 1, last_attempt_at=now)
    counter = AttemptCounter.objects.get(username=username)
    if granted:
        return Reservation(username, True, max(limits.max_attempts - counter.failures, 0))
    # Refused: either locked out, or every remaining attempt is being checked right now.
    return Reservation(username, False, 0, counter.locked_until or now + limits.lockout)


def record_wrong(reservation: Reservation, limits: Limits) -> dt.datetime | None:
    """The code was wrong: keep the attempt; returns the lockout's end if this one started it."""
    until = timezone.now() + limits.lockout
    started = AttemptCounter.objects.filter(
        username=reservation.username,
        failures__gte=limits.max_attempts,
        locked_until__isnull=True,
    ).update(locked_until=until)
    return until if started else None


def give_back(reservation: Reservation, limits: Limits) -> None:
    """Single Connect gave no answer: the attempt does not count."""
    AttemptCounter.objects.filter(username=reservation.username, failures__gt=0).update(
        failures=F("failures") - 1
    )
    # A wrong code checked alongside may have locked the user on the strength of this
    # attempt; with it given back, the count may be under the limit again.
    AttemptCounter.objects.filter(
        username=reservation.username,
        failures__lt=limits.max_attempts,
        locked_until__isnull=False,
    ).update(locked_until=None)


def reset(username: str) -> None:
    """A right code, or staff clearing a lockout: start counting from zero."""
    AttemptCounter.objects.filter(username=username).update(failures=0, locked_until=None)
