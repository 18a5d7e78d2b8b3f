"""GET /services/{name}/{version}/stats on a real server: the last hour of a version's calls,
counted exactly, readable by any role that sees the service, gone with the version."""

from __future__ import annotations

from datetime import datetime

from tests.harness import Server, assert_error, unique_name
from tests.services.publishing import outputs, params, published, service_name

PASSWORD = "Stats-Pass-1234"
CODE = "if x < 0:\n    raise ValueError('negative')\ny = x * 2"
X_TO_Y = {
    "inputParameterDefinitions": params(x="integer"),
    "outputParameterDefinitions": params(y="integer"),
}


def stats(server: Server, token: str, name: str, version: str) -> dict[str, object]:
    """The version's stats, checked for their shape."""
    with server.client(token) as client:
        response = client.get(f"/services/{name}/{version}/stats")
    assert response.status_code == 200, response.text
    body: dict[str, object] = response.json()
    assert body["bucketSeconds"] == 10
    start = datetime.fromisoformat(str(body["windowStart"]))
    end = datetime.fromisoformat(str(body["windowEnd"]))
    assert (end - start).total_seconds() == 3600
    return body


def totals(body: dict[str, object]) -> tuple[int, int]:
    """Calls and errors over every bucket."""
    buckets = body["buckets"]
    assert isinstance(buckets, list)
    return sum(b["calls"] for b in buckets), sum(b["errors"] for b in buckets)


def test_stats_count_exactly_the_calls_made(server: Server) -> None:
    name = service_name("charted")
    token = server.token()
    with server.client(token) as client:
        published(client, name, "1", CODE, **X_TO_Y)
        assert totals(stats(server, token, name, "1")) == (0, 0)
        for x in range(5):
            assert outputs(client, name, "1", {"x": x}) == {"y": 2 * x}
        for _ in range(2):
            assert client.post(f"/api/{name}/1", json={"x": -1}).json()["success"] is False
    body = stats(server, token, name, "1")
    assert totals(body) == (7, 2)
    buckets = body["buckets"]
    assert isinstance(buckets, list) and buckets
    window = datetime.fromisoformat(str(body["windowStart"]))
    for bucket in buckets:
        assert datetime.fromisoformat(bucket["start"]) >= window
        assert 0 < bucket["p50Ms"] <= bucket["p95Ms"] <= bucket["p99Ms"], bucket
    starts = [bucket["start"] for bucket in buckets]
    assert starts == sorted(starts)


def test_a_reader_sees_the_stats_of_a_version_and_unknown_ones_are_404(server: Server) -> None:
    name = service_name("charted")
    reader = unique_name("stats-reader")
    added = server.cli("users", "add", reader, "--role", "Reader", "--password", PASSWORD)
    assert added.returncode == 0, added.stderr
    with server.client(server.token()) as client:
        published(client, name, "1", CODE, **X_TO_Y)
        assert outputs(client, name, "1", {"x": 3}) == {"y": 6}
    reader_token = server.token(reader, PASSWORD)
    assert totals(stats(server, reader_token, name, "1")) == (1, 0)
    with server.client(reader_token) as client:
        assert_error(client.get(f"/services/{name}/2/stats"), 404)
        assert_error(client.get(f"/services/{name}_none/1/stats"), 404)
    with server.client() as anonymous:
        assert_error(anonymous.get(f"/services/{name}/1/stats"), 401)


def test_a_deleted_version_loses_its_history(server: Server) -> None:
    name = service_name("charted")
    token = server.token()
    with server.client(token) as client:
        published(client, name, "1", CODE, **X_TO_Y)
        for x in range(3):
            assert outputs(client, name, "1", {"x": x}) == {"y": 2 * x}
        assert totals(stats(server, token, name, "1")) == (3, 0)
        assert client.delete(f"/services/{name}/1").status_code == 200
        assert_error(client.get(f"/services/{name}/1/stats"), 404)
        published(client, name, "1", CODE, **X_TO_Y)
    assert totals(stats(server, token, name, "1")) == (0, 0)


def test_the_stats_route_is_in_the_api_document(server: Server) -> None:
    with server.client() as anonymous:
        document = anonymous.get("/swagger.json").json()
    operation = document["paths"]["/services/{name}/{version}/stats"]["get"]
    assert operation["operationId"] == "getWebServiceVersionStats"
    assert "o16n extension" in operation["description"]
    assert operation["responses"]["200"]["schema"] == {"$ref": "#/definitions/CallStats"}
    assert "CallStatsBucket" in document["definitions"]
