from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError

from django_singleconnect.conf import Settings, get_config
from django_singleconnect.operations.check import WARN_DAYS, check
from django_singleconnect.operations.report import Report

SOURCES = {
    "admin": "the admin",
    "settings": "settings.py",
    "default": "nowhere",
    "unknown": "an unreadable database",
}


class Command(BaseCommand):
    help = (
        "Check each Single Connect node without sending a code: DNS, TCP, TLS (the CA bundle, "
        "the client certificate, days until the server certificate expires) and one GET of "
        "the base path (never otpstatus or otpvalid). Exit status: 0 every node ok, 2 some "
        "node down but another fully ok, 1 none ok or misconfigured. Reads the admin's "
        "values, so it needs the database."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--json", action="store_true", help="Print the results as JSON.")
        parser.add_argument(
            "--warn-days",
            type=int,
            default=WARN_DAYS,
            metavar="DAYS",
            help=f"Warn when a server certificate expires within DAYS (default {WARN_DAYS}).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["warn_days"] < 0:
            raise CommandError("--warn-days must be 0 or more.")
        try:
            config = get_config()
        except DatabaseError as exc:
            # Not the nodes' fault, but no login can work either: say so, as a result.
            config = Settings()
            report = Report(config.SCHEME, config.BASE_PATH, "unknown")
            report.problems.append(
                f"the admin's values could not be read from the database "
                f"({type(exc).__name__}: {exc})"
            )
        else:
            report = check(config, options["warn_days"])
        if options["json"]:
            self.stdout.write(json.dumps(report.as_dict(), indent=2))
        else:
            self.write_table(report)
        if report.exit_code:
            raise SystemExit(report.exit_code)

    def write_table(self, report: Report) -> None:
        self.stdout.write(
            f"Single Connect: {report.scheme}, base path {report.base_path}, host names from "
            f"{SOURCES.get(report.hostname_source, report.hostname_source)}"
        )
        for problem in report.problems:
            self.stdout.write(self.style.ERROR(f"Problem: {problem}"))
        if report.nodes:
            rows = [("NODE", "STEP", "RESULT", "TIME", "DETAIL")]
            for node in report.nodes:
                for index, step in enumerate(node.steps):
                    time = "" if step.ms is None else f"{step.ms:.1f} ms"
                    name = node.node if index == 0 else ""
                    rows.append((name, step.name, step.status, time, step.detail))
            widths = [max(len(row[column]) for row in rows) for column in range(4)]
            for row in rows:
                cells = [cell.ljust(width) for cell, width in zip(row[:4], widths, strict=True)]
                cells[3] = row[3].rjust(widths[3])
                self.stdout.write("  ".join([*cells, row[4]]).rstrip())
        up = sum(node.ok for node in report.nodes)
        summary = (
            f"Result: {report.status}, {up} of {len(report.nodes)} "
            f"node{'s' if len(report.nodes) != 1 else ''} ok (exit status {report.exit_code})"
        )
        style = {0: self.style.SUCCESS, 2: self.style.WARNING}.get(report.exit_code)
        self.stdout.write((style or self.style.ERROR)(summary))
