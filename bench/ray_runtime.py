"""W1 and W2 (the seed's iris SVC) on the Ray runtime against the local runtime, same run,
targets alternating: the overhead of a Ray actor hop per call, as a ratio.

Two o16n servers are started as users start them (`o16n serve`), one with default settings,
one with O16N_RUNTIME=ray on a two-node Ray cluster of this machine (tests/ray_cluster.py).
Bounded: `--rounds` x 4 runs of `--seconds`, to 127.0.0.1 only. Needs `wrk`.

Run: .venv/bin/python -m bench.ray_runtime [--seconds 5] [--rounds 3] [--connections 16]
"""

from __future__ import annotations

import argparse
import shutil

from tests.harness import Server, traversable_tmp_dir
from tests.ray_cluster import RayCluster

from bench.consume import Figures, bodies, median, publish, report, wrk


def main() -> None:
    """Print W1 and W2 figures of both runtimes and their ratio."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=16)
    arguments = parser.parse_args()
    root = traversable_tmp_dir("o16n-bench-ray-")
    cluster = RayCluster.start()
    servers: dict[str, Server] = {}
    try:
        quiet = {"O16N_LOG_LEVEL": "warning"}
        servers["local"] = Server(root / "local", env=quiet, own_socket=True).start()
        ray_settings = {**quiet, "O16N_RUNTIME": "ray", "O16N_RAY_ADDRESS": cluster.address}
        servers["ray"] = Server(root / "ray", env=ray_settings, own_socket=True).start()
        tokens = {name: server.token() for name, server in servers.items()}
        for name, server in servers.items():
            publish(server, tokens[name])
        for workload, (body, _) in bodies().items():
            measured: dict[str, list[Figures]] = {name: [] for name in servers}
            for _ in range(arguments.rounds):
                for name, server in servers.items():
                    url = f"{server.url}/api/{workload}/v1"
                    figures = wrk(url, body, tokens[name], arguments.seconds, arguments.connections)
                    measured[name].append(figures)
            local = median(measured["local"])
            label = f"{workload} c{arguments.connections}"
            report(label, "local", local, None)
            report(label, "ray", median(measured["ray"]), local)
    finally:
        for server in servers.values():
            server.stop()
        cluster.stop()
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
