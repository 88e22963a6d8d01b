"""
Concurrent logins through gunicorn: the example project, configured by environment
variables, against the Single Connect simulator with random latency, in a process of its
own. Everything listens on 127.0.0.1.

Phases, in this order (the last one trips the circuit breaker, so it comes last):

1. password-only logins: every virtual user at once GETs the login page (for the CSRF
   token) and POSTs the password;
2. whole logins with the code step, Single Connect answering after a random 50 to 500 ms:
   login as in 1, then "/" (which sends to the code page), the code page, the code read from
   the simulator's hook, the code POSTed, and "/" again, which must greet the user;
3. the same with no latency, where the CPU is the limit;
4. Single Connect hangs (30 s, longer than the default read timeout of 10 s) while some
   users, already on the code page, POST their code; meanwhile a page that never calls
   Single Connect (GET /accounts/login/) is timed for new visitors arriving at a steady
   rate, each on a new connection, and compared with the same visitors before the hang.

The script fails on any 5xx outside the hang (and on any 5xx but 503 during it), on an
unexpected status, on a probe that is not 200, and on "Connection pool is full" in
gunicorn's log.

    python benchmarks/load.py                      # 200 users, the example's PBKDF2 hasher
    python benchmarks/load.py --fast-hasher        # MD5, so the code step's cost shows
    python benchmarks/load.py --quick              # 10 users, short latencies
    python benchmarks/load.py --database-url postgres://postgres@127.0.0.1:5432/bench

With ``--compare-limits old,new,none`` the script compares call limits side by side
instead: for each limit in turn (a different one first in each round), fresh workers with
that limit take the burst of whole logins with Single Connect's random latency, then
(``--hung-users``) a hang; logins per second are reported per round and as ratios to the
first limit named last ("none"), so that machine noise falls on every side alike.

    python benchmarks/load.py --fast-hasher --compare-limits old,new,none --rounds 3
"""

from __future__ import annotations

import argparse
import itertools
import multiprocessing
import os
import random
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import common
from django_singleconnect.simulator import Simulator

ROOT = common.ROOT
PASSWORD = "benchmark password"
USER_PREFIX = "bench-user-"
CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
GREETING = "you passed the Single Connect step"
#: connect, read: generous, so that a slow answer is measured rather than cut short.
HTTP_TIMEOUT = (10, 90)
POOL_FULL = "Connection pool is full"
#: SINGLECONNECT_TIMEOUT's default is (3.05, 10); the example project keeps it.
DEFAULT_READ_TIMEOUT = 10
CIRCUIT_OPENED = "circuit open, no calls for"
#: The call limits --compare-limits knows, as the site's environment variables.
LIMITS = {
    # the default up to this release: at most 2 calls at once, a 1 s wait for a slot
    "old": {
        "SINGLECONNECT_MAX_CONCURRENT_CALLS": "2",
        "SINGLECONNECT_SLOT_WAIT_SECONDS": "1",
        "SINGLECONNECT_MAX_SLOW_CALLS": "None",
    },
    # the default now: at most 2 calls under way for longer than 1 s
    "new": {},
    "none": {
        "SINGLECONNECT_MAX_CONCURRENT_CALLS": "None",
        "SINGLECONNECT_MAX_SLOW_CALLS": "None",
    },
}


class RandomLatencySimulator(Simulator):
    """The simulator, waiting a random time before each otpstatus and otpvalid answer."""

    def __init__(self, latency: Any, *args: Any, **kwargs: Any) -> None:
        #: [low, high] seconds, shared with the parent process, which may change them.
        self.latency = latency
        super().__init__(*args, **kwargs)

    def _wait(self) -> None:
        low, high = self.latency[0], self.latency[1]
        if high > 0:
            time.sleep(random.uniform(low, high))

    def otp_status(self, username: str) -> bool:
        self._wait()
        return super().otp_status(username)

    def otp_valid(self, username: str, token: str) -> bool:
        self._wait()
        return super().otp_valid(username, token)


def serve_simulator(latency: Any, ports: Any) -> None:
    """The simulator's process: serves until it is terminated."""
    simulator = RandomLatencySimulator(latency, "127.0.0.1", 0, output=None)
    ports.put(simulator.port)
    simulator.serve_forever()


class Unexpected(Exception):
    """A page answered with another status than the flow expects."""


@dataclass
class Outcome:
    """What one virtual user's run gave."""

    seconds: float = 0.0
    code_post_seconds: float | None = None
    statuses: list[int] = field(default_factory=list)
    error: str | None = None


class VirtualUser:
    """One browser: its own cookies and keep-alive connection to the site."""

    def __init__(self, site: str, simulator: str, username: str) -> None:
        self.site = site
        self.simulator = simulator
        self.username = username
        self.http = requests.Session()
        self.http.trust_env = False
        self.token = ""
        self.outcome = Outcome()

    def request(
        self, method: str, path: str, expected: int | tuple[int, ...], **kwargs: Any
    ) -> requests.Response:
        response = self.http.request(
            method, self.site + path, timeout=HTTP_TIMEOUT, allow_redirects=False, **kwargs
        )
        self.outcome.statuses.append(response.status_code)
        allowed = expected if isinstance(expected, tuple) else (expected,)
        if response.status_code not in allowed:
            raise Unexpected(f"{method} {path}: {response.status_code}, not {expected}")
        match = CSRF_INPUT.search(response.text)
        if match:
            self.token = match.group(1)
        return response

    def sign_in(self) -> None:
        """The password step."""
        self.request("GET", "/accounts/login/", 200)
        answer = self.request(
            "POST",
            "/accounts/login/",
            302,
            data={
                "username": self.username,
                "password": PASSWORD,
                "next": "/",
                "csrfmiddlewaretoken": self.token,
            },
        )
        if answer.headers.get("Location") != "/":
            raise Unexpected(f"the login sent the user to {answer.headers.get('Location')}")

    def open_code_page(self) -> None:
        """ "/" sends a signed-in user to the code page, which has Single Connect issue a code."""
        home = self.request("GET", "/", 302)
        location = home.headers.get("Location", "")
        if not location.startswith("/2fa/verify/"):
            raise Unexpected(f"/ sent a signed-in user to {location!r}, not the code page")
        self.request("GET", location, 200)

    def post_code(self, expected: int | tuple[int, ...] = 302) -> requests.Response:
        code = requests.get(
            f"{self.simulator}/_simulator/otp",
            params={"username": self.username},
            timeout=HTTP_TIMEOUT,
        )
        if code.status_code != 200:
            raise Unexpected(f"the simulator has no code for {self.username}")
        started = time.perf_counter()
        try:
            return self.request(
                "POST",
                "/2fa/verify/",
                expected,
                data={"token": code.text, "next": "/", "csrfmiddlewaretoken": self.token},
            )
        finally:
            self.outcome.code_post_seconds = time.perf_counter() - started

    def see_home(self) -> None:
        if GREETING not in self.request("GET", "/", 200).text:
            raise Unexpected("/ did not greet the user after the code step")

    def whole_login(self) -> None:
        self.sign_in()
        self.open_code_page()
        answer = self.post_code()
        if answer.headers.get("Location") != "/":
            raise Unexpected(f"the code step sent the user to {answer.headers.get('Location')}")
        self.see_home()


def run_users(users: list[VirtualUser], flow: Callable[[VirtualUser], None], limit: float) -> float:
    """Start ``flow`` for every user at once; the seconds until the last one finished."""
    gate = threading.Event()

    def run(user: VirtualUser) -> None:
        gate.wait(timeout=60)
        started = time.perf_counter()
        try:
            flow(user)
        except (Unexpected, requests.RequestException) as error:
            user.outcome.error = f"{type(error).__name__}: {error}"
        user.outcome.seconds = time.perf_counter() - started

    threads = [threading.Thread(target=run, args=(user,), daemon=True) for user in users]
    for thread in threads:
        thread.start()
    started = time.perf_counter()
    gate.set()
    for thread in threads:
        thread.join(timeout=max(0.1, limit - (time.perf_counter() - started)))
    if any(thread.is_alive() for thread in threads):
        raise common.Failure(f"users still running after {limit:.0f} s")
    return time.perf_counter() - started


@dataclass
class Phase:
    name: str
    users: int
    wall: float
    outcomes: list[Outcome]
    server_cpu: float
    #: This process's CPU: the virtual users share the machine with the server.
    client_cpu: float

    @property
    def statuses(self) -> Counter[int]:
        return Counter(status for outcome in self.outcomes for status in outcome.statuses)

    @property
    def errors(self) -> list[str]:
        return [outcome.error for outcome in self.outcomes if outcome.error]


class Site:
    """gunicorn serving the example project, and the simulator, for one run."""

    def __init__(self, args: argparse.Namespace, workdir: Path) -> None:
        self.args = args
        self.workdir = workdir
        self.log_path = workdir / "gunicorn.log"
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        context = multiprocessing.get_context("spawn")
        self.latency = context.Array("d", [0.0, 0.0], lock=False)
        ports = context.Queue()
        self.simulator_process = context.Process(
            target=serve_simulator, args=(self.latency, ports), daemon=True
        )
        self.simulator_process.start()
        self.simulator_url = f"http://127.0.0.1:{ports.get(timeout=30)}"
        self.gunicorn: subprocess.Popen[bytes] | None = None
        self.environment = self.make_environment()

    def make_environment(self) -> dict[str, str]:
        passed = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR")
        environment = {name: os.environ[name] for name in passed if name in os.environ}
        database_url = self.args.database_url or f"sqlite:///{self.workdir / 'load.sqlite3'}"
        environment.update(
            ENV_FILE="",  # no .env file: these variables alone
            PYTHONPATH=str(ROOT),
            PYTHONUNBUFFERED="1",
            DJANGO_SETTINGS_MODULE=(
                "benchmarks.fast_hasher_settings"
                if self.args.fast_hasher
                else "example_project.settings"
            ),
            DATABASE_URL=database_url,
            SECRET_KEY="load-benchmark-only-not-secret",
            DEBUG="false",
            ALLOWED_HOSTS="127.0.0.1",
            SINGLECONNECT_HOSTNAME=self.simulator_url.removeprefix("http://"),
            SINGLECONNECT_SCHEME="http",
            SINGLECONNECT_APPLICATION_NAME="benchmarks",
        )
        if self.args.cache_url:
            environment["CACHE_URL"] = self.args.cache_url
        if self.args.max_concurrent_calls:
            environment["SINGLECONNECT_MAX_CONCURRENT_CALLS"] = self.args.max_concurrent_calls
        if self.args.slot_wait is not None:
            environment["SINGLECONNECT_SLOT_WAIT_SECONDS"] = str(self.args.slot_wait)
        if self.args.max_slow_calls:
            environment["SINGLECONNECT_MAX_SLOW_CALLS"] = self.args.max_slow_calls
        if self.args.slow_call_seconds is not None:
            environment["SINGLECONNECT_SLOW_CALL_SECONDS"] = str(self.args.slow_call_seconds)
        self.base_environment = dict(environment)
        return environment

    def use_limit(self, name: str) -> None:
        """Fresh workers with one of LIMITS."""
        self.environment = {**self.base_environment, **LIMITS[name]}
        self.restart()

    def prepare_database(self, users: int) -> None:
        script = (
            "import sys, django\n"
            "django.setup()\n"
            "from django.core.management import call_command\n"
            "call_command('migrate', interactive=False, verbosity=0)\n"
            "from django.contrib.auth import get_user_model\n"
            "from django.contrib.auth.hashers import make_password\n"
            "from django_singleconnect.models import AttemptCounter\n"
            "prefix, count, password = sys.argv[1], int(sys.argv[2]), sys.argv[3]\n"
            "User = get_user_model()\n"
            "User.objects.filter(username__startswith=prefix).delete()\n"
            "AttemptCounter.objects.filter(username__startswith=prefix).delete()\n"
            "encoded = make_password(password)  # one hash for all: the same password\n"
            "User.objects.bulk_create(\n"
            "    User(username=f'{prefix}{n}', password=encoded) for n in range(count)\n"
            ")\n"
        )
        result = subprocess.run(
            [sys.executable, "-c", script, USER_PREFIX, str(users), PASSWORD],
            env=self.environment,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        if result.returncode != 0:
            raise common.Failure(f"preparing the database failed:\n{result.stderr}")

    def start(self) -> None:
        command = [
            sys.executable,
            "-m",
            "gunicorn",
            "example_project.wsgi:application",
            "--bind",
            f"127.0.0.1:{self.port}",
            "--workers",
            str(self.args.workers),
            "--threads",
            str(self.args.threads),
            "--worker-class",
            "gthread",
            "--chdir",
            str(ROOT),
            "--backlog",
            "2048",
            "--timeout",
            "120",
            "--graceful-timeout",
            "10",
            "--log-level",
            "warning",
        ]
        with open(self.log_path, "ab") as log:
            self.gunicorn = subprocess.Popen(
                command, env=self.environment, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT
            )
        give_up = time.monotonic() + 60
        while time.monotonic() < give_up:
            if self.gunicorn.poll() is not None:
                raise common.Failure(f"gunicorn exited:\n{self.log()}")
            try:
                if requests.get(self.url + "/accounts/login/", timeout=5).status_code == 200:
                    return
            except requests.RequestException:  # not up yet, or a busy machine
                pass
            time.sleep(0.2)
        raise common.Failure("gunicorn did not answer within 60 s")

    def worker_pids(self) -> list[int]:
        assert self.gunicorn is not None
        path = Path(f"/proc/{self.gunicorn.pid}/task/{self.gunicorn.pid}/children")
        return [int(pid) for pid in path.read_text().split()]

    def server_cpu(self) -> float:
        """CPU seconds used so far by the gunicorn workers."""
        ticks = os.sysconf("SC_CLK_TCK")
        total = 0.0
        for pid in self.worker_pids():
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
            except OSError:
                continue
            total += (int(fields[11]) + int(fields[12])) / ticks  # utime, stime
        return total

    def set_latency(self, low: float, high: float) -> None:
        self.latency[0], self.latency[1] = low, high

    def set_fault(self, mode: str, seconds: float = 0.0) -> None:
        response = requests.post(
            self.simulator_url + "/_simulator/fault",
            data={"mode": mode, "seconds": str(seconds)},
            timeout=HTTP_TIMEOUT,
        )
        if response.status_code != 204:
            raise common.Failure(f"the simulator refused the fault: {response.status_code}")

    def log(self) -> str:
        if not self.log_path.exists():
            return ""
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def stop_gunicorn(self) -> None:
        if self.gunicorn is not None and self.gunicorn.poll() is None:
            self.gunicorn.send_signal(signal.SIGTERM)
            try:
                self.gunicorn.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.gunicorn.kill()
                self.gunicorn.wait(timeout=10)
        self.gunicorn = None

    def restart(self) -> None:
        """Fresh workers, with their own circuit breaker when the cache is per process."""
        self.stop_gunicorn()
        self.start()
        self.warm()

    def close_circuit(self) -> None:
        """
        Wait until Single Connect is called again. A shared cache keeps the breaker open
        for SINGLECONNECT_CIRCUIT_RESET_SECONDS after a hang, even across restarts, then
        lets one trial call through, which closes it.
        """
        give_up = time.monotonic() + 90
        for number in itertools.count():
            user = VirtualUser(self.url, self.simulator_url, f"{USER_PREFIX}{number % 16}")
            try:
                user.sign_in()
                user.open_code_page()
                return
            except Unexpected:
                if time.monotonic() > give_up:
                    raise common.Failure("the circuit breaker stayed open for 90 s") from None
                time.sleep(2)

    def warm(self) -> None:
        """Imports, templates, database connections in every worker."""
        users = users_for(self, self.args.workers * self.args.threads)
        run_users(users, VirtualUser.sign_in, limit=300)
        errors = [user.outcome.error for user in users if user.outcome.error]
        if errors:
            raise common.Failure(f"warming the workers up failed: {errors[0]}")

    def stop(self) -> None:
        self.stop_gunicorn()
        if self.simulator_process.is_alive():
            self.simulator_process.terminate()
            self.simulator_process.join(timeout=10)
            if self.simulator_process.is_alive():
                self.simulator_process.kill()
                self.simulator_process.join(timeout=10)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def users_for(site: Site, count: int, first: int = 0) -> list[VirtualUser]:
    return [
        VirtualUser(site.url, site.simulator_url, f"{USER_PREFIX}{number}")
        for number in range(first, first + count)
    ]


def run_phase(
    site: Site,
    name: str,
    count: int,
    flow: Callable[[VirtualUser], None],
    limit: float,
    first: int = 0,
) -> Phase:
    users = users_for(site, count, first)
    server_cpu, client_cpu = site.server_cpu(), time.process_time()
    wall = run_users(users, flow, limit)
    phase = Phase(
        name,
        count,
        wall,
        [user.outcome for user in users],
        site.server_cpu() - server_cpu,
        time.process_time() - client_cpu,
    )
    print(f"  {name}: {count} users in {wall:.1f} s, statuses {dict(phase.statuses)}")
    return phase


def probe(site: Site, seconds: float, rate: float) -> tuple[list[float], Counter[int]]:
    """
    GET /accounts/login/ ``rate`` times a second for ``seconds``, each on a new connection
    and whatever the earlier ones wait for, as independent visitors would.
    """
    latencies: list[float] = []
    statuses: Counter[int] = Counter()
    lock = threading.Lock()

    def visit() -> None:
        started = time.perf_counter()
        try:
            status = requests.get(
                site.url + "/accounts/login/", timeout=HTTP_TIMEOUT, headers={"Connection": "close"}
            ).status_code
        except requests.RequestException:
            status = 0
        with lock:
            latencies.append(time.perf_counter() - started)
            statuses[status] += 1

    visitors = []
    started = time.monotonic()
    for number in range(int(seconds * rate)):
        time.sleep(max(0.0, started + number / rate - time.monotonic()))
        visitor = threading.Thread(target=visit, daemon=True)
        visitor.start()
        visitors.append(visitor)
    give_up = time.monotonic() + HTTP_TIMEOUT[0] + HTTP_TIMEOUT[1] + 5
    for visitor in visitors:
        visitor.join(timeout=max(0.1, give_up - time.monotonic()))
    return latencies, statuses


@dataclass
class Hang:
    hung_users: int
    latency: float
    before: list[float]
    before_statuses: Counter[int]
    during: list[float]
    during_statuses: Counter[int]
    hung: list[Outcome]


def hang_phase(
    site: Site, hung_users: int, latency: float, seconds: float, rate: float, first: int = 0
) -> Hang:
    before, before_statuses = probe(site, seconds, rate)
    users = users_for(site, hung_users, first)

    def to_code_page(user: VirtualUser) -> None:
        user.sign_in()
        user.open_code_page()

    run_users(users, to_code_page, limit=120)
    not_ready = [user.outcome.error for user in users if user.outcome.error]
    if not_ready:
        raise common.Failure(f"users could not reach the code page: {not_ready[:3]}")
    site.set_fault("latency", latency)
    try:
        # A hang longer than the read timeout ends on the 503 page. A shorter one may too:
        # past the call limit, a POST that finds the slots held for longer than the slot
        # wait gives up.
        expected = (302, 503) if latency < DEFAULT_READ_TIMEOUT else (503,)

        def submit(user: VirtualUser) -> None:
            try:
                user.post_code(expected)
            except (Unexpected, requests.RequestException) as error:
                user.outcome.error = f"{type(error).__name__}: {error}"

        submitters = [threading.Thread(target=submit, args=(u,), daemon=True) for u in users]
        for thread in submitters:
            thread.start()
        time.sleep(0.5)  # the code POSTs are now waiting on Single Connect
        during, during_statuses = probe(site, seconds, rate)
        give_up = time.monotonic() + latency * 3 + 60
        for thread in submitters:
            thread.join(timeout=max(0.1, give_up - time.monotonic()))
        if any(thread.is_alive() for thread in submitters):
            raise common.Failure("code POSTs still waiting long after the hang")
    finally:
        site.set_fault("none")
    return Hang(
        hung_users,
        latency,
        before,
        before_statuses,
        during,
        during_statuses,
        [user.outcome for user in users],
    )


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f}"


def report(phases: list[Phase], hangs: list[Hang], log: str) -> list[str]:
    broken: list[str] = []
    if phases:
        broken += report_logins(phases)
    if hangs:
        broken += report_hangs(hangs)
    pool_full = log.count(POOL_FULL)
    print(
        f"\ngunicorn log: {pool_full} '{POOL_FULL}', {log.count('Traceback')} tracebacks, "
        f"{log.count(CIRCUIT_OPENED)} circuit breaker openings, {len(log.splitlines())} lines"
    )
    if pool_full:
        broken.append(f"gunicorn's log has {pool_full} '{POOL_FULL}' warnings")
    tracebacks = log.split("Traceback")[1:]
    for traceback in tracebacks[:2]:
        print("\nTraceback" + "\n".join(traceback.splitlines()[-12:]))
    return broken


def report_logins(phases: list[Phase], quiet: bool = False) -> list[str]:
    broken: list[str] = []
    rows = []
    for phase in phases:
        totals = [outcome.seconds for outcome in phase.outcomes]
        posts = [o.code_post_seconds for o in phase.outcomes if o.code_post_seconds is not None]
        rows.append(
            (
                phase.name,
                phase.users,
                f"{phase.wall:.1f}",
                f"{phase.users / phase.wall:.1f}",
                ms(common.median(totals)),
                ms(common.percentile(totals, 0.95)),
                ms(common.median(posts)) if posts else "-",
                ms(common.percentile(posts, 0.95)) if posts else "-",
                f"{phase.server_cpu / phase.users * 1000:.0f}",
                f"{phase.client_cpu / phase.users * 1000:.0f}",
                " ".join(f"{count}x{status}" for status, count in sorted(phase.statuses.items())),
            )
        )
        server_errors = sum(count for status, count in phase.statuses.items() if status >= 500)
        if server_errors:
            broken.append(f"{phase.name}: {server_errors} responses with a 5xx status")
        if phase.errors:
            broken.append(f"{phase.name}: {len(phase.errors)} users failed, e.g. {phase.errors[0]}")
    if quiet:
        return broken
    print("\n## Logins\n")
    print(
        common.table(
            (
                "phase",
                "users",
                "wall s",
                "logins/s",
                "login p50 ms",
                "login p95 ms",
                "code POST p50 ms",
                "code POST p95 ms",
                "server CPU ms/login",
                "load generator CPU ms/login",
                "statuses",
            ),
            rows,
        )
    )
    password = next(phase for phase in phases if phase.name.startswith("password"))
    for phase in phases:
        if phase is not password:
            ratio = (phase.users / phase.wall) / (password.users / password.wall)
            cpu = phase.server_cpu / password.server_cpu if password.server_cpu else float("nan")
            print(
                f"{phase.name}: {ratio:.2f}x the password-only logins per second, "
                f"{cpu:.2f}x their server CPU"
            )
    return broken


def report_hangs(hangs: list[Hang]) -> list[str]:
    broken: list[str] = []
    print("\n## Single Connect hangs: GET /accounts/login/, new visitors at a steady rate\n")
    rows = []
    for hang in hangs:
        outcomes = Counter(
            status
            for outcome in hang.hung
            for status in outcome.statuses[-1:]  # the code POST's status
        )
        hung_seconds = [o.code_post_seconds or 0.0 for o in hang.hung]
        p95_before = common.percentile(hang.before, 0.95)
        p95_during = common.percentile(hang.during, 0.95)
        p50_ratio = common.median(hang.during) / common.median(hang.before)
        rows.append(
            (
                hang.hung_users,
                f"{hang.latency:g}",
                f"{len(hang.before)} / {len(hang.during)}",
                f"{ms(common.median(hang.before))} / {ms(common.median(hang.during))}",
                f"{ms(p95_before)} / {ms(p95_during)}",
                f"{ms(max(hang.before))} / {ms(max(hang.during))}",
                f"{p50_ratio:.1f}x / {p95_during / p95_before:.1f}x",
                " ".join(f"{count}x{status}" for status, count in sorted(outcomes.items()))
                + f" after {common.median(hung_seconds):.1f} s (median)",
            )
        )
        for statuses in (hang.before_statuses, hang.during_statuses):
            if set(statuses) != {200}:
                broken.append(f"hang with {hang.hung_users} users: probes got {dict(statuses)}")
        for outcome in hang.hung:
            if outcome.error:
                broken.append(f"hang with {hang.hung_users} users: {outcome.error}")
                break
    print(
        common.table(
            (
                "users on the code page",
                "Single Connect latency s",
                "probes before / during",
                "p50 ms before / during",
                "p95 ms before / during",
                "max ms before / during",
                "during / before, p50 / p95",
                "their code POSTs",
            ),
            rows,
        )
    )
    return broken


def login_phases(site: Site, args: argparse.Namespace) -> list[Phase]:
    phases = []
    site.set_latency(0, 0)
    phases.append(run_phase(site, "password only", args.users, VirtualUser.sign_in, 600))
    low, high = args.latency
    site.set_latency(low, high)
    name = f"code step, Single Connect {low * 1000:.0f}-{high * 1000:.0f} ms"
    phases.append(run_phase(site, name, args.users, VirtualUser.whole_login, 600))
    site.set_latency(0, 0)
    phases.append(
        run_phase(site, "code step, no latency", args.users, VirtualUser.whole_login, 600)
    )
    return phases


def compare_limits(site: Site, args: argparse.Namespace, names: list[str]) -> list[str]:
    """The burst of whole logins, and the hangs, under each limit in turn, interleaved."""
    low, high = args.latency
    rates: dict[str, list[float]] = {name: [] for name in names}
    broken: list[str] = []
    hangs: list[tuple[str, Hang]] = []
    # Users of their own for each burst: each login takes a code from its user's budget.
    first_user = itertools.count(max([*args.hung_counts, args.workers * args.threads]), args.users)
    for number in range(args.rounds):
        order = names[number % len(names) :] + names[: number % len(names)]
        for name in order:
            site.use_limit(name)
            site.set_latency(low, high)
            phase = run_phase(
                site,
                f"round {number + 1}, {name}",
                args.users,
                VirtualUser.whole_login,
                600,
                next(first_user),
            )
            site.set_latency(0, 0)
            rates[name].append(phase.users / phase.wall)
            broken += report_logins([phase], quiet=True)
    for count in args.hung_counts:
        for name in names:
            site.use_limit(name)
            site.close_circuit()
            print(f"  hang, {name}: {count} users on the code page, {args.hang_latency:g} s")
            hang = hang_phase(
                site,
                count,
                args.hang_latency,
                args.probe_seconds,
                args.probe_rate,
                next(first_user),
            )
            hangs.append((name, hang))
    base = names[-1]
    print(f"\n## Whole logins, Single Connect {low * 1000:.0f}-{high * 1000:.0f} ms: logins/s\n")
    rows = []
    for name in names:
        ratios = [mine / theirs for mine, theirs in zip(rates[name], rates[base], strict=True)]
        rows.append(
            (
                name,
                " ".join(f"{rate:.1f}" for rate in rates[name]),
                f"{common.median(rates[name]):.1f}",
                " ".join(f"{ratio:.3f}" for ratio in ratios),
                f"{common.median(ratios):.3f}",
            )
        )
    print(
        common.table(
            ("limit", "per round", "median", f"/ {base}, per round", f"/ {base}, median"), rows
        )
    )
    for name, hang in hangs:
        print(f"\nlimit {name}:")
        broken += report_hangs([hang])
    return broken


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="10 users, short latencies")
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--latency", type=float, nargs=2, default=(0.05, 0.5), metavar="S")
    parser.add_argument("--hang-latency", type=float, default=30.0)
    parser.add_argument(
        "--hung-users", default="8,32", help="users on the code page in each hang, e.g. 8,32"
    )
    parser.add_argument("--probe-seconds", type=float, default=8.0)
    parser.add_argument("--probe-rate", type=float, default=25, help="probes a second")
    parser.add_argument("--database-url", help="DATABASE_URL (default: a SQLite file)")
    parser.add_argument("--cache-url", help="CACHE_URL (default: local memory per worker)")
    parser.add_argument("--hang-only", action="store_true", help="skip the login phases")
    parser.add_argument(
        "--max-concurrent-calls",
        help="SINGLECONNECT_MAX_CONCURRENT_CALLS for the site, a number or none (default: 2)",
    )
    parser.add_argument(
        "--slot-wait",
        type=float,
        help="SINGLECONNECT_SLOT_WAIT_SECONDS for the site (default: 1)",
    )
    parser.add_argument(
        "--max-slow-calls",
        help="SINGLECONNECT_MAX_SLOW_CALLS for the site, a number or none (default: 2)",
    )
    parser.add_argument(
        "--slow-call-seconds",
        type=float,
        help="SINGLECONNECT_SLOW_CALL_SECONDS for the site (default: 1)",
    )
    parser.add_argument(
        "--compare-limits",
        help=f"compare call limits side by side, e.g. old,new,none (of {', '.join(LIMITS)})",
    )
    parser.add_argument("--rounds", type=int, default=3, help="with --compare-limits")
    parser.add_argument(
        "--fast-hasher", action="store_true", help="MD5 passwords (default: Django's PBKDF2)"
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.users, args.latency = 10, (0.01, 0.05)
        args.hang_latency, args.hung_users, args.probe_seconds = 3.0, "4", 2.0
    hung_users = [int(count) for count in args.hung_users.split(",") if count.strip()]
    args.hung_counts = hung_users
    compared = [name.strip() for name in (args.compare_limits or "").split(",") if name.strip()]
    unknown = sorted(set(compared) - set(LIMITS))
    if unknown:
        parser.error(f"unknown limits {unknown}, not among {sorted(LIMITS)}")
    users = max([args.users, *hung_users, args.workers * args.threads])
    if compared:
        users += args.users * (args.rounds + len(hung_users)) * len(compared)

    with tempfile.TemporaryDirectory(prefix="bench-load-") as directory:
        workdir = Path(directory)
        common.print_machine()
        site = Site(args, workdir)
        try:
            site.prepare_database(users)
            site.start()
            print(
                f"gunicorn {args.workers} workers x {args.threads} threads (gthread), "
                f"database {site.environment['DATABASE_URL'].partition(':')[0]}, "
                f"cache {args.cache_url or 'local memory per worker'}, "
                f"{'MD5' if args.fast_hasher else 'PBKDF2'} passwords, "
                "SINGLECONNECT_MAX_CONCURRENT_CALLS "
                f"{args.max_concurrent_calls or 'None (default)'}, "
                "SINGLECONNECT_SLOT_WAIT_SECONDS "
                f"{'1 (default)' if args.slot_wait is None else f'{args.slot_wait:g}'}, "
                f"SINGLECONNECT_MAX_SLOW_CALLS {args.max_slow_calls or '2 (default)'}, "
                "SINGLECONNECT_SLOW_CALL_SECONDS "
                f"{'1 (default)' if args.slow_call_seconds is None else args.slow_call_seconds}"
            )
            site.warm()
            if compared:
                broken = compare_limits(site, args, compared)
                site.stop()
                return common.finish(broken + report([], [], site.log()))
            phases = [] if args.hang_only else login_phases(site, args)
            hangs = []
            for index, count in enumerate(hung_users):
                if index:
                    site.restart()
                site.close_circuit()
                print(f"  hang: {count} users on the code page, latency {args.hang_latency:g} s")
                hangs.append(
                    hang_phase(site, count, args.hang_latency, args.probe_seconds, args.probe_rate)
                )
        except common.Failure:
            print(f"gunicorn's log ends with:\n{site.log()[-3000:]}", file=sys.stderr)
            raise
        finally:
            site.stop()
        broken = report(phases, hangs, site.log())
    return common.finish(broken)


if __name__ == "__main__":
    common.run(main)
