"""The ComputeCluster port of the local runtime: one compute node, this machine."""

from __future__ import annotations

import os
from collections.abc import Callable

from o16n.domain.compute_nodes import ComputeNode
from o16n.errors import Conflict
from o16n.runtime.cpus import usable_cpus


class LocalComputeCluster:
    """This machine, reached at `address`, with the workers `live_workers` counts."""

    def __init__(self, address: str, live_workers: Callable[[], int]) -> None:
        self._address = address
        self._live_workers = live_workers

    def nodes(self) -> list[ComputeNode]:
        """This machine."""
        memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
        return [ComputeNode(self._address, True, usable_cpus(), memory, self._live_workers())]

    def entries(self) -> list[str]:
        """None: the one node takes every interpreter."""
        return []

    def set_entries(self, entries: list[str]) -> None:
        """Refused: there is no other node to place interpreters on."""
        raise Conflict(
            "the local runtime has one compute node, this machine: start o16n with "
            "O16N_RUNTIME=ray to place interpreters on the nodes of a Ray cluster",
            field="entries",
        )
