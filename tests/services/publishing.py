"""Sessions, snapshots, publishing and consuming over raw HTTP, for the services tests."""

from __future__ import annotations

import re
import uuid

import httpx

WIRE_TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,7})?$")
# Every WebService member but operationId, which is left out when unset.
WEB_SERVICE_MEMBERS = {
    "name",
    "version",
    "versionPublishedBy",
    "creationTime",
    "snapshotId",
    "runtimeType",
    "initCode",
    "code",
    "description",
    "inputParameterDefinitions",
    "outputParameterDefinitions",
    "outputFileNames",
    "myPermissionOnService",
}
RESULT_MEMBERS = {
    "success",
    "errorMessage",
    "outputParameters",
    "outputFiles",
    "consoleOutput",
    "changedFiles",
}


def service_name(prefix: str) -> str:
    """A service name no other test uses (letters, digits and `_`)."""
    return f"{prefix}_{uuid.uuid4().hex[:10]}"


def open_session(client: httpx.Client, name: str = "Session 1") -> str:
    """A new Python session's id."""
    response = client.post("/sessions", json={"name": name, "runtimeType": "Python"})
    assert response.status_code == 201, response.text
    return str(response.json()["sessionId"])


def execute(client: httpx.Client, session: str, code: str) -> dict[str, object]:
    """Run `code` in the session; it must succeed."""
    response = client.post(f"/sessions/{session}/execute", json={"code": code})
    assert response.status_code == 200, response.text
    body: dict[str, object] = response.json()
    assert body["success"] is True, body["errorMessage"]
    return body


def take_snapshot(client: httpx.Client, session: str, name: str | None = None) -> str:
    """Snapshot the session; the new snapshot's id."""
    response = client.post(f"/sessions/{session}/snapshot", json={"name": name})
    assert response.status_code == 201, response.text
    return str(response.json()["snapshotId"])


def snapshot_of(client: httpx.Client, code: str, name: str | None = None) -> str:
    """A snapshot of a fresh session after `code` ran in it; the session is closed."""
    session = open_session(client, "snapshot source")
    execute(client, session, code)
    snapshot = take_snapshot(client, session, name)
    assert client.delete(f"/sessions/{session}").status_code == 200
    return snapshot


def params(**types: str) -> list[dict[str, str]]:
    """Parameter definitions from name=type keywords, in keyword order."""
    return [{"name": name, "type": kind} for name, kind in types.items()]


def publish(
    client: httpx.Client, name: str, version: str | None, code: str, **members: object
) -> httpx.Response:
    """POST /services/{name}[/{version}] with `code` and the given request members."""
    body: dict[str, object] = {"code": code, "runtimeType": "Python", **members}
    path = f"/services/{name}" if version is None else f"/services/{name}/{version}"
    return client.post(path, json=body)


def published(client: httpx.Client, name: str, version: str, code: str, **members: object) -> None:
    """Publish a version that must be accepted (201)."""
    response = publish(client, name, version, code, **members)
    assert response.status_code == 201, response.text


def consume_response(client: httpx.Client, name: str, version: str, body: object) -> httpx.Response:
    """POST /api/{name}/{version} with a JSON body."""
    return client.post(f"/api/{name}/{version}", json=body)


def consume(client: httpx.Client, name: str, version: str, body: object) -> dict[str, object]:
    """Consume and check the WebServiceResult shape; the result (success or not)."""
    response = consume_response(client, name, version, body)
    assert response.status_code == 200, response.text
    result: dict[str, object] = response.json()
    assert set(result) >= RESULT_MEMBERS, result
    assert isinstance(result["outputParameters"], dict), result
    assert isinstance(result["outputFiles"], dict), result
    assert isinstance(result["changedFiles"], list), result
    return result


def outputs(client: httpx.Client, name: str, version: str, body: object) -> dict[str, object]:
    """The outputParameters of a call that must succeed."""
    result = consume(client, name, version, body)
    assert result["success"] is True, result["errorMessage"]
    values: dict[str, object] = result["outputParameters"]  # type: ignore[assignment]
    return values


def metadata(client: httpx.Client, name: str, version: str) -> dict[str, object]:
    """The WebService of one version (GET answers a one-element array)."""
    response = client.get(f"/services/{name}/{version}")
    assert response.status_code == 200, response.text
    body = response.json()
    assert isinstance(body, list) and len(body) == 1, body
    service: dict[str, object] = body[0]
    assert set(service) >= WEB_SERVICE_MEMBERS, service
    return service


def version_list(client: httpx.Client, name: str) -> list[str]:
    """The versions of `name`, in the order GET /services/{name} gives them."""
    response = client.get(f"/services/{name}")
    assert response.status_code == 200, response.text
    return [str(item["version"]) for item in response.json()]
