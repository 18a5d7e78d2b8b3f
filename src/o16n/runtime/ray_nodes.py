"""The Ray cluster's nodes: their state (the ComputeCluster port of `/computenodes`), the
entries that restrict where new actors go (kept in Ray's key-value store, so every web node
sees the same), and where this web node's next actor goes: the alive allowed node holding the
fewest of its live actors, so that a version's pool spreads over the cluster. The state counts
every web node's o16n actors on each node, from Ray's table of alive actors (by their names)."""

from __future__ import annotations

import json
import threading
from collections import Counter
from typing import Any

from ray.experimental import internal_kv

import ray
from o16n.domain.compute_nodes import ComputeNode

_ENTRIES = b"o16n/compute-node-entries"
WORKER_NAME = "o16n-worker-"  # + a random token: a pool or batch worker's actor
SESSION_NAME = "session"  # + ":OWNER:ID": a session's actor (`ray_sessions`)


def _actors_per_node() -> Counter[str]:
    """Every web node's alive o16n actors per Ray node id (blocking: one call to the
    cluster's head, which filters the alive actors)."""
    alive: dict[str, dict[str, Any]] = ray._private.state.actors(actor_state_name="ALIVE")
    names = (WORKER_NAME, SESSION_NAME + ":")
    return Counter(
        str(actor["Address"]["NodeID"])
        for actor in alive.values()
        if actor["Name"].startswith(names)
    )


def _nodes() -> list[dict[str, Any]]:
    """Ray's description of each node (blocking: a call to the cluster's head)."""
    nodes: list[dict[str, Any]] = ray.nodes()  # type: ignore[no-untyped-call]
    return nodes


def address_of(node: dict[str, Any]) -> str:
    """A node's address: its node manager's, one per Ray node even on a shared machine."""
    return f"http://{node['NodeManagerAddress']}:{node['NodeManagerPort']}"


def node_state(node_id: str | None) -> tuple[bool, str]:
    """Whether the Ray node of that id is alive, and its address (blocking: asks the
    cluster)."""
    for node in _nodes():
        if node["NodeID"] == node_id:
            return bool(node["Alive"]), address_of(node)
    return False, f"of id {node_id}"


def entries() -> list[str]:
    """The addresses new actors are restricted to (empty: any node)."""
    stored = internal_kv._internal_kv_get(_ENTRIES)
    return [str(entry) for entry in json.loads(stored)] if stored else []


class Placement:
    """Counts this web node's live actors per Ray node and picks where the next one goes."""

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._actors: Counter[str] = Counter()
        self._grouped: Counter[tuple[str, str]] = Counter()  # (group, node) -> live actors
        self._allowed_ids: set[str] | None = None  # as of the last choice (None: every node)

    def choose(self, group: str, avoid: str | None = None) -> str:
        """The id of the node for a new actor of `group` (blocking): the allowed alive node
        (but `avoid`) with the fewest actors of that group, then of all; RuntimeError when
        none may."""
        allowed = set(entries())
        nodes = _nodes()
        candidates = [
            str(node["NodeID"])
            for node in nodes
            if node.get("Alive") and (not allowed or address_of(node) in allowed)
        ]
        with self._guard:
            self._allowed_ids = set(candidates) if allowed else None
        candidates = [node for node in candidates if node != avoid]
        if not candidates:
            raise RuntimeError(f"no alive Ray node among the compute nodes {sorted(allowed)}")
        with self._guard:
            chosen = min(candidates, key=lambda n: (self._grouped[group, n], self._actors[n]))
            self._actors[chosen] += 1
            self._grouped[group, chosen] += 1
        return chosen

    def allows(self, node_id: str) -> bool:
        """Whether new actors may go to the node, as of the last choice or change."""
        with self._guard:
            return self._allowed_ids is None or node_id in self._allowed_ids

    def restricted(self, allowed_addresses: list[str]) -> None:
        """The entries changed on this web node: apply them to `allows` at once (blocking)."""
        ids = {str(n["NodeID"]) for n in _nodes() if address_of(n) in set(allowed_addresses)}
        with self._guard:
            self._allowed_ids = ids if allowed_addresses else None

    def released(self, node_id: str, group: str) -> None:
        """An actor of `group` placed on `node_id` has ended."""
        with self._guard:
            self._actors[node_id] -= 1
            self._grouped[group, node_id] -= 1
            self._actors += Counter()  # drop what fell to zero
            self._grouped += Counter()


class RayComputeCluster:
    """The ComputeCluster port on the Ray cluster."""

    def __init__(self, placement: Placement) -> None:
        self._placement = placement

    def nodes(self) -> list[ComputeNode]:
        """Every node Ray knows, alive or not, with every web node's o16n actors on it."""
        actors = _actors_per_node()
        return [
            ComputeNode(
                address=address_of(node),
                alive=bool(node.get("Alive")),
                cpus=float(node.get("Resources", {}).get("CPU", 0.0)),
                memory_bytes=int(node.get("Resources", {}).get("memory", 0)),
                interpreters=actors.get(str(node["NodeID"]), 0),
            )
            for node in _nodes()
        ]

    def entries(self) -> list[str]:
        """The addresses new actors are restricted to."""
        return entries()

    def set_entries(self, addresses: list[str]) -> None:
        """Restrict new actors to `addresses` (every web node reads the same)."""
        internal_kv._internal_kv_put(_ENTRIES, json.dumps(addresses).encode(), overwrite=True)
        self._placement.restricted(addresses)
