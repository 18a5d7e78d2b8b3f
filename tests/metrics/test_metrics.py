"""GET /metrics on a real server: who may read it, and counters that move by exactly the
calls made, with bounded labels (route templates, never raw paths)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.harness import Server, assert_error, traversable_tmp_dir, unique_name
from tests.realtime.conftest import Iris
from tests.realtime.test_realtime import consume as consume_realtime
from tests.realtime.test_realtime import publish as publish_realtime
from tests.services.publishing import outputs, params, published, service_name

SCRAPE_TOKEN = "scrape-token-for-tests-0123456789"
PASSWORD = "Metrics-Pass-1234"
X_TO_Y = {
    "inputParameterDefinitions": params(x="integer"),
    "outputParameterDefinitions": params(y="integer"),
}
Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


@pytest.fixture(scope="module")
def metered() -> Iterator[Server]:
    """A server of its own (its counters start at zero) with a scrape token."""
    root: Path = traversable_tmp_dir("o16n-metrics-")
    running = Server(root / "data", env={"O16N_METRICS_TOKEN": SCRAPE_TOKEN}).start()
    yield running
    running.stop()


def scrape(server: Server, token: str = SCRAPE_TOKEN) -> Samples:
    """Every sample of /metrics, by name and label set."""
    with server.client(token) as client:
        response = client.get("/metrics")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    samples: Samples = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            samples[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return samples


def value(samples: Samples, name: str, **labels: str) -> float:
    """One sample's value (0 when the series does not exist yet)."""
    return samples.get((name, frozenset(labels.items())), 0.0)


def test_metrics_need_an_owner_or_the_scrape_token(metered: Server) -> None:
    reader = unique_name("reader")
    added = metered.cli("users", "add", reader, "--role", "Reader", "--password", PASSWORD)
    assert added.returncode == 0, added.stderr
    with metered.client() as anonymous:
        assert_error(anonymous.get("/metrics"), 401)
    with metered.client("not-the-scrape-token") as stranger:
        assert_error(stranger.get("/metrics"), 401)
    with metered.client(metered.token(reader, PASSWORD)) as client:
        assert_error(client.get("/metrics"), 403)
    assert scrape(metered, metered.token())  # an Owner
    assert scrape(metered)  # the scraper


def test_metrics_are_closed_without_a_scrape_token(server: Server) -> None:
    with server.client(SCRAPE_TOKEN) as client:
        assert_error(client.get("/metrics"), 401)


def test_counters_move_by_exactly_the_calls_made(metered: Server) -> None:
    name = service_name("metered")
    token = metered.token()
    with metered.client(token) as client:
        code = "if x < 0:\n    raise ValueError('negative')\ny = x * 2"
        published(client, name, "1.0", code, **X_TO_Y)
        assert outputs(client, name, "1.0", {"x": 1}) == {"y": 2}  # the cold start
        before = scrape(metered)
        for x in range(5):
            assert outputs(client, name, "1.0", {"x": x}) == {"y": 2 * x}
        for _ in range(2):
            failed = client.post(f"/api/{name}/1.0", json={"x": -1}).json()
            assert failed["success"] is False
        assert_error(client.get("/services/no_such_service_here/9"), 404)
        with metered.client() as anonymous:
            assert anonymous.post("/login", json={"username": "admin", "password": "no"}).is_error
            assert anonymous.request("PROPFIND", f"/raw/{name}").is_error
        after = scrape(metered)

    def moved(sample: str, **labels: str) -> float:
        return value(after, sample, **labels) - value(before, sample, **labels)

    version = {"service": name, "version": "1.0"}
    assert moved("o16n_service_requests_total", **version, status="success") == 5
    assert moved("o16n_service_requests_total", **version, status="failure") == 2
    assert moved("o16n_service_request_duration_seconds_count", **version) == 7
    consume = {"route": "/api/{name}/{version}", "method": "POST"}
    assert moved("o16n_http_requests_total", **consume, status="200") == 7
    assert moved("o16n_http_request_duration_seconds_count", **consume) == 7
    lookup = {"route": "/services/{name}/{version}", "method": "GET", "status": "404"}
    assert moved("o16n_http_requests_total", **lookup) == 1
    assert moved("o16n_login_failures_total") == 1
    assert value(after, "o16n_service_worker_starts_total", **version) >= 1
    assert value(after, "o16n_service_cold_start_seconds_count", **version) == 1
    assert value(after, "o16n_service_workers_live", **version) >= 1
    assert value(after, "o16n_service_queue_length", **version) == 0
    assert ("o16n_sessions_open", frozenset()) in after
    brewed = [
        moved("o16n_http_requests_total", **dict(labels))
        for sample, labels in after
        if sample == "o16n_http_requests_total" and ("method", "other") in labels
    ]
    assert sum(brewed) == 1  # a method callers made up is not a label value
    routes = {dict(labels).get("route") for _, labels in after} - {None}
    assert routes, after
    assert not any("no_such_service_here" in str(route) or name in str(route) for route in routes)
    for route in routes:
        assert route == "unmatched" or route.startswith("/"), route


def test_batch_records_are_counted(metered: Server) -> None:
    name = service_name("batched")
    with metered.client(metered.token()) as client:
        code = "if x < 0:\n    raise ValueError('negative')\ny = x"
        published(client, name, "1", code, **X_TO_Y)
        records = [{"x": 1}, {"x": 2}, {"x": -1}]
        started = client.post(f"/api/{name}/1/batch", json=records)
        assert started.status_code == 202, started.text
        execution = started.json()["batchExecutionId"]
        deadline = time.monotonic() + 30
        while client.get(f"/api/{name}/1/batch/{execution}").json()["state"] != "Complete":
            assert time.monotonic() < deadline, "the batch did not finish"
            time.sleep(0.1)
    samples = scrape(metered)
    version = {"service": name, "version": "1"}
    assert value(samples, "o16n_batch_records_total", **version, outcome="done") == 2
    assert value(samples, "o16n_batch_records_total", **version, outcome="failed") == 1


FAULTY = "import os\nif mode == 'crash':\n    os._exit(3)\nwhile mode == 'hang':\n    pass\ny = 1"


def test_worker_timeouts_and_crashes_are_counted(metered: Server) -> None:
    name = service_name("faulty")
    io = {
        "inputParameterDefinitions": params(mode="character"),
        "outputParameterDefinitions": params(y="integer"),
    }
    with metered.client(metered.token()) as client:
        published(client, name, "1", FAULTY, timeoutSeconds=1, **io)
        assert outputs(client, name, "1", {"mode": "ok"}) == {"y": 1}
        assert_error(client.post(f"/api/{name}/1", json={"mode": "hang"}), 504)
        assert client.post(f"/api/{name}/1", json={"mode": "crash"}).is_error
        assert outputs(client, name, "1", {"mode": "ok"}) == {"y": 1}
    samples = scrape(metered)
    version = {"service": name, "version": "1"}
    assert value(samples, "o16n_service_worker_timeouts_total", **version) == 1
    assert value(samples, "o16n_service_worker_crashes_total", **version) == 1
    assert value(samples, "o16n_service_requests_total", **version, status="504") == 1
    assert value(samples, "o16n_service_requests_total", **version, status="success") == 2
    assert value(samples, "o16n_service_worker_starts_total", **version) >= 3  # replacements


def test_realtime_runs_are_counted(metered: Server) -> None:
    iris = Iris()
    name = service_name("realtime")
    with metered.client(metered.token()) as client:
        created = publish_realtime(client, name, "1", iris.onnx)
        assert created.status_code == 201, created.text
        before = scrape(metered)
        for row in range(3):  # one after another: each is a run of its own
            answer = consume_realtime(client, name, "1", iris.frame([row]))
            assert answer.json()["outputParameters"]["outputData"]["label"] == [iris.expected[row]]
        after = scrape(metered)
    for sample in ("o16n_realtime_batch_size_count", "o16n_realtime_batch_size_sum"):
        assert value(after, sample) - value(before, sample) == 3, sample
    runs = "o16n_realtime_model_run_duration_seconds_count"
    assert value(after, runs) - value(before, runs) == 3


def test_a_deleted_version_loses_its_series(metered: Server) -> None:
    name = service_name("gone")
    with metered.client(metered.token()) as client:
        published(client, name, "1", "y = x", **X_TO_Y)
        assert outputs(client, name, "1", {"x": 3}) == {"y": 3}
        assert (
            value(
                scrape(metered),
                "o16n_service_requests_total",
                service=name,
                version="1",
                status="success",
            )
            == 1
        )
        assert client.delete(f"/services/{name}/1").status_code == 200
    left = [key for key in scrape(metered) if ("service", name) in key[1]]
    assert left == []
