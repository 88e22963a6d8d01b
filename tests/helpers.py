"""What several test modules need to run the example project in a subprocess."""

from __future__ import annotations

import os
import socket
from pathlib import Path

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
