"""
The code step's own CPU time per login, without the two round trips to Single Connect:
``SingleConnectClient.otp_status`` and ``otp_valid`` are stubbed to answer True at once.

Each login goes through the Django test client: the password (POST /accounts/login/), then
the code step (GET and POST /2fa/verify/), then the protected page. Password-only logins
(POST /accounts/login/, then a ``login_required`` page) run interleaved with them. Measured
with ``time.process_time``:

- the code step: GET + POST /2fa/verify/;
- the whole login with the code step minus a password-only login;
- the floor: any two requests of a signed-in user (GET and POST of a ``login_required``
  page), which the code step cannot be cheaper than.

The script fails on an unexpected status or when the protected page stays closed.

    python benchmarks/code_step_cpu.py            # 500 logins of each kind
    python benchmarks/code_step_cpu.py --quick    # 20 of each
    python benchmarks/code_step_cpu.py --profile  # where the code step spends (cProfile)
    python benchmarks/code_step_cpu.py --breakdown  # the same in CPU time, by owner
    python benchmarks/code_step_cpu.py --database-url postgres://postgres@127.0.0.1:5432/bench

With SQLite the database engine runs inside this process and its CPU time is counted; with
PostgreSQL it runs in the server's processes and only the web process's share is.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import itertools
import os
import pstats
import re
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import common

# Its own user for each run, so that a PostgreSQL database can serve run after run.
USERNAME = f"bench-{os.getpid()}-{int(time.time())}"
PASSWORD = "benchmark password"
TARGET_SECONDS = 0.002

#: A different code for every login: the package refuses a code that already verified one.
_codes = (f"{number:06d}" for number in itertools.count(100000))


@dataclass
class Timings:
    """CPU seconds, one entry per login."""

    #: Logins with the code step: the password request, then the code step's two requests.
    password_then_code: list[float] = field(default_factory=list)
    code_step: list[float] = field(default_factory=list)
    code_get: list[float] = field(default_factory=list)
    code_post: list[float] = field(default_factory=list)
    #: Password-only logins, then two requests of the signed-in user that do nothing.
    password_only: list[float] = field(default_factory=list)
    floor: list[float] = field(default_factory=list)


def expect(response: Any, status: int, what: str) -> None:
    if response.status_code != status:
        raise common.Failure(f"{what} answered {response.status_code}, not {status}")


@contextmanager
def stubbed_single_connect() -> Iterator[None]:
    """Single Connect answers True at once: no socket is opened."""
    from django_singleconnect.client import SingleConnectClient

    originals = SingleConnectClient.otp_status, SingleConnectClient.otp_valid

    def otp_status(self: Any, username: str, end_user_ip: str) -> bool:
        return True

    def otp_valid(self: Any, username: str, token: str) -> bool:
        return True

    SingleConnectClient.otp_status = otp_status  # type: ignore[method-assign]
    SingleConnectClient.otp_valid = otp_valid  # type: ignore[method-assign]
    try:
        yield
    finally:
        SingleConnectClient.otp_status, SingleConnectClient.otp_valid = originals  # type: ignore[method-assign]


def login_with_code(timings: Timings | None) -> None:
    from django.test import Client

    client = Client()
    started = time.process_time()
    response = client.post("/accounts/login/", {"username": USERNAME, "password": PASSWORD})
    password_done = time.process_time()
    page = client.get("/2fa/verify/", {"next": "/"})
    page_done = time.process_time()
    answer = client.post("/2fa/verify/", {"token": next(_codes), "next": "/"})
    code_done = time.process_time()
    expect(response, 302, "POST /accounts/login/")
    expect(page, 200, "GET /2fa/verify/")
    expect(answer, 302, "POST /2fa/verify/")
    if answer["Location"] != "/":
        raise common.Failure(f"POST /2fa/verify/ sent the user to {answer['Location']}")
    expect(client.get("/"), 200, "the protected page after the code step")
    if timings is not None:
        timings.password_then_code.append(password_done - started)
        timings.code_step.append(code_done - password_done)
        timings.code_get.append(page_done - password_done)
        timings.code_post.append(code_done - page_done)


def login_with_password(timings: Timings | None) -> None:
    from django.test import Client

    client = Client()
    started = time.process_time()
    response = client.post("/accounts/login/", {"username": USERNAME, "password": PASSWORD})
    password_done = time.process_time()
    expect(response, 302, "POST /accounts/login/")
    # Two requests that do nothing but load the session and the user: the floor.
    first = client.get("/plain/")
    second = client.post("/plain/")
    floor_done = time.process_time()
    expect(first, 200, "GET /plain/")
    expect(second, 200, "POST /plain/")
    if timings is not None:
        timings.password_only.append(password_done - started)
        timings.floor.append(floor_done - password_done)


def count_queries() -> dict[str, list[str]]:
    """The queries of one code step, GET and POST apart, once the user has logged in before."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    login_with_code(None)  # the first login also creates the user's attempt counter
    client = Client()
    client.post("/accounts/login/", {"username": USERNAME, "password": PASSWORD})
    with CaptureQueriesContext(connection) as get:
        expect(client.get("/2fa/verify/", {"next": "/"}), 200, "GET /2fa/verify/")
    with CaptureQueriesContext(connection) as post:
        answer = client.post("/2fa/verify/", {"token": next(_codes), "next": "/"})
        expect(answer, 302, "POST /2fa/verify/")
    return {
        "GET /2fa/verify/": [query["sql"] for query in get.captured_queries],
        "POST /2fa/verify/": [query["sql"] for query in post.captured_queries],
    }


def describe(sql: str) -> str:
    match = re.match(r"\s*(SELECT|INSERT|UPDATE|DELETE|SAVEPOINT|RELEASE|BEGIN)\b", sql)
    verb = match.group(1) if match else sql.split()[0]
    table = re.search(r'(?:FROM|INTO|UPDATE) "(\w+)"', sql)
    return f"{verb} {table.group(1)}" if table else verb


def profile(logins: int) -> None:
    profiler = cProfile.Profile()
    for _ in range(logins):
        login_with_code(None)
    # Only the code step's two requests, as in the measurement.
    from django.test import Client

    for _ in range(logins):
        client = Client()
        client.post("/accounts/login/", {"username": USERNAME, "password": PASSWORD})
        profiler.enable()
        client.get("/2fa/verify/", {"next": "/"})
        client.post("/2fa/verify/", {"token": next(_codes), "next": "/"})
        profiler.disable()
    print(f"\n## cProfile, the code step of {logins} logins, by cumulative time\n")
    stats = pstats.Stats(profiler)
    stats.sort_stats("cumulative").print_stats(r"django_singleconnect|sessions|auth", 25)


#: What ``--breakdown`` times, by owner: none of these calls another of them.
BREAKDOWN = (
    ("Django's session: load", "django.contrib.sessions.backends.db", "SessionStore", "load"),
    ("Django's session: save", "django.contrib.sessions.backends.db", "SessionStore", "save"),
    ("Django's session: delete", "django.contrib.sessions.backends.db", "SessionStore", "delete"),
    ("Django's session: exists", "django.contrib.sessions.backends.db", "SessionStore", "exists"),
    ("the app: lockout.locked_until", "django_singleconnect.lockout", None, "locked_until"),
    ("the app: lockout.reserve", "django_singleconnect.lockout", None, "reserve"),
    ("the app: lockout.reset", "django_singleconnect.lockout", None, "reset"),
    ("the app: replay.was_used", "django_singleconnect.replay", None, "was_used"),
    ("the app: replay.remember", "django_singleconnect.replay", None, "remember"),
    ("the app: audit rows", "django_singleconnect.views", "Step", "audit"),
    ("the app: templates", "django_singleconnect.views", None, "render"),
)


def breakdown(logins: int) -> None:
    """CPU time of the code step's two requests, split by the functions in ``BREAKDOWN``."""
    import importlib

    from django.test import Client

    spent: Counter[str] = Counter()
    timing = [False]

    def timed(label: str, function: Any) -> Any:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if not timing[0]:
                return function(*args, **kwargs)
            started = time.process_time()
            try:
                return function(*args, **kwargs)
            finally:
                spent[label] += time.process_time() - started

        return wrapper

    originals = []
    for label, module_name, class_name, name in BREAKDOWN:
        module = importlib.import_module(module_name)
        owner = getattr(module, class_name) if class_name else module
        originals.append((owner, name, getattr(owner, name)))
        setattr(owner, name, timed(label, getattr(owner, name)))
    total = 0.0
    try:
        for _ in range(logins):
            client = Client()
            client.post("/accounts/login/", {"username": USERNAME, "password": PASSWORD})
            timing[0] = True
            started = time.process_time()
            expect(client.get("/2fa/verify/", {"next": "/"}), 200, "GET /2fa/verify/")
            answer = client.post("/2fa/verify/", {"token": next(_codes), "next": "/"})
            total += time.process_time() - started
            timing[0] = False
            expect(answer, 302, "POST /2fa/verify/")
    finally:
        for owner, name, original in originals:
            setattr(owner, name, original)
    ms = 1000 / logins
    rows = [(label, f"{spent[label] * ms:.2f}") for label, *_ in BREAKDOWN]
    rest = total - sum(spent.values())
    rows += [
        ("everything else (request handling, user, forms, middleware, ...)", f"{rest * ms:.2f}"),
        ("code step: GET + POST /2fa/verify/", f"{total * ms:.2f}"),
    ]
    print(f"\n## Where the code step's CPU goes, {logins} logins (mean ms per login)\n")
    print(common.table(("what", "CPU ms per login"), rows))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="20 logins of each kind")
    parser.add_argument("--logins", type=int, default=500, help="logins of each kind")
    parser.add_argument("--batch", type=int, default=10, help="logins of one kind in a row")
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--breakdown", action="store_true", help="CPU time by owner")
    parser.add_argument("--database-url", help="postgres://... (default: a SQLite file)")
    args = parser.parse_args(argv)
    if args.quick:
        args.logins = 20
    rounds = max(1, args.logins // args.batch)

    with tempfile.TemporaryDirectory(prefix="bench-code-step-") as workdir:
        common.setup_django(Path(workdir), args.database_url)
        from django.contrib.auth import get_user_model

        common.print_machine()
        print(f"database: {common.database()}")
        get_user_model().objects.create_user(USERNAME, password=PASSWORD)
        timings = Timings()
        with stubbed_single_connect():
            queries = count_queries()
            for _ in range(20):  # warm-up: templates, translations, prepared statements
                login_with_code(None)
                login_with_password(None)
            gc.collect()
            kinds = [login_with_code, login_with_password]
            for index in range(rounds):
                for kind in kinds if index % 2 == 0 else kinds[::-1]:
                    for _ in range(args.batch):
                        kind(timings)
            if args.profile:
                profile(200)
            if args.breakdown:
                breakdown(args.logins)
    report(timings, queries)
    return 0


def mean(values: list[float]) -> float:
    return sum(values) / len(values)


def report(timings: Timings, queries: dict[str, list[str]]) -> None:
    ms = 1000
    code_step = timings.code_step
    with_code = [
        password + code
        for password, code in zip(timings.password_then_code, code_step, strict=True)
    ]
    increment = mean(with_code) - mean(timings.password_only)
    above_floor = mean(code_step) - mean(timings.floor)
    rows = [
        ("code step: GET + POST /2fa/verify/", code_step),
        ("- GET /2fa/verify/ (code issued, form shown)", timings.code_get),
        ("- POST /2fa/verify/ (code checked, session verified)", timings.code_post),
        ("login with the code step (password + code step)", with_code),
        ("password-only login (POST /accounts/login/)", timings.password_only),
        ("floor: GET + POST of a login_required page", timings.floor),
    ]
    print(f"\n{len(code_step)} logins of each kind, interleaved; CPU time of this process\n")
    print(
        common.table(
            ("what", "ms/login (median)", "ms/login (mean)", "p95"),
            [
                (
                    name,
                    f"{common.median(values) * ms:.2f}",
                    f"{mean(values) * ms:.2f}",
                    f"{common.percentile(values, 0.95) * ms:.2f}",
                )
                for name, values in rows
            ],
        )
    )
    print(f"\nlogin with the code step minus password-only login: {increment * ms:.2f} ms (mean)")
    print(f"code step minus the floor of two requests: {above_floor * ms:.2f} ms (mean)")
    print(
        f"target under {TARGET_SECONDS * ms:.0f} ms: code step {common.median(code_step) * ms:.2f}"
        f" ms median ({common.verdict(common.median(code_step) < TARGET_SECONDS)}), "
        f"{above_floor * ms:.2f} ms above the floor "
        f"({common.verdict(above_floor < TARGET_SECONDS)})"
    )
    print()
    for request, sqls in queries.items():
        kinds = Counter(describe(sql) for sql in sqls)
        listed = ", ".join(
            f"{count}x {kind}" if count > 1 else kind for kind, count in kinds.items()
        )
        print(f"{request}: {len(sqls)} queries: {listed}")


if __name__ == "__main__":
    common.run(main)
