"""Two web nodes on one Ray cluster and one database: a version's workers are shared, so any
web node reaches a worker another node prepared (O16N_RUNTIME=ray)."""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator

import httpx
import pytest

from tests.harness import Server, traversable_tmp_dir
from tests.postgres import Postgres
from tests.ray_cluster import RayCluster
from tests.services.publishing import service_name

PID = "import os\nresult = os.getpid()"
OUTPUTS = [{"name": "result", "type": "integer"}]
IDLE_SECONDS = 1.5


@pytest.fixture(scope="module")
def web_nodes(ray_cluster: RayCluster, postgres: Postgres) -> Iterator[list[Server]]:
    """Two o16n web nodes on the Ray cluster, sharing a PostgreSQL database (node 0 first:
    it creates the schema); idle workers go after IDLE_SECONDS."""
    root = traversable_tmp_dir("o16n-ray-nodes-")
    settings = {
        "O16N_RUNTIME": "ray",
        "O16N_RAY_ADDRESS": ray_cluster.address,
        "O16N_DATABASE_URL": postgres.database("raynodes"),
        "O16N_ENV_NO_INDEX": "true",
        "O16N_POOL_IDLE_SECONDS": str(IDLE_SECONDS),
    }
    nodes: list[Server] = []
    try:
        for index in range(2):
            nodes.append(Server(root / f"node{index}", env=settings, own_socket=True).start())
        yield nodes
    finally:
        for node in nodes:
            node.stop()
        shutil.rmtree(root, ignore_errors=True)


def _pid(client: httpx.Client, name: str) -> int:
    response = client.post(f"/api/{name}/v1", json={})
    assert response.status_code == 200, response.text
    return int(response.json()["outputParameters"]["result"])


def _published_everywhere(client: httpx.Client, name: str) -> None:
    """Wait (bounded) until a node sees a version another published."""
    deadline = time.monotonic() + 5
    while client.get(f"/services/{name}/v1").status_code != 200:
        assert time.monotonic() < deadline, "the other node did not see the version in 5 s"
        time.sleep(0.1)


def _prepared_on_one(one: httpx.Client, other: httpx.Client, name: str) -> int:
    """Publish a version through `one`, call it there once (its worker is prepared there),
    wait until `other` sees it; the pid of that worker."""
    body = {"code": PID, "outputParameterDefinitions": OUTPUTS}
    assert one.post(f"/services/{name}/v1", json=body).status_code == 201
    pid = _pid(one, name)
    _published_everywhere(other, name)
    return pid


def test_a_worker_prepared_on_one_web_node_serves_the_other(web_nodes: list[Server]) -> None:
    first, second = web_nodes
    token = first.token()
    name = service_name("shared_pool")
    with first.client(token) as one, second.client(token) as other:
        prepared_on_first = _prepared_on_one(one, other, name)
        served_by_second = {_pid(other, name) for _ in range(5)}
        again_on_first = _pid(one, name)
    assert served_by_second == {prepared_on_first}  # adopted, not a worker of its own
    assert again_on_first == prepared_on_first


def test_a_worker_another_node_uses_outlives_its_nodes_idle_time(web_nodes: list[Server]) -> None:
    first, second = web_nodes
    token = first.token()
    name = service_name("busy_elsewhere")
    with first.client(token) as one, second.client(token) as other:
        prepared_on_first = _prepared_on_one(one, other, name)
        served: set[int] = set()
        until = time.monotonic() + 3 * IDLE_SECONDS  # the first node is idle all along
        while time.monotonic() < until:
            served.add(_pid(other, name))
            time.sleep(0.2)
        assert served == {prepared_on_first}
        time.sleep(3 * IDLE_SECONDS)  # nobody calls: both nodes let it go
        assert _pid(one, name) != prepared_on_first


def test_when_the_preparing_node_dies_the_other_makes_its_own(web_nodes: list[Server]) -> None:
    """Last in the module: it kills node 0 (whose actors end with it)."""
    first, second = web_nodes
    token = second.token()
    name = service_name("orphaned_pool")
    with first.client(token) as one, second.client(token) as other:
        prepared_on_first = _prepared_on_one(one, other, name)
        assert _pid(other, name) == prepared_on_first
        first.kill()
        deadline = time.monotonic() + 5
        while True:
            response = other.post(f"/api/{name}/v1", json={})
            if response.status_code == 200:
                break
            assert response.status_code == 502, response.text  # a call on the dead worker
            assert time.monotonic() < deadline, "no answer within 5 s of the node's death"
            time.sleep(0.1)
    assert response.json()["outputParameters"]["result"] != prepared_on_first
