"""Service workers as Ray actors on a real two-node Ray cluster (O16N_RUNTIME=ray)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.harness import Server, traversable_tmp_dir
from tests.ray_cluster import RayCluster
from tests.services.publishing import service_name

WHERE = (
    "import os\n"
    "parent = open(f'/proc/{os.getppid()}/cmdline', 'rb').read().split(b'\\0')[0].decode()\n"
    "result = x * 2"
)
OUTPUTS = [{"name": "result", "type": "integer"}, {"name": "parent", "type": "character"}]


@pytest.fixture(scope="module")
def ray_cluster() -> Iterator[RayCluster]:
    """Two Ray nodes for the module."""
    cluster = RayCluster.start()
    yield cluster
    cluster.stop()


@pytest.fixture(scope="module")
def ray_server(ray_cluster: RayCluster) -> Iterator[Server]:
    """o16n with its service workers on the Ray cluster."""
    root = traversable_tmp_dir("o16n-ray-")
    settings = {"O16N_RUNTIME": "ray", "O16N_RAY_ADDRESS": ray_cluster.address}
    running = Server(root / "data", env=settings, own_socket=True).start()
    yield running
    running.stop()
    shutil.rmtree(root, ignore_errors=True)


def _publish(client: httpx.Client, name: str) -> None:
    body = {
        "code": WHERE,
        "inputParameterDefinitions": [{"name": "x", "type": "integer"}],
        "outputParameterDefinitions": OUTPUTS,
    }
    response = client.post(f"/services/{name}/v1", json=body)
    assert response.status_code == 201, response.text


def test_a_service_runs_in_a_worker_under_a_ray_actor(ray_server: Server) -> None:
    name = service_name("on_ray")
    with ray_server.client(ray_server.token()) as client:
        _publish(client, name)
        response = client.post(f"/api/{name}/v1", json={"x": 21})
        assert response.status_code == 200, response.text
        outputs = response.json()["outputParameters"]
    assert outputs["result"] == 42
    assert outputs["parent"].startswith("ray::WorkerHost"), outputs


def test_a_ray_head_that_cannot_be_reached_is_a_clear_error(tmp_path: Path) -> None:
    root = traversable_tmp_dir("o16n-ray-bad-")
    settings = {"O16N_RUNTIME": "ray", "O16N_RAY_ADDRESS": "127.0.0.1:1"}
    server = Server(root / "data", env=settings, own_socket=True)
    with pytest.raises(RuntimeError) as raised:
        server.start()
    assert "cannot reach the Ray cluster at '127.0.0.1:1'" in str(raised.value)
    shutil.rmtree(root, ignore_errors=True)
