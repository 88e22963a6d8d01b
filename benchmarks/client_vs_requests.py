"""
``SingleConnectClient().otp_status`` against a bare ``requests.Session`` posting the same
form to the same simulator, over HTTPS (a CA and a certificate from trustme,
``SINGLECONNECT_VERIFY`` set to the CA bundle), interleaved.

Reports the time per call of each and their ratio, and the TCP connections the simulator
accepted for each (every one is a TLS handshake). The script fails when a call fails, or
when the package opens more connections than the bare session.

    python benchmarks/client_vs_requests.py           # 1,000 calls each
    python benchmarks/client_vs_requests.py --quick   # 50 calls each
"""

from __future__ import annotations

import argparse
import gc
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import common

USERNAME = "alice"
END_USER_IP = "127.0.0.1"
APPLICATION = "benchmarks"
TARGET_RATIO = 1.05


@dataclass
class Side:
    name: str
    call: Callable[[], bool]
    seconds: list[float] = field(default_factory=list)
    #: CPU seconds of the calling thread per call: the client's own work, not the
    #: simulator's, which runs in another thread of this process.
    cpu: list[float] = field(default_factory=list)
    #: Per round: wall-clock seconds per call.
    rounds: list[float] = field(default_factory=list)
    connections: int = 0
    failures: int = 0


def certificates(workdir: Path) -> tuple[Path, Path]:
    """A CA bundle for the client and a certificate with its key for 127.0.0.1."""
    import trustme

    authority = trustme.CA()
    ca_bundle = workdir / "ca.pem"
    authority.cert_pem.write_to_path(str(ca_bundle))
    server = workdir / "server.pem"
    authority.issue_cert("127.0.0.1").private_key_and_cert_chain_pem.write_to_path(str(server))
    return ca_bundle, server


def run_batch(side: Side, calls: int, connections: Callable[[], int]) -> None:
    before = connections()
    started_round = time.perf_counter()
    for _ in range(calls):
        cpu_started = time.thread_time()
        started = time.perf_counter()
        try:
            ok = side.call()
        except Exception as error:  # counted and reported: the run fails
            print(f"{side.name}: {type(error).__name__}: {error}", file=sys.stderr)
            ok = False
        side.seconds.append(time.perf_counter() - started)
        side.cpu.append(time.thread_time() - cpu_started)
        if not ok:
            side.failures += 1
    side.rounds.append((time.perf_counter() - started_round) / calls)
    side.connections += connections() - before


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="50 calls each")
    parser.add_argument("--calls", type=int, default=1000, help="calls each")
    parser.add_argument("--batch", type=int, default=10, help="calls of one side in a row")
    args = parser.parse_args(argv)
    if args.quick:
        args.calls = 50
    rounds = max(1, args.calls // args.batch)

    with tempfile.TemporaryDirectory(prefix="bench-client-") as directory:
        workdir = Path(directory)
        common.setup_django(workdir)
        import requests
        from django.test import override_settings

        from django_singleconnect.client import SingleConnectClient, close_sessions
        from django_singleconnect.simulator import Simulator

        common.print_machine()
        ca_bundle, server = certificates(workdir)
        simulator = Simulator(certfile=str(server), output=None).start()
        try:
            url = f"{simulator.url}{simulator.base_path}/otpstatus"
            bare_session = requests.Session()

            def bare() -> bool:
                response = bare_session.post(
                    url,
                    data={
                        "username": USERNAME,
                        "enduserip": END_USER_IP,
                        "applicationname": APPLICATION,
                    },
                    timeout=(3.05, 10),
                    verify=str(ca_bundle),
                )
                return response.status_code == 200 and response.content.strip() == b"true"

            def package() -> bool:
                return SingleConnectClient().otp_status(USERNAME, END_USER_IP)

            sides = [Side("SingleConnectClient().otp_status", package), Side("bare requests", bare)]
            with override_settings(
                **simulator.django_settings(),
                SINGLECONNECT_APPLICATION_NAME=APPLICATION,
                SINGLECONNECT_VERIFY=str(ca_bundle),
            ):
                close_sessions()
                # Counted from the first call: each side should open one connection, ever.
                for side in sides:
                    run_batch(side, 5, lambda: simulator.connections)
                for side in sides:
                    side.seconds.clear()
                    side.cpu.clear()
                    side.rounds.clear()
                gc.collect()
                for index in range(rounds):
                    for side in sides if index % 2 == 0 else sides[::-1]:
                        run_batch(side, args.batch, lambda: simulator.connections)
                close_sessions()
            bare_session.close()
            calls_seen = simulator.call_count("otpstatus")
        finally:
            simulator.stop()

    return report(sides, rounds, args.batch, calls_seen)


def report(sides: list[Side], rounds: int, batch: int, calls_seen: int) -> int:
    package, bare = sides
    calls = rounds * batch
    rows = []
    for side in sides:
        rows.append(
            (
                side.name,
                len(side.seconds),
                f"{common.median(side.seconds) * 1e6:.0f}",
                f"{sum(side.seconds) / len(side.seconds) * 1e6:.0f}",
                f"{common.percentile(side.seconds, 0.95) * 1e6:.0f}",
                f"{common.median(side.cpu) * 1e6:.0f}",
                side.connections,
                f"{side.connections * 1000 / (len(side.seconds) + 5):.1f}",
                side.failures,
            )
        )
    print(f"\n{rounds} rounds x {batch} calls per side, interleaved, over HTTPS\n")
    print(
        common.table(
            (
                "client",
                "calls",
                "µs/call (median)",
                "µs/call (mean)",
                "µs/call (p95)",
                "client CPU µs/call (median)",
                "connections (TLS handshakes)",
                "per 1,000 calls",
                "failures",
            ),
            rows,
        )
    )
    median_ratio = common.median(package.seconds) / common.median(bare.seconds)
    mean_ratio = sum(package.seconds) / sum(bare.seconds)
    paired = common.median(
        [mine / theirs for mine, theirs in zip(package.rounds, bare.rounds, strict=True)]
    )
    print(
        f"\ntarget ≤ {TARGET_RATIO}x: median {median_ratio:.3f}x, mean {mean_ratio:.3f}x, "
        f"paired rounds {paired:.3f}x ({common.verdict(median_ratio <= TARGET_RATIO)} on the "
        "median); "
        f"difference {(common.median(package.seconds) - common.median(bare.seconds)) * 1e6:+.0f}"
        " µs per call (median)"
    )
    cpu_ratio = common.median(package.cpu) / common.median(bare.cpu)
    print(
        f"client CPU: {cpu_ratio:.3f}x, "
        f"{(common.median(package.cpu) - common.median(bare.cpu)) * 1e6:+.0f} µs per call (median)"
    )
    print(
        f"target 1 TLS handshake per process: {package.connections} for the package "
        f"({common.verdict(package.connections <= 1)}), {bare.connections} for bare requests"
    )
    expected = 2 * (calls + 5)
    broken = []
    if package.failures or bare.failures:
        broken.append(f"{package.failures + bare.failures} calls failed")
    if calls_seen != expected:
        broken.append(f"the simulator saw {calls_seen} otpstatus calls, not {expected}")
    if package.connections > max(1, bare.connections):
        broken.append(f"the package opened {package.connections} connections")
    return common.finish(broken)


if __name__ == "__main__":
    common.run(main)
