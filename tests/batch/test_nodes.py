"""Many web nodes on one PostgreSQL share batch executions by leases: a node that dies or
stalls loses its executions to another, which finishes them without running again the
records whose results were committed; a cancel sent to any node stops the execution."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from fsspec.implementations.local import LocalFileSystem

from o16n.blobs.objects import FsspecBlobs
from o16n.domain.batch_journal import Entry, Finished, Journal, Settled
from o16n.domain.models import (
    BatchExecution,
    BatchRecord,
    BatchState,
    ConsumeResult,
    Lease,
    RecordState,
    Role,
    User,
)
from o16n.domain.snapshots import Snapshots
from o16n.ids import UserId, new_guid, now
from o16n.store import schema
from o16n.store.engine import SqlStore, open_engine
from tests.batch.batching import publish_counting, runs, start, status, wait
from tests.harness import Server, assert_error
from tests.postgres import Postgres

LEASE_SECONDS = 2.0  # renewed every 0.4 s; a dead node's executions are taken within ~3 s
TOOK_OVER = "batch executions taken over: 1"


def _two_nodes(
    postgres: Postgres, start_server: Callable[..., Server], database: str
) -> tuple[Server, Server]:
    url = postgres.database(database)
    lease = str(LEASE_SECONDS)
    return (
        start_server(O16N_DATABASE_URL=url, O16N_BATCH_LEASE_SECONDS=lease),
        start_server(O16N_DATABASE_URL=url, O16N_BATCH_LEASE_SECONDS=lease),
    )


def test_a_killed_nodes_batch_is_finished_by_another_without_rerunning_committed_records(
    postgres: Postgres, start_server: Callable[..., Server], open_tmp_path: Path
) -> None:
    first, second = _two_nodes(postgres, start_server, "takeover")
    counter = open_tmp_path / "runs"  # both nodes' workers append to it
    total, parallel = 1000, 20
    with first.client(first.token()) as client:
        publish_counting(client, "Nodes", counter, seconds=0.01)
        execution = start(client, "Nodes", [{"index": i} for i in range(total)], parallel)
        begun = time.monotonic()
        wait(client, "Nodes", execution, done=300)
        time.sleep(max(0.0, begun + 2 * LEASE_SECONDS - time.monotonic()))  # renewed meanwhile
    first.kill()  # SIGKILL: its lease is never renewed nor given up
    killed = time.monotonic()
    assert TOOK_OVER not in first.log() + second.log()  # neither lost it while both lived
    with second.client(second.token()) as client:
        before = status(client, "Nodes", execution)  # the second node has not started yet
        after = wait(client, "Nodes", execution, timeout=60)
    assert time.monotonic() - killed < 30
    kept = before["batchExecutionResults"]
    assert isinstance(kept, list)
    committed = {i for i, result in enumerate(kept) if result is not None}
    assert 300 <= len(committed) < total
    assert TOOK_OVER in second.log()
    assert after["state"] == "Complete"
    assert after["completedItemCount"] == after["totalItemCount"] == total
    results = after["batchExecutionResults"]
    assert isinstance(results, list)
    assert [r["outputParameters"]["doubled"] for r in results] == [2 * i for i in range(total)]
    counts = Counter(runs(counter))
    assert set(counts) == set(range(total))
    assert [i for i in committed if counts[i] != 1] == []
    rerun = sum(count - 1 for count in counts.values())  # records in flight at the kill
    assert rerun <= parallel, counts.most_common(parallel + 1)


def test_a_cancel_sent_to_another_node_stops_the_execution_where_it_runs(
    postgres: Postgres, start_server: Callable[..., Server], open_tmp_path: Path
) -> None:
    first, second = _two_nodes(postgres, start_server, "cancel")
    counter = open_tmp_path / "runs"
    total = 100
    with first.client(first.token()) as running, second.client(second.token()) as other:
        publish_counting(running, "Elsewhere", counter, seconds=0.1)
        execution = start(running, "Elsewhere", [{"index": i} for i in range(total)], 2)
        wait(running, "Elsewhere", execution, done=2)
        response = other.delete(f"/api/Elsewhere/v1/batch/{execution}")
        assert response.status_code == 200, response.text
        assert response.json() == [execution]
        time.sleep(LEASE_SECONDS / 5 + 1.0)  # its next renewal stops it; two records in flight
        settled = len(runs(counter))
        time.sleep(1.0)
        assert len(runs(counter)) == settled < total / 2
        assert_error(running.get(f"/api/Elsewhere/v1/batch/{execution}"), 404)


def _outcome(doubled: int) -> ConsumeResult:
    return ConsumeResult(
        success=True,
        error_message="",
        console_output="",
        outputs={"doubled": doubled},
        output_files={},
        changed_files=[],
    )


async def _committed(journal: Journal, *entries: Entry) -> None:
    for entry in entries:
        journal.add(entry)
    await journal.flushed()


def test_a_node_that_lost_its_lease_commits_nothing_more(
    postgres: Postgres, open_tmp_path: Path
) -> None:
    store = SqlStore(open_engine(postgres.database("fenced")))
    schema.upgrade(store.engine)
    snapshots = Snapshots(store, FsspecBlobs(LocalFileSystem(), str(open_tmp_path / "blobs")))
    owner = User(UserId(new_guid()), "owner", Role.OWNER, now())
    execution = BatchExecution(
        new_guid(), "Fenced", "v1", owner.id, 2, BatchState.IN_PROGRESS, 2, 0, now(), None
    )
    records = [
        BatchRecord(execution.id, p, {"index": p}, RecordState.PENDING, None) for p in (0, 1)
    ]
    with store.unit_of_work() as uow:
        uow.users.add(owner, "unused")
        uow.batches.add(execution, records)
        (stalled,) = uow.batches.claim("node-a", now(), now())  # node A stalls past its lease
    with store.unit_of_work() as uow:
        (taken,) = uow.batches.claim("node-b", now(), now() + timedelta(minutes=1))
        assert uow.batches.claim("node-c", now(), now() + timedelta(minutes=1)) == []
    assert taken == Lease(execution.id, stalled.generation + 1)

    asyncio.run(
        _committed(
            Journal(store, snapshots, "node-a"),
            Finished(stalled, 0, _outcome(-1)),
            Settled(stalled, BatchState.COMPLETE, now()),
        )
    )
    asyncio.run(_committed(Journal(store, snapshots, "node-b"), Finished(taken, 1, _outcome(2))))
    with store.unit_of_work() as uow:
        kept = uow.batches.records(execution.id)
        state = uow.batches.get(execution.id)
    assert [r.state for r in kept] == [RecordState.PENDING, RecordState.DONE]
    assert kept[1].result is not None and kept[1].result.outputs == {"doubled": 2}
    assert state is not None and state.state is BatchState.IN_PROGRESS
    store.close()
