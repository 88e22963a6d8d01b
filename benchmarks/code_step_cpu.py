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

Side by side in the same run, interleaved with the above:

- the code step with real HTTP to the simulator (in a process of its own, so that only the
  client's side of each call is counted), unless ``--no-http``;
- the closest peer, django-two-factor-auth (the ``benchmarks`` extra; nothing else imports
  it), unless ``--no-peer``: its ``LoginView`` for a user with a TOTP device, the password
  (auth step, which shows the token form), then the token (token step); and its password-only
  login, the auth step of a user without a device. The peer makes no network call and keeps
  no replay or audit rows: what each side adds over its own password-only login is the
  figure to compare. Each side's SQL statements are counted with CaptureQueriesContext.

    python benchmarks/code_step_cpu.py --logins 300     # all of it, one run
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import itertools
import multiprocessing
import os
import pstats
import re
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import common

# Its own user for each run, so that a PostgreSQL database can serve run after run.
USERNAME = f"bench-{os.getpid()}-{int(time.time())}"
#: The peer's user, with a TOTP device; USERNAME has none, so the peer signs it in at once.
PEER_USERNAME = f"{USERNAME}-totp"
PEER_LOGIN = "/tf/account/login/"
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
    #: The code step with real HTTP to the simulator.
    http_password_then_code: list[float] = field(default_factory=list)
    http_code_step: list[float] = field(default_factory=list)
    http_code_post: list[float] = field(default_factory=list)
    #: django-two-factor-auth: the auth step (password, token form shown), the token step.
    peer_auth: list[float] = field(default_factory=list)
    peer_token: list[float] = field(default_factory=list)
    #: django-two-factor-auth's auth step for a user without a device: signed in at once.
    peer_password_only: list[float] = field(default_factory=list)


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

    def otp_valid(self: Any, username: str, token: str, node: str | None = None) -> bool:
        return True

    SingleConnectClient.otp_status = otp_status  # type: ignore[method-assign]
    SingleConnectClient.otp_valid = otp_valid  # type: ignore[method-assign]
    try:
        yield
    finally:
        SingleConnectClient.otp_status, SingleConnectClient.otp_valid = originals  # type: ignore[method-assign]


def login_with_code(timings: Timings | None, code: Callable[[], str] | None = None) -> None:
    """``code``: where the code comes from once the code page asked for it (real HTTP)."""
    from django.test import Client

    client = Client()
    started = time.process_time()
    response = client.post("/accounts/login/", {"username": USERNAME, "password": PASSWORD})
    password_done = time.process_time()
    page = client.get("/2fa/verify/", {"next": "/"})
    page_done = time.process_time()
    token = next(_codes) if code is None else code()  # not counted
    post_started = time.process_time()
    answer = client.post("/2fa/verify/", {"token": token, "next": "/"})
    code_done = time.process_time()
    expect(response, 302, "POST /accounts/login/")
    expect(page, 200, "GET /2fa/verify/")
    expect(answer, 302, "POST /2fa/verify/")
    if answer["Location"] != "/":
        raise common.Failure(f"POST /2fa/verify/ sent the user to {answer['Location']}")
    expect(client.get("/"), 200, "the protected page after the code step")
    get, post = page_done - password_done, code_done - post_started
    if timings is not None and code is None:
        timings.password_then_code.append(password_done - started)
        timings.code_step.append(get + post)
        timings.code_get.append(get)
        timings.code_post.append(post)
    elif timings is not None:
        timings.http_password_then_code.append(password_done - started)
        timings.http_code_step.append(get + post)
        timings.http_code_post.append(post)


class FreshCodes:
    """Single Connect's simulator in a process of its own, a new code for every login."""

    def __init__(self) -> None:
        context = multiprocessing.get_context("spawn")
        ports = context.Queue()
        self.process = context.Process(target=serve_simulator, args=(ports,), daemon=True)
        self.process.start()
        self.hostname = f"127.0.0.1:{ports.get(timeout=30)}"
        import requests

        self.http = requests.Session()
        self.http.trust_env = False

    def code(self) -> str:
        answer = self.http.get(
            f"http://{self.hostname}/_simulator/otp", params={"username": USERNAME}, timeout=10
        )
        if answer.status_code != 200:
            raise common.Failure(f"the simulator has no code for {USERNAME}")
        return answer.text

    def stop(self) -> None:
        self.process.terminate()
        self.process.join(timeout=10)


def serve_simulator(ports: Any) -> None:
    """The simulator's process: codes that count up, so that no code is ever used twice."""
    from django_singleconnect.simulator import Simulator

    class Counting(Simulator):
        numbers = itertools.count(200000)

        def otp_status(self, username: str) -> bool:
            if not super().otp_status(username):
                return False
            with self._lock:
                _, expires = self._codes[username]
                self._codes[username] = (f"{next(self.numbers) % 10**6:06d}", expires)
            return True

    simulator = Counting("127.0.0.1", 0, output=None)
    ports.put(simulator.port)
    simulator.serve_forever()


def create_peer_user() -> Any:
    """The peer's user and its confirmed TOTP device, named "default" as its setup names it."""
    from django.contrib.auth import get_user_model
    from django_otp.plugins.otp_totp.models import TOTPDevice

    user = get_user_model().objects.create_user(PEER_USERNAME, password=PASSWORD)
    return TOTPDevice.objects.create(user=user, name="default", confirmed=True)


def peer_token(device: Any) -> str:
    """
    The device's token now. Its last used time step is forgotten first (not counted): each
    login must pass, and a TOTP device refuses a second token in one 30 s step.
    """
    from django_otp.oath import TOTP

    type(device).objects.filter(pk=device.pk).update(last_t=-1)
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    return f"{totp.token():0{device.digits}d}"


def login_with_token(timings: Timings | None, device: Any) -> None:
    """django-two-factor-auth: the auth step, then the token step."""
    from django.test import Client

    client = Client()
    token = peer_token(device)
    started = time.process_time()
    form = client.post(
        PEER_LOGIN,
        {
            "login_view-current_step": "auth",
            "auth-username": PEER_USERNAME,
            "auth-password": PASSWORD,
        },
    )
    auth_done = time.process_time()
    answer = client.post(PEER_LOGIN, {"login_view-current_step": "token", "token-otp_token": token})
    token_done = time.process_time()
    expect(form, 200, "the peer's auth step")
    expect(answer, 302, "the peer's token step")
    if "_auth_user_id" not in client.session or "otp_device_id" not in client.session:
        raise common.Failure("the peer's token step did not sign the user in with the device")
    if timings is not None:
        timings.peer_auth.append(auth_done - started)
        timings.peer_token.append(token_done - auth_done)


def login_with_peer_password(timings: Timings | None) -> None:
    """django-two-factor-auth's auth step for a user without a device: signed in at once."""
    from django.test import Client

    client = Client()
    started = time.process_time()
    answer = client.post(
        PEER_LOGIN,
        {"login_view-current_step": "auth", "auth-username": USERNAME, "auth-password": PASSWORD},
    )
    done = time.process_time()
    expect(answer, 302, "the peer's auth step without a device")
    if timings is not None:
        timings.peer_password_only.append(done - started)


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


def count_queries(device: Any = None) -> dict[str, list[str]]:
    """
    The queries of one code step, GET and POST apart, once the user has logged in before;
    with ``device``, those of the peer's two steps and of both password-only logins too.
    """
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    def captured(what: str, request: Callable[[], Any], status: int) -> list[str]:
        with CaptureQueriesContext(connection) as queries:
            expect(request(), status, what)
        return [query["sql"] for query in queries.captured_queries]

    login_with_code(None)  # the first login also creates the user's attempt counter
    client = Client()
    counted = {
        "password-only login: POST /accounts/login/": captured(
            "POST /accounts/login/",
            lambda: client.post("/accounts/login/", {"username": USERNAME, "password": PASSWORD}),
            302,
        ),
        "GET /2fa/verify/": captured(
            "GET /2fa/verify/", lambda: client.get("/2fa/verify/", {"next": "/"}), 200
        ),
        "POST /2fa/verify/": captured(
            "POST /2fa/verify/",
            lambda: client.post("/2fa/verify/", {"token": next(_codes), "next": "/"}),
            302,
        ),
    }
    if device is None:
        return counted
    with single_connect("peer", None):
        counted.update(count_peer_queries(device, captured))
    return counted


def count_peer_queries(
    device: Any, captured: Callable[[str, Callable[[], Any], int], list[str]]
) -> dict[str, list[str]]:
    """The queries of the peer's two steps and of its password-only login."""
    from django.test import Client

    counted: dict[str, list[str]] = {}
    login_with_token(None, device)
    peer = Client()
    token = peer_token(device)
    counted["peer, password-only login: auth step without a device"] = captured(
        "the peer's auth step without a device",
        lambda: Client().post(
            PEER_LOGIN,
            {
                "login_view-current_step": "auth",
                "auth-username": USERNAME,
                "auth-password": PASSWORD,
            },
        ),
        302,
    )
    counted["peer: auth step (token form shown)"] = captured(
        "the peer's auth step",
        lambda: peer.post(
            PEER_LOGIN,
            {
                "login_view-current_step": "auth",
                "auth-username": PEER_USERNAME,
                "auth-password": PASSWORD,
            },
        ),
        200,
    )
    counted["peer: token step"] = captured(
        "the peer's token step",
        lambda: peer.post(
            PEER_LOGIN, {"login_view-current_step": "token", "token-otp_token": token}
        ),
        302,
    )
    return counted


def data_statements(sqls: list[str]) -> int:
    """The SELECTs, INSERTs, UPDATEs and DELETEs: not BEGIN, COMMIT and savepoints, which
    only SQLite shows as statements."""
    return sum(1 for sql in sqls if re.match(r"\s*(SELECT|INSERT|UPDATE|DELETE)\b", sql))


def describe(sql: str) -> str:
    match = re.match(r"\s*(SELECT|INSERT|UPDATE|DELETE|SAVEPOINT|RELEASE|BEGIN)\b", sql)
    verb = match.group(1) if match else sql.split()[0]
    tables = re.findall(r'(?:FROM|INTO|UPDATE) "(\w+)"', sql)
    if not tables:
        return verb
    # A SELECT's own table comes last, after those of its subqueries.
    inner = f" (with {', '.join(tables[:-1])})" if len(tables) > 1 else ""
    return f"{verb} {tables[-1]}{inner}"


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
    ("the app: replay.keep", "django_singleconnect.replay", None, "keep"),
    ("the app: audit rows", "django_singleconnect.step", "Step", "audit"),
    ("the app: templates", "django_singleconnect.step", None, "render"),
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


@contextmanager
def single_connect(mode: str, simulator: FreshCodes | None) -> Iterator[None]:
    """
    "stub": the client's two calls stubbed; "http": real HTTP to ``simulator``; "peer": a
    site running the peer alone: its own middleware (django-otp's) instead of this
    package's (each login's new test client loads the middleware in force), and without
    this package's ``user_logged_in`` receiver, which would start a pending step.
    """
    if mode == "stub":
        with stubbed_single_connect():
            yield
    elif mode == "http":
        from django.test import override_settings

        assert simulator is not None
        with override_settings(SINGLECONNECT_HOSTNAME=simulator.hostname):
            yield
    elif mode == "peer":
        from django.contrib.auth.signals import user_logged_in
        from django.test import override_settings

        from benchmarks.settings import with_middleware
        from django_singleconnect.state import on_user_logged_in

        uid = "django_singleconnect.on_user_logged_in"  # as apps.py connects it
        user_logged_in.disconnect(dispatch_uid=uid)
        try:
            with override_settings(
                MIDDLEWARE=with_middleware("django_otp.middleware.OTPMiddleware")
            ):
                yield
        finally:
            user_logged_in.connect(on_user_logged_in, dispatch_uid=uid)
    else:
        yield


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="20 logins of each kind")
    parser.add_argument("--logins", type=int, default=500, help="logins of each kind")
    parser.add_argument("--batch", type=int, default=10, help="logins of one kind in a row")
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--breakdown", action="store_true", help="CPU time by owner")
    parser.add_argument("--database-url", help="postgres://... (default: a SQLite file)")
    parser.add_argument("--no-peer", action="store_true", help="without django-two-factor-auth")
    parser.add_argument("--no-http", action="store_true", help="without the real HTTP code step")
    args = parser.parse_args(argv)
    if args.quick:
        args.logins = 20
    rounds = max(1, args.logins // args.batch)
    if not args.no_peer:
        os.environ["BENCHMARK_TWO_FACTOR"] = "1"

    with tempfile.TemporaryDirectory(prefix="bench-code-step-") as workdir:
        common.setup_django(Path(workdir), args.database_url)
        from django.contrib.auth import get_user_model

        common.print_machine()
        print(f"database: {common.database()}")
        get_user_model().objects.create_user(USERNAME, password=PASSWORD)
        device = None if args.no_peer else create_peer_user()
        simulator = None if args.no_http else FreshCodes()
        timings = Timings()
        try:
            with stubbed_single_connect():
                queries = count_queries(device)
            kinds: list[tuple[str, Callable[[Timings | None], None]]] = [
                ("stub", login_with_code),
                ("stub", login_with_password),
            ]
            if simulator is not None:
                code = simulator.code
                kinds.append(("http", lambda timings: login_with_code(timings, code)))
            if device is not None:
                kinds.append(("peer", lambda timings: login_with_token(timings, device)))
                kinds.append(("peer", login_with_peer_password))
            for mode, kind in kinds:  # warm-up: templates, translations, prepared statements
                with single_connect(mode, simulator):
                    for _ in range(20):
                        kind(None)
            gc.collect()
            for index in range(rounds):
                # A different kind first in each round: machine noise falls on all alike.
                shift = index % len(kinds)
                for mode, kind in kinds[shift:] + kinds[:shift]:
                    with single_connect(mode, simulator):
                        for _ in range(args.batch):
                            kind(timings)
            with stubbed_single_connect():
                if args.profile:
                    profile(200)
                if args.breakdown:
                    breakdown(args.logins)
        finally:
            if simulator is not None:
                simulator.stop()
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
    if timings.http_code_step or timings.peer_token:
        compare(timings, queries)


def compare(timings: Timings, queries: dict[str, list[str]]) -> None:
    """The code step next to django-two-factor-auth's token step, and over real HTTP."""
    ms = 1000
    ours = mean(timings.password_then_code) + mean(timings.code_step)
    added = ours - mean(timings.password_only)
    rows = [
        ("ours, stubbed: code step (GET + POST /2fa/verify/)", timings.code_step),
        ("ours, stubbed: POST /2fa/verify/", timings.code_post),
    ]
    if timings.http_code_step:
        rows += [
            ("ours, real HTTP: code step (GET + POST /2fa/verify/)", timings.http_code_step),
            ("ours, real HTTP: POST /2fa/verify/", timings.http_code_post),
        ]
    if timings.peer_token:
        rows += [
            ("peer: auth step (password, token form shown)", timings.peer_auth),
            ("peer: token step (POST)", timings.peer_token),
            ("peer: password-only login (auth step, no device)", timings.peer_password_only),
        ]
    print("\n## Side by side (CPU ms per login)\n")
    print(
        common.table(
            ("what", "median", "mean"),
            [
                (name, f"{common.median(values) * ms:.2f}", f"{mean(values) * ms:.2f}")
                for name, values in rows
            ],
        )
    )
    adds = [("ours, stubbed", added)]
    if timings.http_code_step:
        http = mean(timings.http_password_then_code) + mean(timings.http_code_step)
        adds.append(("ours, real HTTP", http - mean(timings.password_only)))
    if timings.peer_token:
        peer = mean(timings.peer_auth) + mean(timings.peer_token)
        peer_added = peer - mean(timings.peer_password_only)
        print(
            f"\npeer adds over its own password-only login {peer_added * ms:.2f} ms "
            f"(over Django's LoginView: {(peer - mean(timings.password_only)) * ms:.2f} ms)"
        )
        for name, value in adds:
            print(
                f"{name} adds over the password-only login {value * ms:.2f} ms: "
                f"{value / peer_added:.2f}x the peer's"
            )
        token = common.median(timings.peer_token)
        print(
            f"ours, stubbed: code step / peer's token POST: "
            f"{common.median(timings.code_step) / token:.2f}x"
        )
        if timings.http_code_step:
            print(
                f"ours, real HTTP: code step / peer's token POST: "
                f"{common.median(timings.http_code_step) / token:.2f}x"
            )
        get, post = queries["GET /2fa/verify/"], queries["POST /2fa/verify/"]
        peer_auth, peer_token = (
            queries["peer: auth step (token form shown)"],
            queries["peer: token step"],
        )
        peer_plain = queries["peer, password-only login: auth step without a device"]
        for kind, count in (("SQL queries", len), ("data statements", data_statements)):
            print(
                f"{kind} added over the password-only login: ours {count(get) + count(post)} "
                f"(GET {count(get)} + POST {count(post)}), peer "
                f"{count(peer_auth) + count(peer_token) - count(peer_plain)} "
                f"({count(peer_auth)} + {count(peer_token)} - {count(peer_plain)})"
            )
    else:
        for name, value in adds:
            print(f"{name} adds over the password-only login {value * ms:.2f} ms")


if __name__ == "__main__":
    common.run(main)
