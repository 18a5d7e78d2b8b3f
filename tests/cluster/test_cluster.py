"""Two web nodes behind a round-robin balancer: sessions, services and patches work whichever
node a request reaches."""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx

from tests.cluster.conftest import Cluster
from tests.harness import ADMIN_PASSWORD, assert_error
from tests.services.publishing import execute, service_name, take_snapshot

TRAIN = (
    "from sklearn import datasets, svm\n"
    "iris = datasets.load_iris()\n"
    "model = svm.SVC().fit(iris.data, iris.target)"
)
PREDICT = "import numpy as np\nresult = int(model.predict(np.array([flower]))[0])"
VERSICOLOR = [7.0, 3.2, 4.7, 1.4]


def _client(url: str, token: str | None = None) -> httpx.Client:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.Client(base_url=url, headers=headers, timeout=120.0)


def _token(url: str) -> str:
    response = httpx.post(
        f"{url}/login", json={"username": "admin", "password": ADMIN_PASSWORD}, timeout=30
    )
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


def _until(condition: Callable[[], bool], seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"not within {seconds} s"
        time.sleep(0.02)


def test_the_seed_walkthrough_through_the_balancer(cluster: Cluster) -> None:
    url = cluster.balancer.url
    with _client(url, _token(url)) as client:
        session = client.post("/sessions", json={"name": "train"})
        assert session.status_code == 201, session.text
        session_id = session.json()["sessionId"]
        execute(client, session_id, TRAIN)  # round-robin: every other request is forwarded
        history = [client.get(f"/sessions/{session_id}/history") for _ in range(4)]
        assert {response.status_code for response in history} == {200}, history[0].text
        listed = [client.get("/sessions").json() for _ in range(2)]
        assert all(session_id in [item["id"] for item in page] for page in listed)
        snapshot = take_snapshot(client, session_id, "iris")
        name = service_name("balanced")
        published = client.post(
            f"/services/{name}/v1",
            json={
                "snapshotId": snapshot,
                "code": PREDICT,
                "inputParameterDefinitions": [{"name": "flower", "type": "vector"}],
                "outputParameterDefinitions": [{"name": "result", "type": "integer"}],
            },
        )
        assert published.status_code == 201, published.text
        for _ in range(4):  # both nodes answer, from the snapshot in the object store
            answer = client.post(f"/api/{name}/v1", json={"flower": VERSICOLOR})
            assert answer.status_code == 200, answer.text
            assert answer.json()["outputParameters"] == {"result": 1}
        assert client.delete(f"/sessions/{session_id}").status_code == 200
        for _ in range(2):
            assert_error(client.get(f"/sessions/{session_id}/history"), 404)
        assert client.delete(f"/services/{name}/v1").status_code == 200


def test_every_node_serves_a_session_that_lives_on_one(cluster: Cluster) -> None:
    holder, other = cluster.nodes
    token = _token(holder.url)
    with _client(holder.url, token) as on_holder, _client(other.url, token) as on_other:
        session_id = on_holder.post("/sessions", json={}).json()["sessionId"]
        execute(on_other, session_id, "x = 41")  # forwarded to the holder
        result = execute(on_holder, session_id, "y = x + 1")
        assert result["success"] is True
        assert on_other.get(f"/sessions/{session_id}/workspace").json() == ["x", "y"]
        with _client(other.url) as anonymous:
            assert_error(anonymous.get(f"/sessions/{session_id}/history"), 401)
        forged = on_holder.get(
            f"/sessions/{session_id}/history", headers={"X-O16n-Cluster-Key": "not the secret"}
        )
        assert_error(forged, 403)
        assert on_other.delete(f"/sessions/{session_id}").status_code == 200
        assert_error(on_holder.get(f"/sessions/{session_id}/history"), 404)


def test_a_patch_on_one_node_is_served_by_the_other_within_a_second(cluster: Cluster) -> None:
    first, second = cluster.nodes
    token = _token(first.url)
    name = service_name("patched")
    outputs = {"outputParameterDefinitions": [{"name": "result", "type": "integer"}]}
    with _client(first.url, token) as publisher, _client(second.url, token) as consumer:
        body = {"code": "result = 1", **outputs}
        assert publisher.post(f"/services/{name}/v1", json=body).status_code == 201

        def answer() -> object:
            return consumer.post(f"/api/{name}/v1", json={}).json().get("outputParameters")

        assert answer() == {"result": 1}
        patched = publisher.patch(f"/services/{name}/v1", json={"code": "result = 2"})
        assert patched.status_code == 200, patched.text
        _until(lambda: answer() == {"result": 2}, 1.0)
        assert publisher.delete(f"/services/{name}/v1").status_code == 200


def test_a_session_of_a_dead_node_answers_naming_it(cluster: Cluster) -> None:
    """Last in the module: it kills node 0."""
    dead, alive = cluster.nodes
    token = _token(dead.url)
    with _client(dead.url, token) as on_dead:
        session_id = on_dead.post("/sessions", json={}).json()["sessionId"]
    dead.kill()
    with _client(alive.url, token) as on_alive:
        failed = assert_error(on_alive.get(f"/sessions/{session_id}/history"), 502)
    assert failed["errorCode"] == "node_unavailable"
    assert dead.url in str(failed["message"])
