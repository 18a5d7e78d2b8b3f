"""Session round trips through HTTP: a trivial execute (p50, p99) and a 100 MB snapshot.

Starts a real server (embedded defaults, data in a temporary folder) on 127.0.0.1 and sends it
a bounded number of requests over one connection.

Run: .venv/bin/python -m bench.session_execute [--calls 2000] [--snapshot-mb 100]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import time

import httpx
from tests.harness import Server, traversable_tmp_dir


def summary(label: str, samples: list[float]) -> str:
    """Count, p50 and p99 in milliseconds."""
    cuts = statistics.quantiles(samples, n=100) if len(samples) > 1 else samples * 99
    return (
        f"{label:32} n={len(samples):5}  p50 {cuts[49] * 1e3:8.2f} ms  p99 {cuts[98] * 1e3:8.2f} ms"
    )


def timed(client: httpx.Client, method: str, path: str, **options: object) -> float:
    """Seconds one request took; it must succeed."""
    started = time.perf_counter()
    response = client.request(method, path, **options)  # type: ignore[arg-type]
    elapsed = time.perf_counter() - started
    response.raise_for_status()
    return elapsed


def measure(server: Server, calls: int, snapshot_mb: int) -> None:
    """Print the figures for one running server."""
    with server.client(server.token()) as client:
        session = client.post("/sessions", json={"name": "bench"}).json()["sessionId"]
        execute = f"/sessions/{session}/execute"
        trivial = {
            "code": "y = x + 1",
            "inputParameters": [{"name": "x", "value": 1}],
            "outputParameters": ["y"],
        }
        for _ in range(200):
            timed(client, "POST", execute, json=trivial)
        latencies = [timed(client, "POST", execute, json=trivial) for _ in range(calls)]
        print(summary("trivial execute", latencies))
        setup = {"code": f"import numpy as np\nbig = np.ones({snapshot_mb * 2**20 // 8})"}
        timed(client, "POST", execute, json=setup)
        snapshots = [
            timed(client, "POST", f"/sessions/{session}/snapshot", json={"name": "big"})
            for _ in range(3)
        ]
        print(summary(f"snapshot of a {snapshot_mb} MB workspace", snapshots))


def main() -> None:
    """Parse arguments, start the server, measure, stop it."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--snapshot-mb", type=int, default=100)
    arguments = parser.parse_args()
    root = traversable_tmp_dir("o16n-bench-")
    server = Server(root / "data", env={"O16N_LOG_LEVEL": "warning"}).start()
    try:
        measure(server, arguments.calls, arguments.snapshot_mb)
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
