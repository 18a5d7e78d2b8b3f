"""W1 (the seed's iris SVC, one row per call) through HAProxy to two web nodes, against one
node called directly, same run, targets alternating.

Both nodes share a throwaway PostgreSQL and one blob folder, and run on the server core with
their workers (as the one node does: this machine has two cores, so the figure is the cost of
the balancer hop and of a second node on the same core, not the scaling); HAProxy and wrk run
on the load core. Bounded: `--rounds` x 2 runs of `--seconds`, to 127.0.0.1 only. Needs `wrk`
and `haproxy` (Debian packages).

Run: .venv/bin/python -m bench.cluster [--seconds 5] [--rounds 3] [--connections 16]
"""

from __future__ import annotations

import argparse
import secrets
import shutil
import subprocess

from tests.cluster.balancer import Balancer
from tests.harness import Server, traversable_tmp_dir
from tests.postgres import Postgres

from bench.consume import LOAD_CORE, SERVER_CORE, Figures, bodies, median, publish, report, wrk


def _nodes(postgres: Postgres, root_name: str) -> list[Server]:
    root = traversable_tmp_dir(root_name)
    settings = {
        "O16N_LOG_LEVEL": "warning",
        "O16N_DATABASE_URL": postgres.database("bench"),
        "O16N_BLOB_URL": f"file://{root / 'blobs'}",
        "O16N_CLUSTER_SECRET": secrets.token_urlsafe(24),
    }
    launcher = ["taskset", "-c", SERVER_CORE]
    return [
        Server(root / f"node{index}", env=settings, launcher=launcher, own_socket=True).start()
        for index in range(2)
    ]


def main() -> None:
    """Print W1's figures for one node direct and for the balancer over two nodes."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=16)
    arguments = parser.parse_args()
    postgres = Postgres.start()
    nodes: list[Server] = []
    balancer: Balancer | None = None
    try:
        nodes = _nodes(postgres, "o16n-bench-cluster-")
        balancer = Balancer.start([node.url for node in nodes])
        subprocess.run(["taskset", "-pc", LOAD_CORE, str(balancer.process.pid)], check=True,
                       capture_output=True)  # fmt: skip
        token = nodes[0].token()
        publish(nodes[0], token)
        body = bodies()["W1"][0]
        targets = {"one node": f"{nodes[0].url}/api/W1/v1", "balanced": f"{balancer.url}/api/W1/v1"}
        wrk(targets["balanced"], body, token, 2, arguments.connections)  # warm both nodes
        measured: dict[str, list[Figures]] = {name: [] for name in targets}
        for _ in range(arguments.rounds):
            for name, url in targets.items():
                measured[name].append(
                    wrk(url, body, token, arguments.seconds, arguments.connections)
                )
        direct, balanced = median(measured["one node"]), median(measured["balanced"])
        label = f"W1 c{arguments.connections}"
        report(label, "one node", direct, None)
        report(label, "balanced", balanced, direct)
        extra = (1 / balanced.rps - 1 / direct.rps) * 1e6
        print(f"{'':18} the balancer and a second node cost {extra:.0f} us per call")
    finally:
        if balancer is not None:
            balancer.stop()
        for node in nodes:
            node.stop()
        postgres.stop()
        if nodes:
            shutil.rmtree(nodes[0].data_dir.parent, ignore_errors=True)


if __name__ == "__main__":
    main()
