"""Service workers as Ray actors on a real two-node Ray cluster (O16N_RUNTIME=ray)."""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from tests.batch.batching import start, wait
from tests.environments.wheels import make_wheel
from tests.harness import Server, traversable_tmp_dir
from tests.ray_cluster import RayCluster
from tests.services.publishing import execute, service_name, take_snapshot
from tests.services.test_azureml_sdk import run_sdk_flows, sdk_interpreter

WHERE = (
    "import os\n"
    "parent = open(f'/proc/{os.getppid()}/cmdline', 'rb').read().split(b'\\0')[0].decode()\n"
    "result = x * 2"
)
TRAIN = (
    "from sklearn import datasets, svm\n"
    "iris = datasets.load_iris()\n"
    "model = svm.SVC().fit(iris.data, iris.target)"
)
PREDICT = "import numpy as np\nresult = int(model.predict(np.array([flower]))[0])"
OUTPUTS = [{"name": "result", "type": "integer"}, {"name": "parent", "type": "character"}]


@pytest.fixture(scope="module")
def ray_server(ray_cluster: RayCluster) -> Iterator[Server]:
    """o16n with its service workers on the Ray cluster, installing environments only from a
    folder of wheels made here (o16ntiny 1.0 and 2.0)."""
    root = traversable_tmp_dir("o16n-ray-")
    wheels = root / "wheels"
    wheels.mkdir()
    for version in ("1.0", "2.0"):
        make_wheel(wheels, "o16ntiny", version)
    settings = {
        "O16N_RUNTIME": "ray",
        "O16N_RAY_ADDRESS": ray_cluster.address,
        "O16N_ENV_FIND_LINKS": str(wheels),
        "O16N_ENV_NO_INDEX": "true",
    }
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


def test_a_session_runs_on_ray_and_its_snapshot_serves_a_service(ray_server: Server) -> None:
    with ray_server.client(ray_server.token()) as client:
        session = client.post("/sessions", json={}).json()["sessionId"]
        try:
            code = WHERE.replace("result = x * 2", "base = 40")
            executed = execute(client, session, code)
            assert executed["success"] is True
            shown = client.post(
                f"/sessions/{session}/execute", json={"code": "", "outputParameters": ["parent"]}
            ).json()
            assert shown["outputParameters"][0]["value"].startswith("ray::SessionHost"), shown
            snapshot = take_snapshot(client, session)
        finally:
            client.delete(f"/sessions/{session}")
        name = service_name("from_ray_session")
        body = {
            "code": "result = base + x",
            "snapshotId": snapshot,
            "inputParameterDefinitions": [{"name": "x", "type": "integer"}],
            "outputParameterDefinitions": [{"name": "result", "type": "integer"}],
        }
        assert client.post(f"/services/{name}/v1", json=body).status_code == 201
        answer = client.post(f"/api/{name}/v1", json={"x": 2}).json()
    assert answer["outputParameters"] == {"result": 42}, answer


RUNS_ON = "import sys, o16ntiny\nversion = o16ntiny.__version__\npython = sys.executable"


def _ready(client: httpx.Client, name: str) -> None:
    """Wait (bounded) until the version's environment is built on the web node."""
    deadline = time.monotonic() + 60
    while (state := client.get(f"/services/{name}/v1").json()[0]["state"]) == "building":
        assert time.monotonic() < deadline, "the environment was not built within 60 s"
        time.sleep(0.1)
    assert state == "ready", state


def test_services_and_sessions_run_on_their_environment_on_ray(ray_server: Server) -> None:
    outputs = [{"name": "version", "type": "character"}, {"name": "python", "type": "character"}]
    name = service_name("env_on_ray")
    body = {
        "code": RUNS_ON,
        "outputParameterDefinitions": outputs,
        "requirements": ["o16ntiny==1.0"],
    }
    with ray_server.client(ray_server.token()) as client:
        assert client.post(f"/services/{name}/v1", json=body).status_code == 201
        _ready(client, name)
        answer = client.post(f"/api/{name}/v1", json={}).json()
        assert answer["success"] is True, answer
        assert answer["outputParameters"]["version"] == "1.0", answer
        # built by the Ray node's host in its own folder, not the web node's
        assert "/ray-environments/" in answer["outputParameters"]["python"], answer
        opened = client.post("/sessions", json={"requirements": ["o16ntiny==2.0"]})
        assert opened.status_code == 201, opened.text
        session = opened.json()["sessionId"]
        try:
            executed = client.post(
                f"/sessions/{session}/execute",
                json={"code": RUNS_ON, "outputParameters": ["version", "python"]},
            ).json()
        finally:
            client.delete(f"/sessions/{session}")
    values = {item["name"]: item["value"] for item in executed["outputParameters"]}
    assert values["version"] == "2.0", executed
    assert "/ray-environments/" in values["python"], executed


def test_the_seed_walkthrough_on_ray(ray_server: Server) -> None:
    with ray_server.client(ray_server.token()) as client:
        session = client.post("/sessions", json={"name": "train"}).json()["sessionId"]
        try:
            execute(client, session, TRAIN)
            snapshot = take_snapshot(client, session, "iris")
        finally:
            client.delete(f"/sessions/{session}")
        name = service_name("iris_on_ray")
        body = {
            "snapshotId": snapshot,
            "code": PREDICT,
            "inputParameterDefinitions": [{"name": "flower", "type": "vector"}],
            "outputParameterDefinitions": [{"name": "result", "type": "integer"}],
        }
        assert client.post(f"/services/{name}/v1", json=body).status_code == 201
        answer = client.post(f"/api/{name}/v1", json={"flower": [7.0, 3.2, 4.7, 1.4]}).json()
    assert answer["outputParameters"] == {"result": 1}, answer


def test_microsoft_sdk_flows_on_ray(ray_server: Server) -> None:
    run_sdk_flows(ray_server, sdk_interpreter())


def test_a_batch_runs_on_ray(ray_server: Server) -> None:
    name = service_name("batch_on_ray")
    with ray_server.client(ray_server.token()) as client:
        _publish(client, name)
        execution = start(client, name, [{"x": i} for i in range(30)], parallel=6)
        finished = wait(client, name, execution)
    assert finished["state"] == "Complete"
    results = finished["batchExecutionResults"]
    assert isinstance(results, list)
    assert [r["outputParameters"]["result"] for r in results] == [2 * i for i in range(30)]


def test_a_ray_head_that_cannot_be_reached_is_a_clear_error(tmp_path: Path) -> None:
    root = traversable_tmp_dir("o16n-ray-bad-")
    settings = {"O16N_RUNTIME": "ray", "O16N_RAY_ADDRESS": "127.0.0.1:1"}
    server = Server(root / "data", env=settings, own_socket=True)
    with pytest.raises(RuntimeError) as raised:
        server.start()
    assert "cannot reach the Ray cluster at '127.0.0.1:1'" in str(raised.value)
    shutil.rmtree(root, ignore_errors=True)


NODE = (
    "import os\n"
    "actor = os.getppid()\n"
    "node = int(open(f'/proc/{actor}/stat').read().rsplit(')', 1)[1].split()[1])\n"
    "result = x"
)


def _pooled(client: httpx.Client, name: str, size: int) -> None:
    """Publish NAME/v1 answering its worker's node (the actor's parent, a raylet) with a
    dedicated pool of `size` workers, ready."""
    body = {
        "code": NODE,
        "inputParameterDefinitions": [{"name": "x", "type": "integer"}],
        "outputParameterDefinitions": [
            {"name": "result", "type": "integer"},
            {"name": "node", "type": "integer"},
        ],
    }
    assert client.post(f"/services/{name}/v1", json=body).status_code == 201
    pool = {"InitialPoolSize": size, "MaxPoolSize": size}
    assert client.post(f"/services/{name}/v1/pool", json=pool).status_code in {200, 201}
    deadline = time.monotonic() + 120
    while client.get(f"/services/{name}/v1/pool").json()[0]["status"] != "Success":
        assert time.monotonic() < deadline, "the pool did not warm"
        time.sleep(0.2)


def _nodes_answering(client: httpx.Client, name: str, calls: int) -> list[int]:
    with ThreadPoolExecutor(8) as pool:
        replies = list(
            pool.map(lambda i: client.post(f"/api/{name}/v1", json={"x": i}), range(calls))
        )
    return [
        reply.json()["outputParameters"]["node"] for reply in replies if reply.status_code == 200
    ]


def test_compute_nodes_list_the_cluster_and_restrict_placement(ray_server: Server) -> None:
    with ray_server.client(ray_server.token()) as client:
        body = client.get("/computenodes").json()
        assert len(body["nodes"]) == 2 and all(node["alive"] for node in body["nodes"])
        assert sorted(body["computeNodes"]) == sorted(node["address"] for node in body["nodes"])
        chosen = body["nodes"][1]["address"]
        assert client.post("/computenodes", json={"entries": [chosen]}).status_code == 200
        try:
            assert client.get("/computenodes").json()["computeNodes"] == [chosen]
            name = service_name("placed")
            _pooled(client, name, 2)
            assert len(set(_nodes_answering(client, name, 20))) == 1  # both on the chosen node
        finally:
            removed = client.request("DELETE", "/computenodes", json={"entries": [chosen]})
            assert removed.status_code == 200, removed.text
        assert len(client.get("/computenodes").json()["computeNodes"]) == 2


def test_a_pool_spreads_over_the_nodes_and_survives_one_dying(
    ray_server: Server, ray_cluster: RayCluster
) -> None:
    """Last in the module: it kills the second Ray node."""
    name = service_name("spread")
    with ray_server.client(ray_server.token()) as client:
        _pooled(client, name, 2)
        assert len(set(_nodes_answering(client, name, 40))) == 2
        failures: list[int] = []

        def load() -> None:
            deadline = time.monotonic() + 4
            while time.monotonic() < deadline:
                status = client.post(f"/api/{name}/v1", json={"x": 1}).status_code
                if status != 200:
                    failures.append(status)

        with ThreadPoolExecutor(4) as pool:
            running = [pool.submit(load) for _ in range(4)]
            time.sleep(1)
            ray_cluster.kill_second_node()
            for future in running:
                future.result()
        assert set(failures) <= {502}, failures  # only the calls that were running there
        killed_at = time.monotonic()
        deadline = killed_at + 5
        while True:
            reply = client.post(f"/api/{name}/v1", json={"x": 5})
            if reply.status_code == 200:
                break
            assert time.monotonic() < deadline, reply.text
            time.sleep(0.1)
        assert reply.json()["outputParameters"]["result"] == 5
