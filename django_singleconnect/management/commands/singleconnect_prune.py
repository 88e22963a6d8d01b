from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from django_singleconnect.conf import get_config
from django_singleconnect.operations.prune import BATCH_SIZE, prune


class Command(BaseCommand):
    help = (
        "Delete the rows of django_singleconnect that can no longer count: audit events older "
        "than SINGLECONNECT_AUDIT_RETENTION_DAYS (the newest change of each settings field "
        "is kept), used codes past the replay window, counters and code budgets whose "
        "windows are long over (never a lockout in force), expired remembered browsers. "
        "Reads the admin's values, so it needs the database."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Only say how many rows of each kind would be deleted.",
        )
        parser.add_argument(
            "--batch-size",
            type=int,
            default=BATCH_SIZE,
            metavar="ROWS",
            help=f"Rows deleted per statement (default {BATCH_SIZE}).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["batch_size"] < 1:
            raise CommandError("--batch-size must be 1 or more.")
        dry_run = options["dry_run"]
        results = prune(get_config(), dry_run=dry_run, batch_size=options["batch_size"])
        self.stdout.write("Would delete:" if dry_run else "Deleted:")
        width = max(len(str(result.count)) for result in results)
        for result in results:
            self.stdout.write(f"  {result.count:>{width}}  {result.description}")
