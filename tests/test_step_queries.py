"""
The statements of one code step, pinned, so that one more shows up here first. A user who
has logged in before (the attempt counter and the code budget exist), in autocommit as in
production. BEGIN and COMMIT are left out: SQLite's show up as statements, other
databases' do not.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from django_singleconnect import replay
from django_singleconnect.simulator import Simulator

VERIFY = "/2fa/verify/"
VERB = re.compile(r"\s*(SELECT|INSERT|UPDATE|DELETE|SAVEPOINT|RELEASE SAVEPOINT)\b")
TABLE = re.compile(r"(?:FROM|INTO|UPDATE) [\"`](\w+)[\"`]")


def statements(queries: CaptureQueriesContext) -> list[str]:
    described = []
    for query in queries.captured_queries:
        verb = VERB.match(query["sql"])
        if verb is None:
            continue  # BEGIN, COMMIT
        tables = [
            name.removeprefix("django_singleconnect_") for name in TABLE.findall(query["sql"])
        ]
        # A SELECT's own table comes last, after those of its subqueries (in its columns);
        # an UPDATE's, an INSERT's and a DELETE's first, before those of its WHERE.
        if verb.group(1) != "SELECT":
            tables.reverse()
        main, others = (tables[-1], tables[:-1]) if tables else ("", [])
        inner = f" with {', '.join(others)}" if others else ""
        described.append(f"{verb.group(1)} {main}{inner}".strip())
    return described


@pytest.mark.django_db(transaction=True)
def test_the_statements_of_a_code_step(
    user: Any,
    login: Any,
    pass_code: Any,
    simulator: Simulator,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(replay, "_next_purge", float("inf"))  # the purge: once a minute
    before = Client()
    login(before)
    pass_code(before)  # the counter and the budget rows exist from now on
    client = Client()
    login(client)
    with CaptureQueriesContext(connection) as get:
        assert client.get(VERIFY).status_code == 200
    code = simulator.current_code("alice")
    with CaptureQueriesContext(connection) as post:
        assert client.post(VERIFY, {"token": code}).status_code == 302
    assert statements(get) == [
        "SELECT django_session",
        "SELECT auth_user",
        # This login's codes, the row to take one from, and (a subquery) locked out?
        "SELECT codebudget with attemptcounter",
        "UPDATE codebudget",  # the code taken (compare-and-swap)
        "INSERT verificationevent",  # challenge_sent
        # No session write: the login's state names the first node from its start, and
        # that node issued the code (another would be recorded, for its otpvalid).
    ]
    assert statements(post) == [
        "SELECT django_session",
        "SELECT auth_user",
        # The attempt reserved before the call, in one statement that also asks whether a
        # code was issued in this login (else the GET issues one first).
        "UPDATE attemptcounter with codebudget",
        # One transaction: the code kept first (a replayed code's INSERT fails, so with no
        # savepoint), the count reset, the audit row, the old session deleted.
        "INSERT usedcode",
        "UPDATE attemptcounter",
        "INSERT verificationevent",
        "SELECT django_session",
        "DELETE django_session",
        # The session saved under its new key, with the mark: one INSERT.
        "SELECT django_session",
        "INSERT django_session",
    ]
    if connection.vendor == "sqlite":  # the only one whose BEGIN is a statement
        # Each is a commit: the reservation, the right code's transaction, the session save.
        transactions = [query["sql"] for query in post.captured_queries if query["sql"] == "BEGIN"]
        assert len(transactions) == 2  # the reservation's UPDATE commits by itself
