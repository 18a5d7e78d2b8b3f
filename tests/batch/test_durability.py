"""Batches survive a crash of the server (kill -9) and are swept after their retention."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.batch.batching import publish_counting, runs, start, status, wait
from tests.harness import Server, assert_error


@pytest.mark.parametrize("end", ["kill", "stop"])
def test_a_restarted_server_resumes_its_batch_without_rerunning_committed_records(
    start_server: Callable[..., Server], open_tmp_path: Path, end: str
) -> None:
    counter = open_tmp_path / "runs"
    lease = {"O16N_BATCH_LEASE_SECONDS": "2"}  # a killed server's leases expire in 2 s
    server = start_server(**lease)
    total = 40
    with server.client(server.token()) as client:
        publish_counting(client, "Durable", counter, seconds=0.1)
        execution = start(client, "Durable", [{"index": i} for i in range(total)], parallel=2)
        before = wait(client, "Durable", execution, done=10)
    committed = {i for i, r in enumerate(before["batchExecutionResults"]) if r is not None}
    assert 10 <= len(committed) < total
    if end == "kill":
        server.kill()  # SIGKILL, as a crash
        time.sleep(0.5)  # orphaned workers finish what they had and exit
    else:
        server.stop()  # SIGTERM: running records are stopped and resume later
    restarted = start_server(server.data_dir, **lease)
    with restarted.client(restarted.token()) as client:
        after = wait(client, "Durable", execution)
    assert after["state"] == "Complete"
    assert after["completedItemCount"] == after["totalItemCount"] == total
    results = after["batchExecutionResults"]
    assert [r["outputParameters"]["doubled"] for r in results] == [2 * i for i in range(total)]
    counts = Counter(runs(counter))
    assert set(counts) == set(range(total))
    assert all(counts[i] == 1 for i in committed), counts


def test_finished_executions_are_swept_with_their_files_after_the_retention(
    start_server: Callable[..., Server], open_tmp_path: Path
) -> None:
    server = start_server(O16N_BATCH_RETENTION_SECONDS="1", O16N_BATCH_SWEEP_SECONDS="0.2")
    blobs = server.data_dir / "blobs"
    extra = "with open('out.bin', 'wb') as out:\n    out.write(bytes([index]) * 100)\n"
    with server.client(server.token()) as client:
        publish_counting(client, "Swept", open_tmp_path / "runs", extra=extra, files=["out.bin"])
        before = {path.name for path in blobs.rglob("*") if path.is_file()}
        execution = start(client, "Swept", [{"index": i} for i in range(3)])
        assert wait(client, "Swept", execution)["state"] == "Complete"
        stored = {path.name for path in blobs.rglob("*") if path.is_file()} - before
        assert len(stored) == 3
        deadline = time.monotonic() + 30
        while client.get(f"/api/Swept/v1/batch/{execution}").status_code == 200:
            assert time.monotonic() < deadline, "the execution was not swept"
            time.sleep(0.2)
        assert_error(client.get(f"/api/Swept/v1/batch/{execution}"), 404)
        assert client.get("/api/Swept/v1/batch").json() == []
    deadline = time.monotonic() + 10  # the rows go first, their blobs right after
    while stored & {path.name for path in blobs.rglob("*") if path.is_file()}:
        assert time.monotonic() < deadline, "the execution's files were not deleted"
        time.sleep(0.1)


def test_a_batch_file_survives_the_deletion_of_a_snapshot_with_the_same_content(
    server: Server, admin_token: str, new_name: Callable[[str], str], open_tmp_path: Path
) -> None:
    # The service copies a snapshot's archive into its output file: both rows then refer to
    # one content-addressed blob, which must outlive the snapshot.
    name = new_name("BatchShared")
    archive = open_tmp_path / "archive.zip"
    extra = f"import shutil\nshutil.copyfile({str(archive)!r}, 'copy.zip')\n"
    with server.client(admin_token) as client:
        session = client.post("/sessions", json={"name": "shared"}).json()["sessionId"]
        client.post(f"/sessions/{session}/execute", json={"code": "x = 42"})
        snapshot = client.post(f"/sessions/{session}/snapshot", json={}).json()["snapshotId"]
        client.delete(f"/sessions/{session}")
        content = client.get(f"/snapshots/{snapshot}").content
        archive.write_bytes(content)
        archive.chmod(0o644)
        publish_counting(client, name, open_tmp_path / "runs", extra=extra, files=["copy.zip"])
        execution = start(client, name, [{"index": 0}])
        assert wait(client, name, execution)["state"] == "Complete"
        assert client.delete(f"/snapshots/{snapshot}").status_code == 200
        download = client.get(f"/api/{name}/v1/batch/{execution}/0/files/copy.zip")
        assert download.status_code == 200, download.text
        assert download.content == content
        assert status(client, name, execution)["batchExecutionResults"][0]["success"] is True
