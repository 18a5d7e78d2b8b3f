"""A real Ray cluster of nodes on this machine (two by default; Ray's own `cluster_utils`), in
a process of its own that the tests drive through its standard input."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass

_HOLDER = """
import sys
from ray.cluster_utils import Cluster
nodes, cpus = int(sys.argv[1]), float(sys.argv[2])
head = {"num_cpus": cpus, "include_dashboard": False}
cluster = Cluster(initialize_head=True, head_node_args=head)
others = [cluster.add_node(num_cpus=cpus) for _ in range(nodes - 1)]
second = others[0] if others else None
print(cluster.address, flush=True)
added = {}
for line in sys.stdin:
    command, _, argument = line.strip().partition(" ")
    if command == "kill-second":
        cluster.remove_node(second, allow_graceful=False)
        print("killed", flush=True)
    elif command == "add":
        node = cluster.add_node(num_cpus=cpus)
        address = f"http://{node.node_ip_address}:{node.node_manager_port}"
        added[address] = node
        print(address, flush=True)
    elif command == "settle":
        cluster.wait_for_nodes(timeout=60)
        print("settled", flush=True)
    elif command == "kill":
        cluster.remove_node(added.pop(argument), allow_graceful=False)
        print("killed", flush=True)
cluster.shutdown()
"""


@dataclass
class RayCluster:
    """The head and the other nodes; `address` is what `ray.init` and O16N_RAY_ADDRESS take."""

    address: str
    process: subprocess.Popen[str]

    @classmethod
    def start(cls, nodes: int = 2, cpus: float = 1) -> RayCluster:
        """Start `nodes` nodes of `cpus` CPUs each (the head among them)."""
        process = subprocess.Popen(
            [sys.executable, "-c", _HOLDER, str(nodes), str(cpus)],
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
        assert self._command("kill-second") == "killed"

    def add_node(self) -> str:
        """Start one more node; its address (as /computenodes names it)."""
        return self._command("add")

    def kill_node(self, address: str) -> None:
        """SIGKILL the processes of a node `add_node` started."""
        assert self._command(f"kill {address}") == "killed"

    def settle(self) -> None:
        """Return once Ray sees exactly the nodes alive that were not killed (a killed node
        counts as alive until Ray's health checks declare it dead)."""
        assert self._command("settle") == "settled"

    def _command(self, line: str) -> str:
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write(line + "\n")
        self.process.stdin.flush()
        return self.process.stdout.readline().strip()

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
