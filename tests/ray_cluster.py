"""A real Ray cluster of two nodes on this machine (Ray's own `cluster_utils`), in a process
of its own that the tests drive through its standard input."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass

START_SECONDS = 120.0
_HOLDER = """
import sys
from ray.cluster_utils import Cluster
cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 1, "include_dashboard": False})
second = cluster.add_node(num_cpus=1)
print(cluster.address, flush=True)
for line in sys.stdin:
    if line.strip() == "kill-second":
        cluster.remove_node(second, allow_graceful=False)
        print("killed", flush=True)
cluster.shutdown()
"""


@dataclass
class RayCluster:
    """The head and a second node; `address` is what `ray.init` and O16N_RAY_ADDRESS take."""

    address: str
    process: subprocess.Popen[str]

    @classmethod
    def start(cls) -> RayCluster:
        """Start both nodes (bounded wait)."""
        process = subprocess.Popen(
            [sys.executable, "-c", _HOLDER],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        assert process.stdout is not None
        address = process.stdout.readline().strip()
        if not address:
            process.kill()
            raise RuntimeError("the Ray cluster did not start")
        return cls(address, process)

    def kill_second_node(self) -> None:
        """SIGKILL the second node's processes, as a machine that fails."""
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write("kill-second\n")
        self.process.stdin.flush()
        assert self.process.stdout.readline().strip() == "killed"

    def stop(self) -> None:
        """Shut the cluster down."""
        if self.process.stdin is not None:
            self.process.stdin.close()
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        if self.process.stdout is not None:
            self.process.stdout.close()
