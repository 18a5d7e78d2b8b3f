"""One real Ray cluster of two nodes for every Ray test (a test may kill its second node:
the ones that need two nodes run before it, in test_ray_runtime)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.ray_cluster import RayCluster


@pytest.fixture(scope="session")
def ray_cluster() -> Iterator[RayCluster]:
    """Two Ray nodes on 127.0.0.1."""
    cluster = RayCluster.start()
    yield cluster
    cluster.stop()
