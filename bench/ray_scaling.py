"""W1 throughput against the number of Ray nodes (for a machine with more cores than this one):
for each count in `--nodes`, a Ray cluster of that many nodes (`--cpus` each), o16n on it
with a dedicated pool of one worker per node, and wrk for `--seconds`. Bounded, 127.0.0.1 only.
On a two-core machine the figures only show the overhead; run it where cores allow.

Run: .venv/bin/python -m bench.ray_scaling --nodes 1 2 4 8 [--cpus 2] [--seconds 10]
"""

from __future__ import annotations

import argparse
import shutil
import time

from tests.harness import Server, traversable_tmp_dir
from tests.ray_cluster import RayCluster

from bench.consume import bodies, publish, wrk

READY_SECONDS = 300.0


def _pooled(server: Server, token: str, size: int) -> None:
    """W1 with a dedicated pool of `size` workers, warmed."""
    publish(server, token)
    with server.client(token) as client:
        pool = {"InitialPoolSize": size, "MaxPoolSize": size}
        client.post("/services/W1/v1/pool", json=pool).raise_for_status()
        deadline = time.monotonic() + READY_SECONDS
        while client.get("/services/W1/v1/pool").json()[0]["status"] != "Success":
            if time.monotonic() > deadline:
                raise RuntimeError("the pool did not warm")
            time.sleep(0.5)


def main() -> None:
    """Print W1 requests/s for each node count."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--nodes", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--cpus", type=float, default=1)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=64)
    arguments = parser.parse_args()
    body = bodies()["W1"][0]
    for count in arguments.nodes:
        root = traversable_tmp_dir("o16n-bench-scale-")
        cluster = RayCluster.start(count, arguments.cpus)
        settings = {"O16N_LOG_LEVEL": "warning", "O16N_RUNTIME": "ray",
                    "O16N_RAY_ADDRESS": cluster.address}  # fmt: skip
        server = Server(root / "data", env=settings, own_socket=True).start()
        try:
            token = server.token()
            _pooled(server, token, count)
            url = f"{server.url}/api/W1/v1"
            figures = wrk(url, body, token, arguments.seconds, arguments.connections)
            print(f"W1 {count:3} nodes  {figures.rps:8.0f} req/s  p50 {figures.p50_ms:6.2f} ms  "
                  f"p99 {figures.p99_ms:6.2f} ms", flush=True)  # fmt: skip
        finally:
            server.stop()
            cluster.stop()
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
