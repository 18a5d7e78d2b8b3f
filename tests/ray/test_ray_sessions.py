"""Sessions as named Ray actors: two web nodes on one Ray cluster and one database (the same
SQLite file) serve every session directly; a session outlives the web node that opened it;
one whose Ray node died answers a clear error, and its snapshot still serves."""

from __future__ import annotations

import secrets
import shutil
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.harness import Server, assert_error, traversable_tmp_dir
from tests.ray_cluster import RayCluster
from tests.services.publishing import execute, take_snapshot

UNANSWERED_WITHIN_SECONDS = 10.0  # the session answers a 502 naming its node
LOST_WITHIN_SECONDS = 40.0  # Ray declares the node dead (its health checks: about 15 s)
CANCELLED_WITHIN_SECONDS = 10.0
CRASH = "import os\nos._exit(3)"


@dataclass
class WebNodes:
    """The two web nodes, and what starts one more like them."""

    nodes: list[Server]
    root: Path
    settings: dict[str, str]

    def start(self, name: str, **extra: str) -> Server:
        """One more web node of the same deployment (`extra` settings on top)."""
        server = Server(self.root / name, env={**self.settings, **extra}, own_socket=True)
        return server.start()


@pytest.fixture(scope="module")
def web(ray_cluster: RayCluster) -> Iterator[WebNodes]:
    """Two o16n web nodes with one database, one blob folder and one cluster secret (as in a
    deployment: forwarding would be on if sessions needed it)."""
    ray_cluster.settle()  # no actor is placed on a node that an earlier module killed
    root = traversable_tmp_dir("o16n-ray-sessions-")
    settings = {
        "O16N_RUNTIME": "ray",
        "O16N_RAY_ADDRESS": ray_cluster.address,
        "O16N_DATABASE_URL": f"sqlite:///{root / 'shared.db'}",
        "O16N_BLOB_URL": f"file://{root / 'blobs'}",
        "O16N_CLUSTER_SECRET": secrets.token_urlsafe(24),
    }
    web = WebNodes([], root, settings)
    try:
        for index in range(2):  # one after the other: the first creates the schema
            web.nodes.append(web.start(f"node{index}"))
        yield web
    finally:
        for node in web.nodes:
            node.stop()
        shutil.rmtree(root, ignore_errors=True)


def _opened(client: httpx.Client, body: dict[str, object] | None = None) -> str:
    """A new session's id."""
    response = client.post("/sessions", json=body or {})
    assert response.status_code == 201, response.text
    return str(response.json()["sessionId"])


def _y(client: httpx.Client, session: str) -> object:
    """Run `y = x + 1` in the session; the value of y."""
    body = {"code": "y = x + 1", "outputParameters": ["y"]}
    response = client.post(f"/sessions/{session}/execute", json=body)
    assert response.status_code == 200, response.text
    return response.json()["outputParameters"][0]["value"]


def test_every_web_node_serves_a_session_and_closing_it_anywhere_ends_it(
    web: WebNodes,
) -> None:
    first, second = web.nodes
    token = first.token()
    with first.client(token) as on_first, second.client(token) as on_second:
        session = _opened(on_first, {"name": "shared"})
        execute(on_first, session, "x = 41")
        assert _y(on_second, session) == 42
        assert on_first.get(f"/sessions/{session}/history").json() == ["x = 41", "y = x + 1"]
        listed = on_second.get("/sessions").json()
        assert [item["name"] for item in listed if item["id"] == session] == ["shared"]
        assert on_second.delete(f"/sessions/{session}").status_code == 200
        assert_error(on_first.get(f"/sessions/{session}/history"), 404)
        assert_error(on_second.get(f"/sessions/{session}/history"), 404)


def test_cancel_on_any_web_node_interrupts_an_execution_running_from_another(
    web: WebNodes,
) -> None:
    first, second = web.nodes
    token = first.token()
    with first.client(token) as on_first, second.client(token) as on_second:
        session = _opened(on_first)
        loop = {"code": "import time\nfor _ in range(300):\n    time.sleep(0.1)"}  # 30 s
        with ThreadPoolExecutor(1) as pool:
            running = pool.submit(on_first.post, f"/sessions/{session}/execute", json=loop)
            started = time.monotonic()
            while not running.done() and time.monotonic() - started < CANCELLED_WITHIN_SECONDS:
                assert on_second.post(f"/sessions/{session}/cancel").status_code == 200
                time.sleep(0.3)
            assert running.done(), "the execution ran on after the cancel"
            interrupted = running.result().json()
        assert interrupted["success"] is False, interrupted
        assert "interrupt" in str(interrupted["errorMessage"]).lower(), interrupted
        execute(on_first, session, "x = 1")  # the session goes on
        assert _y(on_second, session) == 2
        assert on_first.delete(f"/sessions/{session}").status_code == 200


def _actors_per_node(client: httpx.Client) -> dict[str, int]:
    """The o16n actors on each Ray node, as /computenodes counts them."""
    body = client.get("/computenodes").json()
    return {node["address"]: node["interpreters"] for node in body["nodes"]}


def test_compute_nodes_count_the_actors_of_every_web_node(web: WebNodes) -> None:
    first, second = web.nodes
    token = first.token()
    with first.client(token) as on_first, second.client(token) as on_second:
        before = sum(_actors_per_node(on_first).values())
        sessions = [_opened(on_first), _opened(on_second)]  # an actor of each web node
        counted = _actors_per_node(on_first)
        assert sum(counted.values()) == before + 2, counted
        assert _actors_per_node(on_second) == counted
        for session in sessions:
            assert on_first.delete(f"/sessions/{session}").status_code == 200
        assert sum(_actors_per_node(on_second).values()) == before


def test_a_crashed_worker_is_replaced_inside_the_session_actor(web: WebNodes) -> None:
    first, second = web.nodes
    token = first.token()
    with first.client(token) as on_first, second.client(token) as on_second:
        session = _opened(on_first)
        execute(on_first, session, "x = 41")
        crashed = on_second.post(f"/sessions/{session}/execute", json={"code": CRASH}).json()
        assert crashed["success"] is False and "restarted" in crashed["errorMessage"], crashed
        execute(on_first, session, "y = 1")  # the same session, with a fresh workspace
        assert on_first.get(f"/sessions/{session}/workspace").json() == ["y"]
        assert on_second.get(f"/sessions/{session}/history").json() == ["x = 41", CRASH, "y = 1"]
        assert on_first.delete(f"/sessions/{session}").status_code == 200


def test_any_web_node_closes_sessions_idle_on_every_node_but_not_busy_ones(
    web: WebNodes,
) -> None:
    second = web.nodes[1]
    reaper = web.start("reaper", O16N_SESSION_IDLE_SECONDS="2")  # looks every second
    try:
        with second.client(second.token()) as client:
            idle = _opened(client)
            busy = _opened(client)
            with ThreadPoolExecutor(1) as pool:  # runs longer than the reaper's idle limit
                running = pool.submit(execute, client, busy, "import time\ntime.sleep(5)")
                deadline = time.monotonic() + 20
                while idle in {item["id"] for item in client.get("/sessions").json()}:
                    assert time.monotonic() < deadline, "the idle session was not closed"
                    time.sleep(0.5)  # listing is no use of a session
                running.result(timeout=30)
            assert_error(client.get(f"/sessions/{idle}/history"), 404)
            assert client.get(f"/sessions/{busy}/history").status_code == 200
            assert client.delete(f"/sessions/{busy}").status_code == 200
    finally:
        reaper.stop()


def test_a_session_outlives_the_web_node_that_opened_it(web: WebNodes) -> None:
    """Kills the first web node: the tests after this one use the second."""
    first, second = web.nodes
    token = first.token()
    with first.client(token) as on_first:
        session = _opened(on_first)
        execute(on_first, session, "x = 41")
    first.kill()
    with second.client(token) as on_second:
        assert _y(on_second, session) == 42
        assert on_second.get(f"/sessions/{session}/workspace").json() == ["x", "y"]
        assert on_second.delete(f"/sessions/{session}").status_code == 200


def _until_failed(client: httpx.Client, session: str, seconds: float) -> dict[str, object]:
    """Execute in the session until it answers an error (within `seconds`); that error.
    Before it, every execution succeeds: the killed node's actor lingers a moment."""
    deadline = time.monotonic() + seconds
    while True:
        response = client.post(f"/sessions/{session}/execute", json={"code": "x"})
        if response.status_code != 200:
            return assert_error(response, 502)
        assert response.json()["success"] is True, response.text
        assert time.monotonic() < deadline, f"the session still answers after {seconds} s"
        time.sleep(0.1)


def _lost(client: httpx.Client, session: str) -> None:
    """The session answers session_lost (not 404: it was lost, not closed)."""
    lost = assert_error(client.get(f"/sessions/{session}/history"), 502)
    assert lost["errorCode"] == "session_lost", lost


def test_a_session_whose_ray_node_died_answers_a_clear_error_on_every_web_node(
    web: WebNodes, ray_cluster: RayCluster
) -> None:
    second = web.nodes[1]
    doomed = ray_cluster.add_node()
    bystander = web.start("bystander")  # never uses the session before it is lost
    try:
        with second.client(second.token()) as client:
            assert client.post("/computenodes", json={"entries": [doomed]}).status_code == 200
            try:  # the session's actor goes to the new node
                session = _opened(client)
            finally:
                removed = client.request("DELETE", "/computenodes", json={"entries": [doomed]})
                assert removed.status_code == 200, removed.text
            execute(client, session, "x = 41")
            snapshot = take_snapshot(client, session)
            ray_cluster.kill_node(doomed)
            killed_at = time.monotonic()
            failed = _until_failed(client, session, UNANSWERED_WITHIN_SECONDS)
            unanswered_after = time.monotonic() - killed_at
            assert failed["errorCode"] in {"node_unavailable", "session_lost"}, failed
            assert doomed in str(failed["message"]), failed
            assert "snapshots are kept" in str(failed["message"]), failed
            while failed["errorCode"] != "session_lost":  # once Ray declares the node dead
                assert time.monotonic() - killed_at < LOST_WITHIN_SECONDS, failed
                time.sleep(0.5)
                failed = _until_failed(client, session, 0)
            lost_after = time.monotonic() - killed_at
            print(f"unanswered after {unanswered_after:.1f} s, lost after {lost_after:.1f} s")
            _lost(client, session)  # lost, not replaced by a fresh interpreter
            with bystander.client(second.token()) as elsewhere:
                _lost(elsewhere, session)
                closed = elsewhere.delete(f"/sessions/{session}")  # forgets the lost session
                assert closed.status_code == 200, closed.text
                assert_error(elsewhere.get(f"/sessions/{session}/history"), 404)
            assert_error(client.get(f"/sessions/{session}/history"), 404)
            restored = client.post("/sessions", json={"snapshotId": snapshot})
            assert restored.status_code == 201, restored.text
            assert _y(client, restored.json()["sessionId"]) == 42
    finally:
        bystander.stop()
