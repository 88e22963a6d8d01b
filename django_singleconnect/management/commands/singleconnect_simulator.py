from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from django_singleconnect.simulator import DEFAULT_CODE_TTL, Simulator


class Command(BaseCommand):
    help = (
        "Run a local Single Connect OTP simulator. It prints each code it issues; "
        "it never talks to a real Single Connect."
    )
    # The simulator needs no SINGLECONNECT_* setting, so it must start when they are missing.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8765)
        parser.add_argument(
            "--inactive",
            default="",
            metavar="NAME,NAME",
            help="Usernames for whom OTP is not active (otpstatus answers false).",
        )
        parser.add_argument("--code-ttl", type=float, default=DEFAULT_CODE_TTL, metavar="SECONDS")
        parser.add_argument("--certfile", help="Serve HTTPS with this certificate (PEM).")
        parser.add_argument("--keyfile", help="The private key of --certfile, if separate.")

    def handle(self, *args: Any, **options: Any) -> None:
        simulator = Simulator(
            options["host"],
            options["port"],
            inactive=[name.strip() for name in options["inactive"].split(",") if name.strip()],
            code_ttl=options["code_ttl"],
            certfile=options["certfile"],
            keyfile=options["keyfile"],
            output=self.stdout,
        )
        self.stdout.write(
            f"Single Connect simulator on {simulator.url} "
            f"(SINGLECONNECT_HOSTNAME={simulator.hostname}, "
            f"SINGLECONNECT_SCHEME={simulator.scheme})"
        )
        self.stdout.write("Quit with CONTROL-C.")
        # Block-buffered when piped (docker logs, tee): the address must show up now.
        self.stdout.flush()
        #: For callers that run the command in a thread and must stop it.
        self.simulator = simulator
        try:
            simulator.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            simulator.stop()
