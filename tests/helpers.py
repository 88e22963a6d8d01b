"""What several test modules share: the example project in a subprocess, a client for a
simulator of its own."""

from __future__ import annotations

import os
import socket
from pathlib import Path
from typing import Any

from django_singleconnect.client import SingleConnectClient
from django_singleconnect.simulator import Simulator

ROOT = Path(__file__).resolve().parent.parent
MANAGE = str(ROOT / "manage.py")
# What a subprocess may keep from ours: enough to run Python, none of the settings.
PASSED_THROUGH = ("PATH", "HOME", "SYSTEMROOT", "TMPDIR", "TEMP", "TMP", "LANG", "LC_ALL")


def environment(**variables: str) -> dict[str, str]:
    """An environment without SINGLECONNECT_*, DATABASE_URL or a .env file, plus ``variables``."""
    base = {name: os.environ[name] for name in PASSED_THROUGH if name in os.environ}
    return {**base, "ENV_FILE": "", "PYTHONUNBUFFERED": "1", **variables}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


#: A code no simulator issued.
TOKEN = "493817"


def client_for(server: Simulator, **overrides: Any) -> SingleConnectClient:
    """A client for ``server`` alone, whatever the settings point at."""
    return SingleConnectClient(hostname=server.hostname, scheme=server.scheme, **overrides)


def ask(client: SingleConnectClient, endpoint: str) -> bool:
    if endpoint == "otpstatus":
        return client.otp_status("alice", "192.0.2.1")
    return client.otp_valid("alice", TOKEN)
