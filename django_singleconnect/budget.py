"""
Codes issued per Single Connect username, shared through the database by every process and
host, so that someone holding only the password cannot make Single Connect send codes
without end: not by signing in again, nor by opening tabs, nor by sending requests side by
side.

A code is taken *before* ``otpstatus`` is called, by a compare-and-swap on the row's
``version``: of requests racing for the same row, one UPDATE wins each round and the others
read again. Three limits are checked in that one step:

- ``SINGLECONNECT_MAX_CODES_PER_HOUR`` for the username, over any rolling hour;
- the first code of a login is taken once only, however many requests ask for it at once;
- a further code of a login needs ``SINGLECONNECT_RESEND_COOLDOWN`` seconds since the last,
  and at most ``SINGLECONNECT_MAX_CHALLENGES_PER_HOUR`` codes for that login in an hour.

None of it lives in the session, so a replayed session cookie changes nothing.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from django.db import IntegrityError, router, transaction
from django.db.models import Exists, Subquery

from .models import CodeBudget

HOUR = 3600.0
#: Rounds of the compare-and-swap before a request gives up. Losing a round means another
#: request took a code in the meantime; giving up refuses, it never lets a call through.
ROUNDS = 8

#: Appended to the login of a code whose call failed: it stays spent, but it is not the
#: login's code, so the code page may ask again (within the limits).
FAILED = "!"

Refusal = Literal["", "issued", "cooldown", "login_cap", "budget", "busy"]


@dataclass(frozen=True)
class Limits:
    per_hour: int
    cooldown: int
    per_login_hour: int


@dataclass(frozen=True)
class Outlook:
    """A login's codes, and what "Send a new code" would meet now: what the code page shows."""

    #: When each code of this login was issued in the past hour, the oldest first.
    issued: tuple[float, ...]
    #: "" when a new code would be sent; else "cooldown", "login_cap" or "budget".
    refused: Refusal = ""
    #: Seconds until it would be sent, when refused.
    wait: int = 0


@dataclass(frozen=True)
class Taken:
    """The outcome of ``take``: a code was taken when ``refused`` is empty."""

    username: str
    login: str
    at: float
    refused: Refusal = ""
    #: Seconds until a code may be taken again, when refused for a limit.
    retry_after: int = 0
    #: The login's outlook once this code is taken (when granted), read with it.
    outlook: Outlook | None = None

    @property
    def granted(self) -> bool:
        return not self.refused


Codes = list[tuple[float, str]]


def _load(text: str) -> Codes | None:
    """The row's codes, or None when something else wrote it: then it refuses, never forgets."""
    try:
        return [(float(at), str(login)) for at, login in json.loads(text)]
    except (TypeError, ValueError):
        return None


def _dump(codes: Codes) -> str:
    return json.dumps([[round(at, 3), login] for at, login in codes])


def _recent(codes: Codes, now: float) -> Codes:
    return [(at, login) for at, login in codes if now - at < HOUR]


#: A budget row as ``read`` gives it: its codes (JSON) and its version; None: no row yet.
Row = tuple[str, int] | None


def read(username: str) -> Row:
    """The row of ``username``, for ``issued_in`` and as ``take``'s first read."""
    return CodeBudget.objects.filter(username=username).values_list("codes", "version").first()


def read_with(username: str, alongside: Subquery) -> tuple[Row, Any]:
    """``read``, and the value of ``alongside`` (a subquery) in the same SELECT."""
    found = (
        CodeBudget.objects.filter(username=username)
        .annotate(alongside=alongside)
        .values_list("codes", "version", "alongside")
        .first()
    )
    return (None, None) if found is None else ((found[0], found[1]), found[2])


def issued_subquery(username: str, login: str) -> Exists:
    """
    Whether a code was issued in the login ``login`` of ``username`` (one whose call did
    not fail), as a subquery for a statement of another table to test alongside.
    Unlike ``issued_in`` it does not look at the hour: a login whose step outlives
    ``SINGLECONNECT_PENDING_TIMEOUT`` has ended before (ten minutes by default); with a
    longer one, a code older than an hour is still this login's code, and Single Connect
    says whether it is still good. Either way the attempt is counted first.
    """
    # The row keeps its codes as JSON: this login's are the entries ``"<login>"``, with
    # the quotes (a failed one's is ``"<login>!"``). A login name never needs JSON escaping,
    # and Django escapes LIKE's ``_``. SQLite's LIKE ignores case: two logins of one user
    # whose random names differ only by case (odds near 1e-25) would count as one here, and
    # the attempt is still counted and checked by Single Connect.
    return Exists(CodeBudget.objects.filter(username=username, codes__contains=json.dumps(login)))


def issued_in(row: Row, login: str) -> list[float]:
    """When each code of this login was issued in the past hour, the oldest first."""
    codes = _load(row[0] if row else "[]") or []
    return [at for at, owner in _recent(codes, time.time()) if owner == login]


def codes_of_login(username: str, login: str) -> list[float]:
    """When each code of this login was issued in the past hour, the oldest first."""
    return issued_in(read(username), login)


def outlook(username: str, login: str, limits: Limits) -> Outlook:
    """This login's codes, and whether a new one could be sent now (one query)."""
    return outlook_of(read(username), login, limits)


def outlook_of(row: Row, login: str, limits: Limits) -> Outlook:
    """``outlook`` from the row as ``read`` gave it."""
    now = time.time()
    return _outlook(_recent(_load(row[0] if row else "[]") or [], now), login, now, limits)


def _outlook(codes: Codes, login: str, now: float, limits: Limits) -> Outlook:
    issued = tuple(at for at, owner in codes if owner == login)
    refused = _refusal(codes, login, now, limits, first=False)
    return Outlook(issued) if refused is None else Outlook(issued, *refused)


def _refusal(
    codes: Codes, login: str, now: float, limits: Limits, first: bool
) -> tuple[Refusal, int] | None:
    """Why no code may be taken now, with the seconds to wait; None when one may."""
    issued = [at for at, owner in codes if owner == login]
    # A call that failed still counts, for the login as for the username: it may have sent one.
    asked = [at for at, owner in codes if owner in (login, login + FAILED)]
    if first and issued:
        return "issued", 0
    if len(asked) >= limits.per_login_hour:
        # A first code past the cap (a login whose calls kept failing) gets the budget page.
        return ("budget" if first else "login_cap"), _wait(asked[0] + HOUR - now)
    if not first and issued and now - issued[-1] < limits.cooldown:
        return "cooldown", _wait(issued[-1] + limits.cooldown - now)
    if len(codes) >= limits.per_hour:
        oldest_that_counts = codes[len(codes) - limits.per_hour][0]
        return "budget", _wait(oldest_that_counts + HOUR - now)
    return None


def _wait(seconds: float) -> int:
    return max(1, math.ceil(seconds))


def take(username: str, login: str, limits: Limits, *, first: bool, known: Row = None) -> Taken:
    """
    Take one code for ``username`` in the login ``login`` before ``otpstatus`` is called.
    ``first``: the code the code page sends by itself (once per login); else "Send a new
    code". ``known``: the row as this request just read it, which spares the first read; if
    it is out of date, the compare-and-swap fails and the next round reads it again.
    """
    rows = CodeBudget.objects.filter(username=username)
    for _ in range(ROUNDS):
        current, known = known or rows.values_list("codes", "version").first(), None
        if current is None:
            _create(username)
            continue
        text, version = current
        now = time.time()
        loaded = _load(text)
        if loaded is None:
            break
        codes = _recent(loaded, now)
        refused = _refusal(codes, login, now, limits, first)
        if refused is not None:
            return Taken(username, login, now, *refused)
        codes.append((now, login))
        if rows.filter(version=version).update(codes=_dump(codes), version=version + 1):
            return Taken(username, login, now, outlook=_outlook(codes, login, now, limits))
    return Taken(username, login, time.time(), "busy", 1)


def _create(username: str) -> None:
    try:
        with transaction.atomic(using=router.db_for_write(CodeBudget)):
            CodeBudget.objects.create(username=username)
    except IntegrityError:
        pass  # a request alongside created it first


def give_back(taken: Taken) -> None:
    """
    The request for this code certainly never left (no call was made, or no connection
    could be opened): it does not count.
    """
    _rewrite(taken, None)


def failed(taken: Taken) -> None:
    """
    The call failed after it may have reached Single Connect (a timeout, a 5xx): the code
    stays spent, since a text message may have gone out, but the login has no code yet.
    """
    _rewrite(taken, taken.login + FAILED)


def _rewrite(taken: Taken, login: str | None) -> None:
    """Drop the code ``taken`` (``login`` None), or file it under ``login``."""
    rows = CodeBudget.objects.filter(username=taken.username)
    for _ in range(ROUNDS):
        current = rows.values_list("codes", "version").first()
        if current is None:
            return
        text, version = current
        codes = _load(text)
        if codes is None:
            return
        changed = _replaced(codes, taken, login)
        if changed is None:
            return
        if rows.filter(version=version).update(codes=_dump(changed), version=version + 1):
            return


def _replaced(codes: Sequence[tuple[float, str]], taken: Taken, login: str | None) -> Codes | None:
    target = (round(taken.at, 3), taken.login)
    changed = list(codes)
    for index, (at, owner) in enumerate(changed):
        if (round(at, 3), owner) == target:
            if login is None:
                del changed[index]
            else:
                changed[index] = (at, login)
            return changed
    return None


def holds_no_code_since(text: str, since: float) -> bool:
    """
    Whether a row's codes (its ``codes`` column) were all issued before ``since``, so that
    none counts any more once ``since`` is an hour ago. A row something else wrote holds:
    the budget refuses for it, and it must never be forgotten.
    """
    codes = _load(text)
    return codes is not None and all(at < since for at, _ in codes)
