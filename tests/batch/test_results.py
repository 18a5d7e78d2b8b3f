"""Batch results (reference §14): iris rows against scikit-learn, partial results, failures
that stay in their record, output files, and the version's Swagger."""

from __future__ import annotations

import base64
from collections.abc import Callable
from pathlib import Path

from tests.batch.batching import (
    iris_expected,
    iris_rows,
    publish_counting,
    publish_iris,
    runs,
    start,
    status,
    wait,
)
from tests.harness import Server, assert_error
from tests.services.publishing import RESULT_MEMBERS


def test_a_thousand_iris_rows_match_scikit_learn_row_by_row(
    server: Server, admin_token: str, new_name: Callable[[str], str]
) -> None:
    name = new_name("BatchIris")
    rows = iris_rows(1000)
    with server.client(admin_token) as client:
        publish_iris(client, name)
        execution = start(client, name, [{"flower_data": row} for row in rows], parallel=16)
        body = wait(client, name, execution)
    assert body["state"] == "Complete"
    assert body["completedItemCount"] == body["totalItemCount"] == 1000
    results = body["batchExecutionResults"]
    assert isinstance(results, list) and len(results) == 1000
    for result in results:
        assert set(result) >= RESULT_MEMBERS, result
        assert result["success"] is True, result["errorMessage"]
    predicted = [result["outputParameters"]["result"] for result in results]
    assert predicted == iris_expected(rows)


def test_partial_results_show_done_records_and_null_for_the_others(
    server: Server, admin_token: str, new_name: Callable[[str], str], open_tmp_path: Path
) -> None:
    name = new_name("BatchPartial")
    with server.client(admin_token) as client:
        publish_counting(client, name, open_tmp_path / "runs", seconds=0.3)
        execution = start(client, name, [{"index": i} for i in range(12)], parallel=1)
        body = wait(client, name, execution, done=2)
        assert body["state"] == "InProgress"
        results = body["batchExecutionResults"]
        assert isinstance(results, list) and len(results) == 12
        done = [i for i, result in enumerate(results) if result is not None]
        assert done == list(range(len(done))) and 2 <= len(done) < 12, results
        assert all(results[i]["outputParameters"] == {"doubled": 2 * i} for i in done)
        hidden = status(client, name, execution, showPartialResult="false")
        assert hidden["batchExecutionResults"] == []
        assert hidden["totalItemCount"] == 12
        swagger_spelling = status(client, name, execution, showPartialResults="false")
        assert swagger_spelling["batchExecutionResults"] == []
        final = wait(client, name, execution)
        shown = status(client, name, execution, showPartialResult="false")
    assert final["state"] == "Complete"
    assert [r["outputParameters"]["doubled"] for r in shown["batchExecutionResults"]] == [
        2 * i for i in range(12)
    ]
    assert sorted(runs(open_tmp_path / "runs")) == list(range(12))


def test_a_failing_record_fails_alone_inside_a_complete_batch(
    server: Server, admin_token: str, new_name: Callable[[str], str], open_tmp_path: Path
) -> None:
    name = new_name("BatchFailing")
    extra = "if index == 3:\n    raise ValueError('three is bad')\n"
    records: list[object] = [{"index": i} for i in range(6)]
    records.append({"index": "seven"})  # invalid input: a failed record, never run
    records.append({"other": 1})
    with server.client(admin_token) as client:
        publish_counting(client, name, open_tmp_path / "runs", extra=extra)
        body = wait(client, name, start(client, name, records))
    assert body["state"] == "Complete"
    assert body["completedItemCount"] == body["totalItemCount"] == 8
    results = body["batchExecutionResults"]
    assert [r["success"] for r in results] == [True, True, True, False, True, True, False, False]
    assert "ValueError: three is bad" in results[3]["errorMessage"]
    assert results[3]["outputParameters"] == {"doubled": None}
    assert "index" in results[6]["errorMessage"] and "integer" in results[6]["errorMessage"]
    assert "'other' is not an input" in results[7]["errorMessage"]
    assert results[4]["outputParameters"] == {"doubled": 8}
    assert sorted(runs(open_tmp_path / "runs")) == list(range(6))


def test_output_files_of_a_record_are_listed_and_downloaded(
    server: Server, admin_token: str, new_name: Callable[[str], str], open_tmp_path: Path
) -> None:
    name = new_name("BatchFiles")
    extra = (
        "if index != 1:\n"
        "    with open('report.txt', 'w') as out:\n"
        "        out.write(f'record {index}')\n"
    )
    with server.client(admin_token) as client:
        publish_counting(
            client, name, open_tmp_path / "runs", extra=extra, files=["report.txt", "none.csv"]
        )
        execution = start(client, name, [{"index": i} for i in range(3)])
        body = wait(client, name, execution)
        base = f"/api/{name}/v1/batch/{execution}"
        listed = [client.get(f"{base}/{i}/files").json() for i in range(3)]
        download = client.get(f"{base}/2/files/report.txt")
        missing = client.get(f"{base}/1/files/report.txt")
        undeclared = client.get(f"{base}/0/files/none.csv")
        out_of_range = client.get(f"{base}/3/files")
    assert listed == [["report.txt"], [], ["report.txt"]]
    assert download.status_code == 200
    assert download.headers["content-type"] == "application/octet-stream"
    assert download.content == b"record 2"
    assert_error(missing, 404)
    assert_error(undeclared, 404)
    assert_error(out_of_range, 404)
    files = [result["outputFiles"] for result in body["batchExecutionResults"]]
    assert files[0] == {"report.txt": base64.b64encode(b"record 0").decode(), "none.csv": None}
    assert files[1] == {"report.txt": None, "none.csv": None}
    assert body["batchExecutionResults"][0]["changedFiles"] == ["report.txt"]


def test_the_version_swagger_documents_the_batch_routes(
    server: Server, admin_token: str, new_name: Callable[[str], str]
) -> None:
    name = new_name("BatchSwagger")
    with server.client(admin_token) as client:
        publish_iris(client, name)
        document = client.get(f"/api/{name}/v1/swagger.json").json()
    base = f"/api/{name}/v1/batch"
    paths = document["paths"]
    assert paths[base]["post"]["operationId"] == "StartBatchExecution"
    assert paths[base]["get"]["operationId"] == "GetBatchExecutions"
    assert paths[base + "/{executionId}"]["get"]["operationId"] == "GetBatchExecutionStatus"
    assert paths[base + "/{executionId}"]["delete"]["operationId"] == (
        "CancelAndDeleteBatchExecution"
    )
    files = base + "/{executionId}/{index}/files"
    assert paths[files]["get"]["operationId"] == "GetBatchExecutionFiles"
    assert paths[files + "/{fileName}"]["get"]["operationId"] == "GetBatchExecutionFile"
    definitions = document["definitions"]
    assert "batchExecutionId" in definitions["StartBatchExecutionResponse"]["properties"]
    assert set(definitions["BatchWebServiceResult"]["properties"]) >= {
        "state",
        "completedItemCount",
        "totalItemCount",
        "batchExecutionResults",
    }


def test_a_batch_of_only_invalid_records_is_complete_at_once(
    server: Server, admin_token: str, new_name: Callable[[str], str]
) -> None:
    name = new_name("BatchInvalid")
    with server.client(admin_token) as client:
        publish_iris(client, name)
        execution = start(client, name, [{"flower_data": "x"}, {}])
        body = status(client, name, execution)
    assert (body["state"], body["completedItemCount"], body["totalItemCount"]) == ("Complete", 2, 2)
    assert [r["success"] for r in body["batchExecutionResults"]] == [False, False]
    assert body["batchExecutionResults"][1]["outputParameters"] == {"result": None}
    assert "flower_data" in body["batchExecutionResults"][1]["errorMessage"]


def test_a_crashing_or_hanging_record_fails_alone(
    start_server: Callable[..., Server], open_tmp_path: Path
) -> None:
    server = start_server(O16N_SERVICE_TIMEOUT_SECONDS="3")
    extra = "import os\nif index == 2:\n    os._exit(3)\nif index == 5:\n    time.sleep(30)\n"
    with server.client(server.token()) as client:
        publish_counting(client, "Fragile", open_tmp_path / "runs", extra=extra)
        body = wait(client, "Fragile", start(client, "Fragile", [{"index": i} for i in range(8)]))
    assert body["state"] == "Complete"
    results = body["batchExecutionResults"]
    assert [r["success"] for r in results] == [True, True, False, True, True, False, True, True]
    assert results[2]["errorMessage"] and results[5]["errorMessage"]
    assert [results[i]["outputParameters"]["doubled"] for i in (0, 1, 3, 4, 6, 7)] == [
        0, 2, 6, 8, 12, 14
    ]  # fmt: skip
