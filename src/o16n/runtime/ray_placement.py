"""Where the next Ray actor of this web node goes: the alive node (among those allowed) that
holds the fewest of its live actors, so that a version's pool spreads over the cluster."""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any

import ray


def alive_nodes() -> list[dict[str, Any]]:
    """Ray's description of each alive node (blocking: a call to the cluster's head)."""
    nodes: list[dict[str, Any]] = ray.nodes()  # type: ignore[no-untyped-call]
    return [node for node in nodes if node.get("Alive")]


class Placement:
    """Counts this web node's live actors per Ray node and picks the least loaded."""

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._actors: Counter[str] = Counter()

    def choose(self) -> str:
        """The id of the node for a new actor (blocking); RuntimeError when none is alive."""
        candidates = [str(node["NodeID"]) for node in alive_nodes()]
        if not candidates:
            raise RuntimeError("no alive Ray node")
        with self._guard:
            chosen = min(candidates, key=lambda node: self._actors[node])
            self._actors[chosen] += 1
        return chosen

    def released(self, node_id: str) -> None:
        """An actor placed on `node_id` has ended."""
        with self._guard:
            self._actors[node_id] -= 1
            if self._actors[node_id] <= 0:
                del self._actors[node_id]

    def actors(self) -> dict[str, int]:
        """Live actors of this web node per Ray node."""
        with self._guard:
            return dict(self._actors)
