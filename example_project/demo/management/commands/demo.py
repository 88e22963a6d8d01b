"""
``python manage.py demo``: the whole example on one machine, in one terminal.

Migrates, makes the user demo/demo, starts the Single Connect simulator in this process and
runs ``runserver`` in a child process pointed at it. The simulator prints each code here.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path
from types import FrameType
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser

from django_singleconnect import lockout
from django_singleconnect.models import SingleConnectConfiguration
from django_singleconnect.simulator import Simulator

USERNAME = "demo"
PASSWORD = "demo"


class Command(BaseCommand):
    help = (
        "Run the example site against a local Single Connect simulator: migrate, create the "
        "superuser demo/demo, then serve. The codes are printed in this terminal."
    )
    # runserver runs the system checks; running them here as well prints every warning twice.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--addrport",
            default="127.0.0.1:8000",
            help="Where the site listens, as for runserver (default 127.0.0.1:8000).",
        )
        parser.add_argument(
            "--noreload",
            "--no-reload",
            action="store_false",
            dest="use_reloader",
            help="Do not restart the site when a Python file changes.",
        )

    def handle(self, *args: Any, addrport: str, use_reloader: bool, **options: Any) -> None:
        call_command("migrate", interactive=False, verbosity=0)
        self.reset_demo_data()
        with Simulator("127.0.0.1", 0, output=sys.stdout) as simulator:
            self.print_instructions(simulator, addrport)
            self.serve(simulator, addrport, use_reloader)
        self.stdout.write("Demo stopped.")

    def reset_demo_data(self) -> None:
        """The demo user with the demo password, not locked out, and the simulator in use."""
        user, _ = get_user_model().objects.get_or_create(username=USERNAME)
        user.set_password(PASSWORD)
        user.is_active = user.is_staff = user.is_superuser = True
        user.save()
        lockout.reset(USERNAME)
        # A host name saved in the admin would win over the simulator's.
        stored = SingleConnectConfiguration.objects.filter(pk=1).first()
        if stored is not None and stored.hostname:
            stored.hostname = ""
            stored.save()
            self.stdout.write("Cleared the host name saved in the admin, so the simulator is used.")

    def print_instructions(self, simulator: Simulator, addrport: str) -> None:
        site = f"http://127.0.0.1:{addrport}/" if addrport.isdigit() else f"http://{addrport}/"
        self.stdout.write(
            f"\nSingle Connect simulator on {simulator.url}"
            f" (SINGLECONNECT_HOSTNAME={simulator.hostname})\n"
            f"\n"
            f"  1. Open {self.style.SUCCESS(site)}\n"
            f"  2. Log in as {self.style.SUCCESS(USERNAME)}, password "
            f"{self.style.SUCCESS(PASSWORD)} (a superuser: {site}admin/ works too).\n"
            f'  3. Type the code printed below as "code for {USERNAME}: 123456"\n'
            f"     (or read it at {simulator.url}/_simulator/otp?username={USERNAME}).\n"
            f"\n"
            f"The warning django_singleconnect.W001 is expected: the simulator speaks plain http.\n"
            f"Quit with CONTROL-C.\n"
        )
        self.stdout.flush()

    def serve(self, simulator: Simulator, addrport: str, use_reloader: bool) -> None:
        manage = Path(settings.BASE_DIR) / "manage.py"
        command = [sys.executable, str(manage), "runserver", addrport]
        if not use_reloader:
            command.append("--noreload")
        environment = {**os.environ, **simulator.django_settings()}
        # CONTROL-C and SIGTERM both stop the server and the simulator, even when a script
        # started the demo in the background (where the shell makes it ignore CONTROL-C).
        previous = {
            signum: signal.signal(signum, _interrupt) for signum in (signal.SIGINT, signal.SIGTERM)
        }
        server = subprocess.Popen(command, env=environment)  # noqa: S603 (our own manage.py)
        try:
            status = server.wait()
        except KeyboardInterrupt:
            status = 0
        finally:
            _stop(server)
            for signum, handler in previous.items():
                signal.signal(signum, handler)
        if status != 0:
            raise CommandError(f"runserver exited with status {status}.")


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def _stop(server: subprocess.Popen[bytes]) -> None:
    # CONTROL-C in the terminal reaches runserver as well; give it a moment to finish.
    try:
        server.wait(timeout=3)
        return
    except subprocess.TimeoutExpired:
        server.terminate()
    try:
        server.wait(timeout=5)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()
