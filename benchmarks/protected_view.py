"""
One verified request to a protected page: ``singleconnect_required`` (with
``SingleConnectMiddleware``) against a plain ``login_required`` and against django-otp's
``OTPMiddleware`` + ``otp_required``, for the same user, in one process.

Each stack is a real ``WSGIHandler`` with its own middleware list and its page alone at
``/report/``; the requests carry the session cookie of a real login (the Single Connect one
went through the code page against the simulator, the django-otp one holds a confirmed
static device). A fourth stack is a step-up page (``singleconnect_required(max_age=3600)``,
the code typed moments before), a fifth shows what ``SingleConnectMiddleware`` costs on a page
that is not decorated. Small batches are interleaved, a different stack first in each round;
the figures are medians over rounds. Database queries are counted per request: a verified
Single Connect request, step-up included, must cost no query beyond the plain one, or the
script fails.

    python benchmarks/protected_view.py            # full run
    python benchmarks/protected_view.py --quick    # a tiny run that proves it works
    python benchmarks/protected_view.py --profile  # where the Single Connect request spends
    python benchmarks/protected_view.py --cache-url redis://127.0.0.1:6379/0
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import io
import os
import pstats
import re
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import common

USERNAME = "alice"
PASSWORD = "benchmark password"
TARGET_RATIO = 1.02

PLAIN = "plain login_required"
SINGLECONNECT = "singleconnect_required"
STEP_UP = "singleconnect_required(max_age=3600)"
DJANGO_OTP = "django-otp otp_required"
UNDECORATED = "login_required + SingleConnectMiddleware"


@dataclass
class Stack:
    name: str
    view: str
    middleware: str | None
    session: str
    handler: Any = None
    environ: dict[str, Any] = field(default_factory=dict)
    #: Per batch: wall-clock and process CPU seconds per request.
    wall: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)
    queries: list[str] = field(default_factory=list)


def stacks() -> list[Stack]:
    sc_middleware = "django_singleconnect.middleware.SingleConnectMiddleware"
    return [
        Stack(PLAIN, "plain", None, PLAIN),
        Stack(SINGLECONNECT, "singleconnect", sc_middleware, SINGLECONNECT),
        Stack(STEP_UP, "singleconnect_max_age", sc_middleware, SINGLECONNECT),
        Stack(DJANGO_OTP, "django_otp", "django_otp.middleware.OTPMiddleware", DJANGO_OTP),
        # A page of the same site that is not decorated, for a verified session.
        Stack(UNDECORATED, "plain", sc_middleware, SINGLECONNECT),
    ]


def build_handler(stack: Stack) -> Any:
    from django.core.handlers.wsgi import WSGIHandler, WSGIRequest
    from django.test import override_settings

    from benchmarks import settings, urls

    class Request(WSGIRequest):
        # Django resolves with request.urlconf when there is one; a module-like object will do.
        urlconf = urls.report_urls(getattr(urls, stack.view))  # type: ignore[assignment]

    class Handler(WSGIHandler):
        request_class = Request

    middleware = list(settings.BASE_MIDDLEWARE)
    if stack.middleware:
        middleware = settings.with_middleware(stack.middleware)
    # The handler reads MIDDLEWARE once, when it is built.
    with override_settings(MIDDLEWARE=middleware):
        return Handler()


def environ_for(session_key: str) -> dict[str, Any]:
    """What a WSGI server hands Django for a browser's GET with the session cookie."""
    return {
        "REQUEST_METHOD": "GET",
        "SCRIPT_NAME": "",
        "PATH_INFO": "/report/",
        "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_HOST": "127.0.0.1:8000",
        "HTTP_USER_AGENT": "benchmarks/protected_view",
        "HTTP_ACCEPT": "text/html",
        "HTTP_COOKIE": f"sessionid={session_key}",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": False,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }


def request(handler: Any, template: dict[str, Any]) -> str:
    """One request through the handler, as a WSGI server makes it; returns the status line."""
    environ = dict(template)
    environ["wsgi.input"] = io.BytesIO(b"")
    statuses: list[str] = []

    def start_response(status: str, headers: Any, exc_info: Any = None) -> None:
        statuses.append(status)

    response = handler(environ, start_response)
    try:
        for _chunk in response:
            pass
    finally:
        response.close()  # sends request_finished, as servers do
    return statuses[0]


def sessions() -> dict[str, str]:
    """A session key per kind of login, each a real login of the same user."""
    from django.contrib.auth import get_user_model
    from django.contrib.sessions.backends.db import SessionStore
    from django.test import Client, override_settings
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_static.models import StaticDevice

    from django_singleconnect.simulator import Simulator
    from django_singleconnect.state import PENDING_KEY

    user = get_user_model().objects.create_user(USERNAME, password=PASSWORD)
    device = StaticDevice.objects.create(user=user, name="backup codes", confirmed=True)
    device.token_set.create(token="12345678")

    def password_login(**extra: Any) -> str:
        client = Client()
        response = client.post("/accounts/login/", {"username": USERNAME, "password": PASSWORD})
        if response.status_code != 302:
            raise common.Failure(f"password login answered {response.status_code}")
        key = client.cookies["sessionid"].value
        # The package starts a second-factor step at every login; a site without it would
        # not carry that in its sessions.
        store = SessionStore(session_key=key)
        store.pop(PENDING_KEY, None)
        store.update(extra)
        store.save()
        return key

    keys = {
        PLAIN: password_login(),
        # What django_otp.login() stores once verify_token() accepted the device's token.
        DJANGO_OTP: password_login(**{DEVICE_ID_SESSION_KEY: device.persistent_id}),
    }
    with Simulator(output=None) as simulator, override_settings(**simulator.django_settings()):
        client = Client()
        client.post("/accounts/login/", {"username": USERNAME, "password": PASSWORD})
        page = client.get("/2fa/verify/", {"next": "/"})
        code = simulator.current_code(USERNAME)
        answer = client.post("/2fa/verify/", {"token": code, "next": "/"})
        if page.status_code != 200 or answer.status_code != 302:
            raise common.Failure(
                f"the code step answered {page.status_code} and {answer.status_code}"
            )
        keys[SINGLECONNECT] = client.cookies["sessionid"].value
    return keys


def count_queries(stack: Stack, requests: int) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for _ in range(requests):
        with CaptureQueriesContext(connection) as captured:
            status = request(stack.handler, stack.environ)
        if status != "200 OK":
            raise common.Failure(f"{stack.name}: /report/ answered {status}")
        stack.queries = [query["sql"] for query in captured.captured_queries]


def time_batch(stack: Stack, requests: int) -> None:
    handler, environ = stack.handler, stack.environ
    failures = 0
    cpu_started = time.process_time()
    started = time.perf_counter()
    for _ in range(requests):
        if request(handler, environ) != "200 OK":
            failures += 1
    elapsed = time.perf_counter() - started
    cpu = time.process_time() - cpu_started
    if failures:
        raise common.Failure(f"{stack.name}: {failures} of {requests} requests were not 200")
    stack.wall.append(elapsed / requests)
    stack.cpu.append(cpu / requests)


def profile(stack: Stack, requests: int) -> None:
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(requests):
        request(stack.handler, stack.environ)
    profiler.disable()
    print(f"\n## cProfile, {requests} requests, {stack.name}\n")
    pstats.Stats(profiler).sort_stats("tottime").print_stats(12)


def table_name(sql: str) -> str:
    """The table a query reads or writes, for the report."""
    match = re.search(r'(?:FROM|INTO|UPDATE) "(\w+)"', sql)
    return match.group(1) if match else sql[:30]


def report(by_name: dict[str, Stack], rounds: int, batch: int) -> bool:
    plain = by_name[PLAIN]
    rows = []
    for stack in by_name.values():
        wall, cpu = common.median(stack.wall), common.median(stack.cpu)
        paired = common.median(
            [mine / base for mine, base in zip(stack.cpu, plain.cpu, strict=True)]
        )
        rows.append(
            (
                stack.name,
                f"{wall * 1e6:.0f}",
                f"{wall / common.median(plain.wall):.3f}",
                f"{cpu * 1e6:.0f}",
                f"{cpu / common.median(plain.cpu):.3f}",
                f"{paired:.3f}",
                len(stack.queries),
                ", ".join(table_name(sql) for sql in stack.queries),
            )
        )
    print(f"\n{rounds} rounds x {batch} requests per stack, interleaved; medians over rounds\n")
    print(
        common.table(
            (
                "stack",
                "µs/request",
                "x plain",
                "CPU µs/request",
                "CPU x plain",
                "CPU x plain, paired rounds",
                "queries",
                "tables",
            ),
            rows,
        )
    )
    singleconnect = by_name[SINGLECONNECT]
    wall_ratio = common.median(singleconnect.wall) / common.median(plain.wall)
    cpu_ratio = common.median(singleconnect.cpu) / common.median(plain.cpu)
    difference = common.median(singleconnect.cpu) - common.median(plain.cpu)
    extra = len(singleconnect.queries) - len(plain.queries)
    print(
        f"\ntarget singleconnect ≤ {TARGET_RATIO}x plain: {wall_ratio:.3f}x wall-clock, "
        f"{cpu_ratio:.3f}x CPU, {difference * 1e6:+.1f} µs CPU per request "
        f"({common.verdict(max(wall_ratio, cpu_ratio) <= TARGET_RATIO)})"
    )
    print(f"target no extra query over plain: {extra:+d} ({common.verdict(extra <= 0)})")
    step_up = by_name[STEP_UP]
    step_up_extra = len(step_up.queries) - len(plain.queries)
    print(
        f"step-up (max_age) over plain: "
        f"{common.median(step_up.cpu) / common.median(plain.cpu):.3f}x CPU, "
        f"{step_up_extra:+d} queries ({common.verdict(step_up_extra <= 0)})"
    )
    print(f"django-otp over plain: {len(by_name[DJANGO_OTP].queries) - len(plain.queries):+d}")
    undecorated = by_name[UNDECORATED]
    print(
        "SingleConnectMiddleware on an undecorated page: "
        f"{(common.median(undecorated.cpu) - common.median(plain.cpu)) * 1e6:+.1f} µs CPU"
    )
    return extra <= 0 and step_up_extra <= 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a tiny run that proves it works")
    parser.add_argument("--rounds", type=int, default=600)
    parser.add_argument("--batch", type=int, default=20, help="requests per stack and round")
    parser.add_argument("--profile", action="store_true", help="cProfile the Single Connect stack")
    parser.add_argument("--cache-url", help="a Redis cache instead of local memory")
    args = parser.parse_args(argv)
    if args.quick:
        args.rounds, args.batch = 30, 10
    if args.cache_url:
        os.environ["BENCHMARK_CACHE_URL"] = args.cache_url

    with tempfile.TemporaryDirectory(prefix="bench-protected-") as workdir:
        common.setup_django(Path(workdir))
        common.print_machine()
        print(f"cache: {args.cache_url or 'local memory'}")
        keys = sessions()
        by_name = {stack.name: stack for stack in stacks()}
        for stack in by_name.values():
            stack.handler = build_handler(stack)
            stack.environ = environ_for(keys[stack.session])
            count_queries(stack, 3)  # also warms every cache on the way
            time_batch(stack, 200)  # warm-up, not reported
            stack.wall.clear()
            stack.cpu.clear()
        # Small batches, interleaved, a different stack first in each round: the other
        # processes of a shared machine slow all of them alike.
        order = list(by_name.values())
        gc.collect()
        for index in range(args.rounds):
            shift = index % len(order)
            for stack in order[shift:] + order[:shift]:
                time_batch(stack, args.batch)
        ok = report(by_name, args.rounds, args.batch)
        if args.profile:
            profile(by_name[SINGLECONNECT], 2000)
            profile(by_name[PLAIN], 2000)
    return common.finish(
        [] if ok else ["a verified Single Connect request costs more queries than a plain one"]
    )


if __name__ == "__main__":
    common.run(main)
