from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from django_singleconnect.conf import get_config
from django_singleconnect.operations.unlock import (
    NoSingleConnectName,
    operator,
    target,
    unlock,
    unlock_all,
)


class Command(BaseCommand):
    help = (
        "Clear the lockout and the count of wrong codes of a Single Connect username (a Django "
        "username is mapped through SINGLECONNECT_USERNAME first), or with --all of everyone "
        "locked out now. Each clearance is written to the audit log. Reads the admin's "
        "values, so it needs the database."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username", nargs="?", help="The Single Connect username.")
        parser.add_argument("--all", action="store_true", help="Clear every lockout in force now.")
        parser.add_argument(
            "--as-is",
            action="store_true",
            help="Take USERNAME as the Single Connect name even when a Django user has it.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        name, everyone = options["username"], options["all"]
        if bool(name) == everyone:
            raise CommandError("Give either a USERNAME or --all.")
        who = operator()
        if everyone:
            cleared = unlock_all(who)
            for each in cleared:
                self.stdout.write(f"Cleared {each.username!r}: {each.describe()}.")
            self.stdout.write(
                f"Cleared {len(cleared)} lockout{'s' if len(cleared) != 1 else ''}."
                if cleared
                else "No lockout in force."
            )
            return
        try:
            found = target(name, get_config(), as_is=options["as_is"])
        except NoSingleConnectName as exc:
            raise CommandError(
                f"SINGLECONNECT_USERNAME gives no Single Connect name for the Django user "
                f"{name!r}; use --as-is to take {name!r} as the Single Connect name."
            ) from exc
        if found.django_user is not None:
            self.stdout.write(
                f"The Django user {name!r} is {found.single_connect_name!r} in Single Connect."
            )
        result = unlock(found.key, who)
        if result is None:
            self.stdout.write(f"Nothing to clear for {found.key!r}: no lockout, no wrong code.")
        else:
            self.stdout.write(f"Cleared {result.username!r}: {result.describe()}.")
