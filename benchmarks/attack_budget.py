"""
The most codes one attacker who knows a user's password can make Single Connect send that
user, through gunicorn serving the example project, against the simulator (the site's
default settings: SINGLECONNECT_MAX_CODES_PER_HOUR = 10).

Each attacking login signs in with the password, opens the code page (one code, unless a
limit refuses) and asks for a new code ``--resends`` times at once. Two phases, each
against a user of its own, both well within one hour:

1. ``--logins`` logins one after another;
2. the same number of logins all at once, from ``--parallel`` threads.

The figure is the simulator's count of ``otpstatus`` calls for that user. The script fails
when either phase gets more codes than the budget, or any 5xx.

    python benchmarks/attack_budget.py              # 200 logins a phase, 3 resends each
    python benchmarks/attack_budget.py --quick      # 20 logins a phase
    python benchmarks/attack_budget.py --database-url postgres://postgres@127.0.0.1:5432/bench
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import common
from benchmarks.load import HTTP_TIMEOUT, USER_PREFIX, Site, Unexpected, VirtualUser

#: The example project keeps the package's default.
BUDGET = 10


def attack(site: Site, username: str, resends: int) -> list[int]:
    """One login with the password: the code page, then ``resends`` requests for a new code."""
    user = VirtualUser(site.url, site.simulator_url, username)
    user.sign_in()
    page = user.request("GET", "/2fa/verify/?next=/", (200, 429))
    statuses = [page.status_code]
    for _ in range(resends):
        answer = user.request(
            "POST",
            "/2fa/resend/",
            (200, 302, 429),
            data={"next": "/", "csrfmiddlewaretoken": user.token},
        )
        statuses.append(answer.status_code)
    return statuses


def codes_sent(site: Site) -> int:
    stats = requests.get(f"{site.simulator_url}/_simulator/stats", timeout=HTTP_TIMEOUT).json()
    return int(stats["otpstatus"])


def phase(site: Site, username: str, logins: int, threads: int, resends: int) -> tuple[int, float]:
    before = codes_sent(site)
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=threads) as pool:
        results = list(pool.map(lambda _: attack(site, username, resends), range(logins)))
    seconds = time.perf_counter() - started
    if any(status >= 500 for statuses in results for status in statuses):
        raise Unexpected("a 5xx during the attack")
    return codes_sent(site) - before, seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--logins", type=int, default=200)
    parser.add_argument("--parallel", type=int, default=40, help="threads of phase 2")
    parser.add_argument("--resends", type=int, default=3)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--database-url")
    args = parser.parse_args()
    if args.quick:
        args.logins, args.parallel = 20, 10
    # What load.Site reads.
    args.cache_url = None
    args.fast_hasher = True  # the password hash is not what is measured here
    args.max_concurrent_calls = None
    args.slot_wait = None
    args.max_slow_calls = None
    args.slow_call_seconds = None
    args.workers, args.threads = 2, 8
    common.print_machine()
    broken = []
    with tempfile.TemporaryDirectory() as workdir:
        site = Site(args, Path(workdir))
        try:
            site.prepare_database(2)
            site.start()
            rows = []
            for number, (name, threads) in enumerate(
                [("one after another", 1), (f"all at once, {args.parallel} threads", args.parallel)]
            ):
                codes, seconds = phase(
                    site, f"{USER_PREFIX}{number}", args.logins, threads, args.resends
                )
                rows.append((name, args.logins, args.logins * (1 + args.resends), codes, BUDGET))
                print(f"{name}: {codes} codes in {seconds:.1f} s", flush=True)
                if codes > BUDGET:
                    broken.append(f"{name}: {codes} codes, more than the budget of {BUDGET}")
        finally:
            site.stop()
    print()
    print(
        common.table(
            ["logins", "count", "requests for a code", "codes sent", "budget per hour"], rows
        )
    )
    return common.finish(broken)


if __name__ == "__main__":
    common.run(main)
