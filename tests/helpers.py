"""What several test modules share: the example project in a subprocess, a client for a
simulator of its own."""

from __future__ import annotations

import itertools
import os
import socket
import threading
import time
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


class DripServer:
    """
    Sends ``start`` at once, then ``drip`` one byte at a time: each read gets its byte in time,
    and the answer never ends.
    """

    def __init__(self, start: bytes, drip: bytes, interval: float) -> None:
        self.start = start
        self.drip = drip
        self.interval = interval
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    @property
    def hostname(self) -> str:
        return f"127.0.0.1:{self.sock.getsockname()[1]}"

    def serve(self) -> None:
        connection, _ = self.sock.accept()
        give_up = time.monotonic() + 5  # a client that does not hang up fails, not hangs
        with connection:
            try:
                connection.sendall(self.start)
                for byte in itertools.cycle(self.drip):
                    if self.stop.wait(self.interval) or time.monotonic() > give_up:
                        break
                    connection.sendall(bytes([byte]))
            except OSError:
                pass  # the client hung up

    def close(self) -> None:
        self.stop.set()
        self.thread.join(5)
        self.sock.close()


def codes_of(client: Any) -> list[float]:
    """When each code of this client's login was issued (the code budget's view)."""
    from django_singleconnect import budget
    from django_singleconnect.identity import counter_key
    from django_singleconnect.state import PENDING_KEY

    pending = client.session[PENDING_KEY]
    return budget.codes_of_login(counter_key(pending["username"]), pending["login"])


def start_children(script: str, config: dict[str, Any], count: int) -> list[Any]:
    """``count`` Python processes running ``script`` with ``config`` on the test database."""
    import json
    import subprocess
    import sys

    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
    }
    return [
        subprocess.Popen(
            [sys.executable, "-c", script, json.dumps(config)],
            cwd=ROOT,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(count)
    ]


def stop_children(children: list[Any]) -> None:
    for child in children:
        if child.poll() is None:
            child.kill()
            child.wait()


class HangingServer:
    """Accepts every connection and reads the request, but never answers it."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.requests = 0
        self.stop = threading.Event()
        self.connections: list[socket.socket] = []
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    @property
    def hostname(self) -> str:
        return f"127.0.0.1:{self.sock.getsockname()[1]}"

    def serve(self) -> None:
        self.sock.settimeout(0.05)
        while not self.stop.is_set():
            try:
                connection, _ = self.sock.accept()
            except OSError:
                continue
            self.connections.append(connection)
            connection.settimeout(2)
            try:
                if connection.recv(65536):
                    self.requests += 1
            except OSError:
                pass

    def close(self) -> None:
        self.stop.set()
        self.thread.join(5)
        for connection in self.connections:
            connection.close()
        self.sock.close()


class FullBacklog:
    """
    Listens, but its queue of connections waiting to be accepted is full and nothing accepts
    them: the kernel drops each new connection's first packet, and connecting times out
    without a byte sent.
    """

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(0)
        # One connection fills the queue of a listen(0) socket.
        self.filler = socket.create_connection(self.sock.getsockname(), timeout=1)

    @property
    def hostname(self) -> str:
        return f"127.0.0.1:{self.sock.getsockname()[1]}"

    def close(self) -> None:
        self.filler.close()
        self.sock.close()


def stopped_node() -> str:
    """``host:port`` of a simulator that was started, then stopped: connections refused."""
    import io

    simulator = Simulator(output=io.StringIO()).start()
    hostname = simulator.hostname
    simulator.stop()
    return hostname
