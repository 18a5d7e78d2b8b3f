"""Batch executions repository: executions, records and the records' output files."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, Row, delete, func, insert, or_, select, update

from o16n.domain.models import (
    BatchExecution,
    BatchRecord,
    BatchState,
    JsonValue,
    Lease,
    RecordResult,
    RecordState,
)
from o16n.ids import UserId
from o16n.store.tables import batch_executions, batch_record_files, batch_records

_UNFINISHED = (BatchState.PENDING.value, BatchState.IN_PROGRESS.value)
_DONE_COUNT = (
    select(func.count())
    .where(
        batch_records.c.execution_id == batch_executions.c.id,
        batch_records.c.state == RecordState.DONE.value,
    )
    .scalar_subquery()
)
_WITH_COUNT = select(batch_executions, _DONE_COUNT.label("done_count"))


def _execution(row: Row[tuple[object, ...]]) -> BatchExecution:
    mapping = row._mapping
    return BatchExecution(
        id=mapping["id"],
        service_name=mapping["service_name"],
        service_version=mapping["service_version"],
        owner_id=UserId(mapping["owner_id"]),
        parallel_count=mapping["parallel_count"],
        state=BatchState(mapping["state"]),
        total_count=mapping["total_count"],
        done_count=mapping["done_count"],
        created_at=mapping["created_at"],
        finished_at=mapping["finished_at"],
    )


def _stored(result: RecordResult) -> dict[str, JsonValue]:
    """A result as stored in the record row (file contents live in batch_record_files)."""
    return {
        "success": result.success,
        "errorMessage": result.error_message,
        "consoleOutput": result.console_output,
        "outputParameters": result.outputs,
        "changedFiles": list(result.changed_files),
        "outputFileNames": list(result.files),
    }


def _result(stored: dict[str, object], blobs: dict[str, str]) -> RecordResult:
    outputs = stored["outputParameters"]
    changed = stored["changedFiles"]
    names = stored["outputFileNames"]
    assert isinstance(outputs, dict) and isinstance(changed, list) and isinstance(names, list)
    return RecordResult(
        success=bool(stored["success"]),
        error_message=str(stored["errorMessage"]),
        console_output=str(stored["consoleOutput"]),
        outputs=outputs,
        changed_files=[str(name) for name in changed],
        files={str(name): blobs.get(str(name)) for name in names},
    )


class SqlBatches:
    """The BatchRepository port on one connection."""

    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def add(self, execution: BatchExecution, records: list[BatchRecord]) -> None:
        """Insert an execution with every one of its records."""
        self._connection.execute(
            insert(batch_executions).values(
                id=execution.id,
                service_name=execution.service_name,
                service_version=execution.service_version,
                owner_id=execution.owner_id,
                parallel_count=execution.parallel_count,
                state=execution.state.value,
                total_count=execution.total_count,
                created_at=execution.created_at,
                finished_at=execution.finished_at,
            )
        )
        rows = [
            {
                "execution_id": execution.id,
                "position": record.position,
                "inputs": record.inputs,
                "state": record.state.value,
                "result": _stored(record.result) if record.result is not None else None,
            }
            for record in records
        ]
        if rows:
            self._connection.execute(insert(batch_records), rows)

    def get(self, execution_id: str) -> BatchExecution | None:
        """One execution (with its count of done records), or None."""
        statement = _WITH_COUNT.where(batch_executions.c.id == execution_id)
        row = self._connection.execute(statement).first()
        return _execution(row) if row else None

    def ids(self, name: str, version: str, owner_id: UserId | None) -> list[str]:
        """Ids of the version's executions (of one owner, or everybody's), oldest first."""
        statement = select(batch_executions.c.id).where(
            batch_executions.c.service_name == name,
            batch_executions.c.service_version == version,
        )
        if owner_id is not None:
            statement = statement.where(batch_executions.c.owner_id == owner_id)
        statement = statement.order_by(batch_executions.c.created_at, batch_executions.c.id)
        return [str(value) for value in self._connection.execute(statement).scalars()]

    def finished_before(self, moment: datetime) -> list[str]:
        """Ids of the executions that finished before `moment`."""
        statement = select(batch_executions.c.id).where(batch_executions.c.finished_at < moment)
        return [str(value) for value in self._connection.execute(statement).scalars()]

    def _files(self, execution_id: str, position: int | None) -> dict[int, dict[str, str]]:
        statement = select(batch_record_files).where(
            batch_record_files.c.execution_id == execution_id
        )
        if position is not None:
            statement = statement.where(batch_record_files.c.position == position)
        found: dict[int, dict[str, str]] = {}
        for row in self._connection.execute(statement):
            found.setdefault(row.position, {})[row.file_name] = row.blob_id
        return found

    def _record(self, row: Row[tuple[object, ...]], files: dict[str, str]) -> BatchRecord:
        mapping = row._mapping
        stored = mapping["result"]
        return BatchRecord(
            execution_id=mapping["execution_id"],
            position=mapping["position"],
            inputs=mapping["inputs"],
            state=RecordState(mapping["state"]),
            result=_result(stored, files) if stored is not None else None,
        )

    def records(self, execution_id: str) -> list[BatchRecord]:
        """Every record of an execution, by position."""
        files = self._files(execution_id, None)
        statement = (
            select(batch_records)
            .where(batch_records.c.execution_id == execution_id)
            .order_by(batch_records.c.position)
        )
        rows = self._connection.execute(statement)
        return [self._record(row, files.get(row.position, {})) for row in rows]

    def record(self, execution_id: str, position: int) -> BatchRecord | None:
        """One record, or None."""
        statement = select(batch_records).where(
            batch_records.c.execution_id == execution_id, batch_records.c.position == position
        )
        row = self._connection.execute(statement).first()
        if row is None:
            return None
        return self._record(row, self._files(execution_id, position).get(position, {}))

    def set_state(self, execution_id: str, state: BatchState, finished_at: datetime | None) -> None:
        """Change an execution's state (no-op when it is gone)."""
        self._connection.execute(
            update(batch_executions)
            .where(batch_executions.c.id == execution_id)
            .values(state=state.value, finished_at=finished_at)
        )

    def mark_running(self, execution_id: str, positions: list[int]) -> None:
        """Pending records start running (no-op for records that are gone)."""
        self._connection.execute(
            update(batch_records)
            .where(
                batch_records.c.execution_id == execution_id,
                batch_records.c.position.in_(positions),
                batch_records.c.state == RecordState.PENDING.value,
            )
            .values(state=RecordState.RUNNING.value)
        )

    def finish(self, execution_id: str, position: int, result: RecordResult) -> bool:
        """Commit a record's result and its files; False when the record is gone."""
        changed = self._connection.execute(
            update(batch_records)
            .where(
                batch_records.c.execution_id == execution_id,
                batch_records.c.position == position,
            )
            .values(state=RecordState.DONE.value, result=_stored(result))
        )
        if changed.rowcount != 1:
            return False
        rows = [
            {"execution_id": execution_id, "position": position, "file_name": n, "blob_id": b}
            for n, b in result.files.items()
            if b is not None
        ]
        if rows:
            self._connection.execute(insert(batch_record_files), rows)
        return True

    def claim(
        self, holder: str, moment: datetime, until: datetime, execution_id: str | None = None
    ) -> list[Lease]:
        """Lease to `holder` until `until` the unfinished executions (or the one) whose lease
        is absent or expired at `moment`, skipping those another transaction holds; their
        running records go back to pending (whoever ran them is gone).

        The rows are locked by `FOR UPDATE SKIP LOCKED` on PostgreSQL; SQLite's transactions
        take the write lock when they begin (engine.py), so nobody else claims in between.
        """
        claimable = select(batch_executions.c.id).where(
            batch_executions.c.state.in_(_UNFINISHED),
            or_(
                batch_executions.c.lease_expires.is_(None),
                batch_executions.c.lease_expires < moment,
            ),
        )
        if execution_id is not None:
            claimable = claimable.where(batch_executions.c.id == execution_id)
        statement = claimable.order_by(batch_executions.c.created_at).with_for_update(
            skip_locked=True
        )
        ids = [str(value) for value in self._connection.execute(statement).scalars()]
        if not ids:
            return []
        self._connection.execute(
            update(batch_executions)
            .where(batch_executions.c.id.in_(ids))
            .values(
                lease_holder=holder,
                lease_expires=until,
                lease_generation=batch_executions.c.lease_generation + 1,
            )
        )
        self._connection.execute(
            update(batch_records)
            .where(
                batch_records.c.execution_id.in_(ids),
                batch_records.c.state == RecordState.RUNNING.value,
            )
            .values(state=RecordState.PENDING.value)
        )
        return self._leases(holder, ids)

    def _leases(self, holder: str, execution_ids: list[str]) -> list[Lease]:
        statement = select(batch_executions.c.id, batch_executions.c.lease_generation).where(
            batch_executions.c.id.in_(execution_ids), batch_executions.c.lease_holder == holder
        )
        return [Lease(row.id, row.lease_generation) for row in self._connection.execute(statement)]

    def hold(self, lease: Lease, holder: str) -> bool:
        """Whether `holder` still holds `lease`; the execution is locked until the commit
        (take several in the order of their ids, as `renew` does, lest two deadlock)."""
        changed = self._connection.execute(
            update(batch_executions)
            .where(
                batch_executions.c.id == lease.execution_id,
                batch_executions.c.lease_holder == holder,
                batch_executions.c.lease_generation == lease.generation,
            )
            .values(lease_holder=holder)
        )
        return bool(changed.rowcount == 1)

    def renew(self, holder: str, execution_ids: list[str], until: datetime) -> set[Lease]:
        """Extend `holder`'s leases of those executions to `until`; the leases it still holds."""
        mine = select(batch_executions.c.id).where(
            batch_executions.c.id.in_(execution_ids), batch_executions.c.lease_holder == holder
        )
        locked = mine.order_by(batch_executions.c.id).with_for_update()  # in the journal's order
        ids = [str(value) for value in self._connection.execute(locked).scalars()]
        if not ids:
            return set()
        self._connection.execute(
            update(batch_executions)
            .where(batch_executions.c.id.in_(ids))
            .values(lease_expires=until)
        )
        return set(self._leases(holder, ids))

    def release(self, holder: str) -> None:
        """Give up every lease of `holder` (another node may claim them at once)."""
        self._connection.execute(
            update(batch_executions)
            .where(batch_executions.c.lease_holder == holder)
            .values(lease_holder=None, lease_expires=None)
        )

    def remove(self, execution_id: str) -> list[str]:
        """Delete an execution, its records and files; the blob ids its files referred to.

        The execution's row is locked first, so a node committing results to it (which locks
        it too, see `hold`) has either finished, and its files are counted, or waits and then
        finds it gone."""
        lock = select(batch_executions.c.id).where(batch_executions.c.id == execution_id)
        self._connection.execute(lock.with_for_update())
        blobs = self._connection.execute(
            select(batch_record_files.c.blob_id)
            .where(batch_record_files.c.execution_id == execution_id)
            .distinct()
        )
        blob_ids = [str(value) for value in blobs.scalars()]
        for table in (batch_record_files, batch_records):
            self._connection.execute(delete(table).where(table.c.execution_id == execution_id))
        self._connection.execute(
            delete(batch_executions).where(batch_executions.c.id == execution_id)
        )
        return blob_ids
