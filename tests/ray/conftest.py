"""One real Ray cluster of two nodes for every Ray test (its modules add or kill nodes)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.ray_cluster import RayCluster


@pytest.fixture(scope="session")
def ray_cluster() -> Iterator[RayCluster]:
    """Two Ray nodes on this machine, shared by the Ray test modules."""
    cluster = RayCluster.start()
    yield cluster
    cluster.stop()
