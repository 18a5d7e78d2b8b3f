"""Batch executions through o16n.client: start, wait, results, frame, files, cancel."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from o16n.client import Batch, Client
from o16n.errors import InvalidInput, NotFound
from tests.batch.batching import IRIS_CODE, IRIS_INIT, iris_expected, iris_rows

REPORT = "with open('report.txt', 'w') as out:\n    out.write(f'row {x}')\ny = x * 2\n"


def test_a_batch_runs_waits_and_gives_results_and_a_frame(
    client: Client, new_name: Callable[[str], str], capsys: pytest.CaptureFixture[str]
) -> None:
    name = new_name("ClientBatch")
    client.publish(
        name,
        "v1",
        code=IRIS_CODE,
        init=IRIS_INIT,
        inputs={"flower_data": "vector"},
        outputs={"result": "character"},
    )
    rows = iris_rows(30)
    batch = client.service(name, "v1").batch([{"flower_data": r} for r in rows], parallel_count=4)
    assert isinstance(batch, Batch) and batch.id
    status = batch.wait(progress=True, timeout=120)
    assert "batch" in capsys.readouterr().err
    assert (status.state, status.completed, status.total, status.finished) == (
        "Complete",
        30,
        30,
        True,
    )
    results = batch.results()
    assert all(result is not None and result.success for result in results)
    expected = iris_expected(rows)
    assert [result.outputs["result"] for result in results if result is not None] == expected
    frame = batch.frame()
    assert list(frame.columns) == ["result"] and list(frame["result"]) == expected
    assert batch.id in [listed.id for listed in client.service(name, "v1").batches()]
    again = client.service(name, "v1").batch_execution(batch.id)
    assert again.status(partial=False).completed == 30


def test_files_download_and_cancel(
    client: Client, new_name: Callable[[str], str], tmp_path: Path
) -> None:
    name = new_name("ClientBatchFiles")
    client.publish(
        name,
        "v1",
        code=REPORT,
        inputs={"x": "integer"},
        outputs={"y": "integer"},
        artifacts=["report.txt"],
    )
    service = client.service(name, "v1")
    batch = service.batch([{"x": 1}, {"x": 2}])
    assert batch.wait(timeout=60).state == "Complete"
    assert batch.files(1) == ["report.txt"]
    target = tmp_path / "report.txt"
    assert batch.download(1, "report.txt", to=target) == b"row 2"
    assert target.read_bytes() == b"row 2"
    with pytest.raises(NotFound):
        batch.download(1, "other.txt")
    batch.cancel()
    with pytest.raises(NotFound):
        batch.status()
    assert service.batches() == []
    with pytest.raises(InvalidInput) as refused:
        service.batch([])
    assert refused.value.field == "body"
