"""Versions and sessions on Python environments of their own, built from real wheels."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.batch.batching import start, wait
from tests.harness import Server, assert_error
from tests.services.publishing import execute, service_name, take_snapshot

READ_VERSION = "import o16ntiny\nv = o16ntiny.__version__"
OUTPUT = [{"name": "v", "type": "character"}]
BUILD_SECONDS = 60.0


@pytest.fixture
def client(env_server: Server, env_token: str) -> Iterator[httpx.Client]:
    """An Owner's client of the environments server."""
    with env_server.client(env_token) as owner:
        yield owner


def publish(client: httpx.Client, name: str, version: str, **members: object) -> None:
    """Publish a version that reads o16ntiny's version (201, at once)."""
    body = {"code": READ_VERSION, "outputParameterDefinitions": OUTPUT, **members}
    response = client.post(f"/services/{name}/{version}", json=body)
    assert response.status_code == 201, response.text


def metadata(client: httpx.Client, name: str, version: str) -> dict[str, object]:
    """GET /services/{name}/{version}: the one version."""
    response = client.get(f"/services/{name}/{version}")
    assert response.status_code == 200, response.text
    [body] = response.json()
    assert isinstance(body, dict)
    return body


def wait_ready(client: httpx.Client, name: str, version: str) -> dict[str, object]:
    """The version's metadata once its state is no longer `building` (bounded)."""
    deadline = time.monotonic() + BUILD_SECONDS
    while (body := metadata(client, name, version))["state"] == "building":
        assert time.monotonic() < deadline, body
        time.sleep(0.1)
    return body


def consumed_version(client: httpx.Client, name: str, version: str) -> str:
    """What the version says o16ntiny's version is."""
    response = client.post(f"/api/{name}/{version}", json={})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["success"] is True, body
    return str(body["outputParameters"]["v"])


def environment_count(client: httpx.Client) -> int:
    """Environments on the server's disk, as /status reports them."""
    response = client.get("/status")
    assert response.status_code == 200, response.text
    return int(
        response.json()["components"]["backends"]["components"]["local"]["details"]["environments"]
    )


def test_two_versions_answer_with_their_own_package_versions(client: httpx.Client) -> None:
    name = service_name("pinned")
    publish(client, name, "old", requirements=["o16ntiny==1.0"])
    publish(client, name, "new", requirements=["o16ntiny==2.0"])
    old, new = wait_ready(client, name, "old"), wait_ready(client, name, "new")
    assert (old["state"], new["state"]) == ("ready", "ready")
    assert consumed_version(client, name, "old") == "1.0"
    assert consumed_version(client, name, "new") == "2.0"
    environment = old["environment"]
    assert isinstance(environment, dict)
    assert environment["requirements"] == ["o16ntiny==1.0"]
    assert environment["lock"].startswith("o16ntiny==1.0 \\\n    --hash=sha256:")


def test_the_same_lock_is_built_once(client: httpx.Client) -> None:
    name = service_name("shared")
    publish(client, name, "first", requirements=["o16ntiny<2"])
    first = wait_ready(client, name, "first")
    count = environment_count(client)
    publish(client, name, "second", requirements=["o16ntiny==1.0"])
    second = metadata(client, name, "second")
    assert second["state"] == "ready", second  # no build: the lock's environment exists
    assert isinstance(first["environment"], dict) and isinstance(second["environment"], dict)
    assert first["environment"]["id"] == second["environment"]["id"]
    assert first["environment"]["requirements"] != second["environment"]["requirements"]
    assert environment_count(client) == count
    assert consumed_version(client, name, "second") == "1.0"


def test_a_version_answers_503_while_its_environment_builds(client: httpx.Client) -> None:
    name = service_name("building")
    publish(client, name, "v1", requirements=["o16nfriend==1.0"])
    response = client.post(f"/api/{name}/v1", json={})
    assert_error(response, 503)
    assert response.json()["errorCode"] == "environment_building"
    assert int(response.headers["Retry-After"]) >= 1
    body = wait_ready(client, name, "v1")
    assert isinstance(body["environment"], dict)
    assert "o16ntiny==2.0" in body["environment"]["lock"]  # o16nfriend's own requirement
    assert consumed_version(client, name, "v1") == "2.0"


@pytest.mark.parametrize(
    ("members", "field", "named"),
    [
        ({"requirements": ["o16nmissing>=1"]}, "requirements", "o16nmissing"),
        ({"requirements": ["o16ntiny==9.9"]}, "requirements", "o16ntiny"),
        ({"requirements": ["-e /etc"]}, "requirements[0]", "-e /etc"),
        ({"requirements": ["o16ntiny @ file:///etc"]}, "requirements[0]", "file:///etc"),
        ({"pythonVersion": "3.99"}, "pythonVersion", "3.99"),
        ({"pythonVersion": "python3"}, "pythonVersion", "python3"),
    ],
)
def test_a_bad_declaration_is_refused_naming_it(
    client: httpx.Client, members: dict[str, object], field: str, named: str
) -> None:
    name = service_name("refused")
    body = {"code": READ_VERSION, **members}
    body_error = assert_error(client.post(f"/services/{name}/v1", json=body), 400, field)
    assert named in str(body_error["message"])
    assert client.get(f"/services/{name}/v1").status_code == 404


def test_a_failed_build_shows_in_the_metadata_and_the_calls(client: httpx.Client) -> None:
    name = service_name("broken")
    publish(client, name, "v1", requirements=["o16nbroken==1.0"])  # it resolves
    body = wait_ready(client, name, "v1")
    assert body["state"] == "failed"
    assert "o16nbroken" in str(body["stateMessage"]), body
    failed = assert_error(client.post(f"/api/{name}/v1", json={}), 422, "requirements")
    assert failed["errorCode"] == "environment_failed"
    assert "o16nbroken" in str(failed["message"])
    session = client.post("/sessions", json={"requirements": ["o16nbroken==1.0"]})
    assert_error(session, 422, "requirements")


def test_a_patch_moves_a_version_to_another_environment(client: httpx.Client) -> None:
    name = service_name("patched")
    publish(client, name, "v1", requirements=["o16ntiny==1.0"])
    wait_ready(client, name, "v1")
    assert consumed_version(client, name, "v1") == "1.0"
    response = client.patch(f"/services/{name}/v1", json={"requirements": ["o16ntiny==2.0"]})
    assert response.status_code == 200, response.text
    assert wait_ready(client, name, "v1")["state"] == "ready"
    assert consumed_version(client, name, "v1") == "2.0"
    response = client.patch(f"/services/{name}/v1", json={"requirements": []})
    assert response.status_code == 200, response.text
    assert metadata(client, name, "v1")["environment"] is None
    failed = client.post(f"/api/{name}/v1", json={}).json()
    assert failed["success"] is False and "o16ntiny" in failed["errorMessage"]


def test_a_session_snapshot_and_its_service_share_the_environment(client: httpx.Client) -> None:
    response = client.post("/sessions", json={"requirements": ["o16ntiny==2.0"]})
    assert response.status_code == 201, response.text
    session = response.json()["sessionId"]
    try:
        execute(client, session, "import o16ntiny\nseen = o16ntiny.__version__")
        snapshot = take_snapshot(client, session)
    finally:
        client.delete(f"/sessions/{session}")
    name = service_name("from_snapshot")
    body = {"code": "v = seen", "snapshotId": snapshot, "outputParameterDefinitions": OUTPUT}
    assert client.post(f"/services/{name}/v1", json=body).status_code == 201
    published = wait_ready(client, name, "v1")
    assert isinstance(published["environment"], dict)
    assert published["environment"]["requirements"] == ["o16ntiny==2.0"]
    assert consumed_version(client, name, "v1") == "2.0"


def test_a_session_with_a_bad_requirement_is_refused(client: httpx.Client) -> None:
    response = client.post("/sessions", json={"requirements": ["o16nmissing"]})
    assert_error(response, 400, "requirements")


def test_an_environment_nothing_uses_is_removed(client: httpx.Client, env_server: Server) -> None:
    name = service_name("unused")
    publish(client, name, "v1", requirements=["o16nlonely==1.0", "o16ntiny==1.0"])
    body = wait_ready(client, name, "v1")
    assert isinstance(body["environment"], dict)
    folder = Path(env_server.data_dir, "environments", str(body["environment"]["id"]))
    assert folder.is_dir()
    assert client.delete(f"/services/{name}/v1").status_code == 200
    deadline = time.monotonic() + 20
    while folder.exists():
        assert time.monotonic() < deadline, "the unused environment was not removed"
        time.sleep(0.2)


def test_a_batch_started_while_the_environment_builds_waits_for_it(
    client: httpx.Client,
) -> None:
    name = service_name("batch_env")
    code = "import o16nlonely\nv = o16nlonely.__version__ + str(i)"
    body = {
        "code": code,
        "inputParameterDefinitions": [{"name": "i", "type": "integer"}],
        "outputParameterDefinitions": OUTPUT,
        "requirements": ["o16nlonely==1.0"],
    }
    assert client.post(f"/services/{name}/v1", json=body).status_code == 201
    execution = start(client, name, [{"i": i} for i in range(5)], parallel=5)
    finished = wait(client, name, execution)
    assert finished["state"] == "Complete"
    results = finished["batchExecutionResults"]
    assert isinstance(results, list)
    assert [r["outputParameters"]["v"] for r in results] == [f"1.0{i}" for i in range(5)]
