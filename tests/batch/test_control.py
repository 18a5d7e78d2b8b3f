"""Controlling batches: validation, cancel, who sees which execution, deleting the version,
and interactive calls that keep their share of the pool while a batch runs."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from tests.batch.batching import publish_counting, publish_iris, runs, start, status, wait
from tests.harness import Server, assert_error, unique_name
from tests.services.publishing import consume

PASSWORD = "Batch-Pass-1234"


def test_bad_requests_are_refused_naming_the_field(
    server: Server, admin_token: str, new_name: Callable[[str], str]
) -> None:
    name = new_name("BatchBad")
    with server.client(admin_token) as client:
        publish_iris(client, name)
        url = f"/api/{name}/v1/batch"
        assert_error(client.post(url, json=[]), 400, "body")
        assert_error(client.post(url, json={"flower_data": [1, 2, 3, 4]}), 400, "body")
        assert_error(client.post(url, json=[{"flower_data": [1]}, 5]), 400, "[1]")
        record = [{"flower_data": [1, 2, 3, 4]}]
        assert_error(client.post(url + "?parallelCount=0", json=record), 400, "parallelCount")
        assert_error(client.post(url + "?parallelCount=x", json=record), 400, "parallelCount")
        assert_error(client.post(f"/api/{name}/v2/batch", json=record), 404)
        assert_error(client.get(f"/api/{name}/v2/batch"), 404)
        assert_error(client.get(f"{url}/no-such-execution"), 404, "executionId")
        assert_error(client.delete(f"{url}/no-such-execution"), 404, "executionId")
        execution = start(client, name, record)
        assert_error(client.get(f"{url}/{execution}?showPartialResult=maybe"), 400)
        assert_error(client.get(f"{url}/{execution}/x/files"), 404, "index")
        wait(client, name, execution)


def test_cancel_stops_records_that_did_not_start_and_deletes_the_execution(
    server: Server, admin_token: str, new_name: Callable[[str], str], open_tmp_path: Path
) -> None:
    name = new_name("BatchCancel")
    counter = open_tmp_path / "runs"
    with server.client(admin_token) as client:
        publish_counting(client, name, counter, seconds=0.3)
        execution = start(client, name, [{"index": i} for i in range(30)], parallel=2)
        wait(client, name, execution, done=2)
        response = client.delete(f"/api/{name}/v1/batch/{execution}")
        assert response.status_code == 200, response.text
        assert response.json() == [execution]
        ran = len(runs(counter))
        time.sleep(1.5)  # the two records in flight may finish; no other record starts
        settled = len(runs(counter))
        time.sleep(1.0)
        assert len(runs(counter)) == settled <= ran + 2 < 30
        assert_error(client.get(f"/api/{name}/v1/batch/{execution}"), 404)
        assert client.get(f"/api/{name}/v1/batch").json() == []


def test_users_see_their_own_executions_and_owners_see_all(
    server: Server, admin_token: str, new_name: Callable[[str], str]
) -> None:
    name = new_name("BatchOwners")
    reader = unique_name("reader")
    added = server.cli("users", "add", reader, "--role", "Reader", "--password", PASSWORD)
    assert added.returncode == 0, added.stderr
    record = [{"flower_data": [5.1, 3.5, 1.4, 0.2]}]
    with (
        server.client(admin_token) as admin,
        server.client(server.token(reader, PASSWORD)) as other,
    ):
        publish_iris(admin, name)
        mine = start(admin, name, record)
        theirs = start(other, name, record)
        assert wait(other, name, theirs)["state"] == "Complete"
        assert other.get(f"/api/{name}/v1/batch").json() == [theirs]
        assert sorted(admin.get(f"/api/{name}/v1/batch").json()) == sorted([mine, theirs])
        assert_error(other.get(f"/api/{name}/v1/batch/{mine}"), 404)
        assert_error(other.delete(f"/api/{name}/v1/batch/{mine}"), 404)
        assert_error(other.get(f"/api/{name}/v1/batch/{mine}/0/files"), 404)
        assert status(admin, name, theirs)["state"] == "Complete"
        assert wait(admin, name, mine)["state"] == "Complete"


def test_deleting_the_version_cancels_and_deletes_its_executions(
    server: Server, admin_token: str, new_name: Callable[[str], str], open_tmp_path: Path
) -> None:
    name = new_name("BatchDeleted")
    counter = open_tmp_path / "runs"
    with server.client(admin_token) as client:
        publish_counting(client, name, counter, seconds=0.3)
        execution = start(client, name, [{"index": i} for i in range(30)], parallel=1)
        wait(client, name, execution, done=1)
        assert client.delete(f"/services/{name}/v1").status_code == 200
        ran = len(runs(counter))
        time.sleep(1.0)  # the record in flight may finish; no other record starts
        settled = len(runs(counter))
        time.sleep(1.0)
        assert len(runs(counter)) == settled <= ran + 1 < 30
        publish_counting(client, name, counter)
        assert client.get(f"/api/{name}/v1/batch").json() == []
        assert_error(client.get(f"/api/{name}/v1/batch/{execution}"), 404)


def test_interactive_calls_keep_their_share_of_the_pool_while_a_batch_runs(
    start_server: Callable[..., Server], open_tmp_path: Path
) -> None:
    # One worker, one call in flight, two waiting: without a batch share the batch's ten
    # parallel records would fill the queue and interactive calls would get 503.
    server = start_server(
        O16N_POOL_MAX_WORKERS="1",
        O16N_POOL_PIPELINE_DEPTH="1",
        O16N_POOL_MAX_QUEUE="2",
        O16N_POOL_BLANK_WORKERS="1",
    )
    with server.client(server.token()) as client:
        publish_counting(client, "Shared", open_tmp_path / "runs", seconds=0.1)
        execution = start(client, "Shared", [{"index": i} for i in range(40)], parallel=10)
        wait(client, "Shared", execution, done=1)
        for index in range(5):
            result = consume(client, "Shared", "v1", {"index": 1000 + index})
            assert result["outputParameters"] == {"doubled": 2000 + 2 * index}
        body = wait(client, "Shared", execution)
    assert body["state"] == "Complete"
    assert all(result["success"] for result in body["batchExecutionResults"])
