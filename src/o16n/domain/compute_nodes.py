"""Compute nodes (reference §12): the nodes user code runs on, and which of them o16n may
place new interpreters on. With Ray they are the cluster's nodes; locally, this machine."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Protocol

from o16n.errors import InvalidInput

_ADDRESS = re.compile(r"^https?://[^/\s]+/?$")


@dataclass(frozen=True)
class ComputeNode:
    """One node: its address, whether it is alive, its CPUs and memory, and the
    interpreters on it (every web node's, when the backend knows them)."""

    address: str
    alive: bool
    cpus: float
    memory_bytes: int
    interpreters: int


class ComputeCluster(Protocol):
    """What a runtime backend says of its nodes, and where it may place new interpreters."""

    def nodes(self) -> list[ComputeNode]:
        """Every node the backend knows (blocking)."""

    def entries(self) -> list[str]:
        """The addresses new interpreters are restricted to (empty: any node)."""

    def set_entries(self, entries: list[str]) -> None:
        """Restrict new interpreters to these addresses (empty: any); interpreters already
        placed elsewhere drain as they are replaced. A backend that cannot raises Conflict."""


def checked_entries(entries: list[str]) -> list[str]:
    """Node addresses like http://10.0.0.5:12805 (ranges are not supported)."""
    for index, entry in enumerate(entries):
        if not _ADDRESS.match(entry):
            raise InvalidInput(
                f"{entry!r} is not a node address like http://10.0.0.5:6380 (ranges are not "
                "supported)",
                field=f"entries[{index}]",
            )
    return [entry.rstrip("/") for entry in entries]


class ComputeNodes:
    """List the compute nodes; set, add or remove the entries that restrict placement."""

    def __init__(self, cluster: ComputeCluster) -> None:
        self._cluster = cluster

    def listed(self) -> tuple[list[str], list[ComputeNode]]:
        """The entries (every node's address when there are none) and every node's state."""
        nodes = self._cluster.nodes()
        return (self._cluster.entries() or [node.address for node in nodes]), nodes

    def replace(self, entries: list[str]) -> None:
        """Restrict placement to exactly these entries."""
        self._cluster.set_entries(checked_entries(entries))

    def add(self, entries: list[str]) -> None:
        """Add entries to the restriction."""
        current = self._cluster.entries()
        self._cluster.set_entries(
            [*current, *(e for e in checked_entries(entries) if e not in current)]
        )

    def remove(self, entries: list[str]) -> None:
        """Remove entries from the restriction."""
        gone = set(checked_entries(entries))
        self._cluster.set_entries([entry for entry in self._cluster.entries() if entry not in gone])
