"""
What the benchmark scripts share: Django set-up, the machine's description, statistics and
Markdown tables. Timing targets are reported, never asserted; ``Failure`` is for things that
are broken (a 5xx, an error, a wrong query count) and makes the script exit non-zero.
"""

from __future__ import annotations

import datetime as dt
import math
import os
import platform
import sys
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import NoReturn

ROOT = Path(__file__).resolve().parent.parent


class Failure(Exception):
    """Something is broken, not merely slow."""


def setup_django(workdir: Path, database_url: str | None = None) -> None:
    """
    Configure Django with ``benchmarks.settings`` and migrate: a fresh SQLite file in
    ``workdir``, or the PostgreSQL database at ``database_url`` (a database of its own).
    """
    os.environ["DJANGO_SETTINGS_MODULE"] = "benchmarks.settings"
    os.environ["BENCHMARK_SQLITE"] = str(workdir / "benchmarks.sqlite3")
    if database_url:
        os.environ["BENCHMARK_DATABASE_URL"] = database_url
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", interactive=False, verbosity=0)


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.partition(":")[2].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def machine() -> dict[str, str]:
    import django

    return {
        "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "nproc": str(len(os.sched_getaffinity(0))),
        "cpu": cpu_model(),
        "python": platform.python_version(),
        "django": django.get_version(),
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
    }


def print_machine() -> None:
    info = machine()
    print(
        f"{info['date']} | nproc {info['nproc']} | {info['cpu']} | "
        f"Python {info['python']} | Django {info['django']}"
    )
    print(f"command: {info['command']}")


def database() -> str:
    """The database in use, for the report."""
    from django.db import connection

    if connection.vendor == "sqlite":
        import sqlite3

        return f"SQLite {sqlite3.sqlite_version}, a file"
    version = connection.cursor().connection.info.server_version
    return f"PostgreSQL {version // 10000}.{version % 10000} on 127.0.0.1"


def percentile(values: Sequence[float], fraction: float) -> float:
    """Linear interpolation between the closest ranks; ``fraction`` in [0, 1]."""
    if not values:
        return math.nan
    ordered = sorted(values)
    position = (len(ordered) - 1) * fraction
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def median(values: Sequence[float]) -> float:
    return percentile(values, 0.5)


def table(headers: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    """A Markdown table, numbers already formatted by the caller."""
    lines = [
        "| " + " | ".join(headers) + " |",
        "|" + "|".join("---" for _ in headers) + "|",
    ]
    lines.extend("| " + " | ".join(str(cell) for cell in row) + " |" for row in rows)
    return "\n".join(lines)


def verdict(met: bool) -> str:
    return "met" if met else "MISSED"


def finish(broken: Sequence[str]) -> int:
    """Say what is broken, if anything; the exit status of a script's main()."""
    for reason in broken:
        print(f"FAIL: {reason}", file=sys.stderr)
    return 1 if broken else 0


def run(main: Callable[[], int]) -> NoReturn:
    """Run a script's main(); a Failure means the benchmark is broken: exit 1."""
    try:
        status = main()
    except Failure as failure:
        print(f"FAIL: {failure}", file=sys.stderr)
        status = 1
    sys.exit(status)
