"""Asynchronous batch consumption (reference §14): start, follow, read and cancel executions.

An execution is stored with all its records before it starts, leased to the node that
accepted it (see `batch_leases`); each record's change is committed under that lease (see
`batch_journal`). When the node dies or stalls past the lease, another node (or the same one
restarted) takes the execution over where it was: its done records, whose results were
committed, never run again; records that were running there and had no committed result go
back to pending and run again (a record may thus run twice, never committed twice). A record
whose inputs do not fit the service is stored at once as a failed record; the others run.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import timedelta

from o16n.domain import parameters
from o16n.domain.batch_leases import LeaseTerms, keep_leases
from o16n.domain.batch_runner import BatchRunner, Work
from o16n.domain.models import (
    BatchExecution,
    BatchRecord,
    BatchState,
    ConsumeResult,
    JsonValue,
    Lease,
    Principal,
    RecordResult,
    RecordState,
    ServiceVersion,
)
from o16n.domain.ports import BlobStore, MetadataStore
from o16n.domain.services import Services
from o16n.domain.snapshots import Snapshots
from o16n.errors import InvalidInput, NotFound
from o16n.ids import new_guid, now

DEFAULT_PARALLEL_COUNT = 10


@dataclass(frozen=True)
class BatchPolicy:
    """The largest parallelCount, and how long a finished execution is kept."""

    max_parallel: int
    retention_seconds: float


@dataclass(frozen=True)
class BatchTarget:
    """One execution of one version, as seen by a caller (`see_all`: everybody's, Owners)."""

    user: Principal
    see_all: bool
    name: str
    version: str
    execution_id: str


@dataclass(frozen=True)
class BatchStatus:
    """An execution and its results in input order (None: not done yet)."""

    execution: BatchExecution
    results: list[ConsumeResult | None]


def _records(body: object) -> list[dict[str, JsonValue]]:
    """The posted records: a non-empty JSON array of objects."""
    if not isinstance(body, list) or not body:
        raise InvalidInput("the body must be a non-empty JSON array of input objects", field="body")
    for index, record in enumerate(body):
        if not isinstance(record, dict):
            raise InvalidInput(f"record {index} is not a JSON object", field=f"[{index}]")
    return body


def _checked(
    execution_id: str, service: ServiceVersion, position: int, record: JsonValue
) -> BatchRecord:
    """A pending record, or a failed one (done at once) when its inputs do not fit."""
    try:
        parameters.inputs(service.inputs, record)
    except InvalidInput as error:
        result = RecordResult(
            success=False,
            error_message=error.message,
            console_output="",
            outputs=dict.fromkeys(p.name for p in service.outputs),
            changed_files=[],
            files=dict.fromkeys(service.output_file_names),
        )
        return BatchRecord(execution_id, position, record, RecordState.DONE, result)
    return BatchRecord(execution_id, position, record, RecordState.PENDING, None)


def _work(
    execution: BatchExecution, lease: Lease, service: ServiceVersion, records: list[BatchRecord]
) -> Work:
    return Work(
        execution=execution,
        lease=lease,
        outputs=tuple(p.name for p in service.outputs),
        output_files=service.output_file_names,
        pending=tuple((r.position, r.inputs) for r in records if r.state is not RecordState.DONE),
    )


def _seen(execution: BatchExecution | None, target: BatchTarget) -> BatchExecution:
    """The target's execution when it exists, belongs to the version and may be seen."""
    if (
        execution is None
        or (execution.service_name, execution.service_version) != (target.name, target.version)
        or not (target.see_all or execution.owner_id == target.user.user_id)
    ):
        raise NotFound(f"no batch execution {target.execution_id!r}", field="executionId")
    return execution


class Batches:
    """Use cases of batch executions; a user sees their own, `see_all` (Owners) everybody's."""

    def __init__(
        self,
        store: MetadataStore,
        services: Services,
        blobs: BlobStore,
        snapshots: Snapshots,
        *,
        runner: BatchRunner,
        policy: BatchPolicy,
        leases: LeaseTerms,
    ) -> None:
        self._store = store
        self._services = services
        self._blobs = blobs
        self._snapshots = snapshots
        self._runner = runner
        self._policy = policy
        self._leases = leases

    def _parallel(self, parallel_count: int | None) -> int:
        if parallel_count is None:
            return min(DEFAULT_PARALLEL_COUNT, self._policy.max_parallel)
        if parallel_count < 1:
            raise InvalidInput("parallelCount must be at least 1", field="parallelCount")
        return min(parallel_count, self._policy.max_parallel)

    async def start(
        self, user: Principal, name: str, version: str, body: object, parallel_count: int | None
    ) -> BatchExecution:
        """Store an execution of one consume per record, lease it and start it here; 404 for
        no service."""
        count = self._parallel(parallel_count)
        records = _records(body)
        execution, work = await asyncio.to_thread(self._create, user, name, version, records, count)
        if work is not None:  # else every record was refused and the execution is complete
            self._runner.launch(work)
        return execution

    def _create(
        self,
        user: Principal,
        name: str,
        version: str,
        records: list[dict[str, JsonValue]],
        count: int,
    ) -> tuple[BatchExecution, Work | None]:
        service = self._services.get(name, version)
        execution_id = new_guid()
        checked = [
            _checked(execution_id, service, position, record)
            for position, record in enumerate(records)
        ]
        finished = all(r.state is RecordState.DONE for r in checked)
        moment = now()
        execution = BatchExecution(
            id=execution_id,
            service_name=name,
            service_version=version,
            owner_id=user.user_id,
            parallel_count=count,
            state=BatchState.COMPLETE if finished else BatchState.PENDING,
            total_count=len(checked),
            done_count=sum(r.state is RecordState.DONE for r in checked),
            created_at=moment,
            finished_at=moment if finished else None,
        )
        with self._store.unit_of_work() as uow:
            uow.batches.add(execution, checked)
            if finished:
                return execution, None
            (lease,) = uow.batches.claim(
                self._leases.node, moment, self._leases.until(moment), execution.id
            )
        return execution, _work(execution, lease, service, checked)

    def ids(self, user: Principal, see_all: bool, name: str, version: str) -> list[str]:
        """The version's execution ids: the caller's, or everybody's with `see_all`."""
        self._services.get(name, version)
        with self._store.unit_of_work() as uow:
            return uow.batches.ids(name, version, None if see_all else user.user_id)

    def _visible(self, target: BatchTarget) -> BatchExecution:
        with self._store.unit_of_work() as uow:
            return _seen(uow.batches.get(target.execution_id), target)

    def status(self, target: BatchTarget, *, partial: bool) -> BatchStatus:
        """Progress and results; unfinished records are None, or no results at all when
        `partial` is off and the execution has not finished."""
        with self._store.unit_of_work() as uow:  # counts and results of one moment
            execution = _seen(uow.batches.get(target.execution_id), target)
            shown = partial or execution.state.finished
            records = uow.batches.records(execution.id) if shown else []
        return BatchStatus(execution, [self._outcome(r.result) for r in records])

    def _outcome(self, result: RecordResult | None) -> ConsumeResult | None:
        if result is None:
            return None
        return ConsumeResult(
            success=result.success,
            error_message=result.error_message,
            console_output=result.console_output,
            outputs=result.outputs,
            output_files={
                name: self._blobs.get(blob) if blob is not None else None
                for name, blob in result.files.items()
            },
            changed_files=result.changed_files,
        )

    def _done_record(self, target: BatchTarget, index: int) -> RecordResult | None:
        execution = self._visible(target)
        with self._store.unit_of_work() as uow:
            record = uow.batches.record(execution.id, index)
        if record is None:
            raise NotFound(f"execution {execution.id!r} has no record {index}", field="index")
        return record.result

    def file_names(self, target: BatchTarget, index: int) -> list[str]:
        """Names of the files record `index` produced (none while it has not run)."""
        result = self._done_record(target, index)
        if result is None:
            return []
        return [file for file, blob in result.files.items() if blob is not None]

    def file(self, target: BatchTarget, index: int, file_name: str) -> bytes:
        """The content of one file record `index` produced."""
        result = self._done_record(target, index)
        blob = result.files.get(file_name) if result is not None else None
        if blob is None:
            raise NotFound(f"record {index} has no file {file_name!r}", field="fileName")
        return self._blobs.get(blob)

    async def cancel(self, target: BatchTarget) -> None:
        """Stop an execution (records not started never run) and delete it with its files."""
        execution = await asyncio.to_thread(self._visible, target)
        await self._runner.stop(execution.id)
        await asyncio.to_thread(self._delete, execution.id)

    def _delete(self, execution_id: str) -> None:
        with self._store.unit_of_work() as uow:
            blob_ids = uow.batches.remove(execution_id)
        self._snapshots.release(tuple(blob_ids))

    async def forget_version(self, name: str, version: str) -> None:
        """A deleted version's executions are cancelled and deleted."""
        for execution_id in await asyncio.to_thread(self._all_ids, name, version):
            await self._runner.stop(execution_id)
            await asyncio.to_thread(self._delete, execution_id)

    async def close(self) -> None:
        """Stop running executions, keeping what is done, and give up their leases (another
        node, or this one restarted, takes them over at once)."""
        await self._runner.close()
        await asyncio.to_thread(self._release)

    def _release(self) -> None:
        with self._store.unit_of_work() as uow:
            uow.batches.release(self._leases.node)

    def _all_ids(self, name: str, version: str) -> list[str]:
        with self._store.unit_of_work() as uow:
            return uow.batches.ids(name, version, None)

    async def keep_leases(self) -> None:
        """Forever: renew this node's leases and take over expired ones (see batch_leases)."""
        await keep_leases(self._leases, self.renew, self.take_over)

    async def renew(self) -> int:
        """Renew the leases of the executions running here and stop those whose lease is
        lost (cancelled or deleted from any node, or taken over by another node while this one
        stalled); how many stopped."""
        running = self._runner.running()
        if not running:
            return 0
        held = await asyncio.to_thread(self._renew, [lease.execution_id for lease in running])
        lost = [lease for lease in running if lease not in held]
        for lease in lost:
            await self._runner.stop(lease.execution_id)
        return len(lost)

    def _renew(self, execution_ids: list[str]) -> set[Lease]:
        with self._store.unit_of_work() as uow:
            return uow.batches.renew(self._leases.node, execution_ids, self._leases.until(now()))

    async def take_over(self) -> int:
        """Claim and start the unfinished executions whose lease expired or was given up (at
        the start of a node, and whenever another node died); how many."""
        works = await asyncio.to_thread(self._claim)
        for work in works:
            await self._runner.stop(work.execution.id)  # this node's own run that stalled
            self._runner.launch(work)
        return len(works)

    def _claim(self) -> list[Work]:
        works: list[Work] = []
        moment = now()
        with self._store.unit_of_work() as uow:
            for lease in uow.batches.claim(self._leases.node, moment, self._leases.until(moment)):
                execution = uow.batches.get(lease.execution_id)
                assert execution is not None  # locked by the claim
                name, version = execution.service_name, execution.service_version
                service = uow.services.get(name, version)
                if service is None:
                    uow.batches.set_state(execution.id, BatchState.FAILED, now())
                    continue
                works.append(_work(execution, lease, service, uow.batches.records(execution.id)))
        return works

    def _expired(self) -> list[str]:
        cutoff = now() - timedelta(seconds=self._policy.retention_seconds)
        with self._store.unit_of_work() as uow:
            return uow.batches.finished_before(cutoff)

    async def sweep(self) -> int:
        """Delete the executions that finished longer ago than the retention; how many."""
        expired = await asyncio.to_thread(self._expired)
        for execution_id in expired:
            await asyncio.to_thread(self._delete, execution_id)
        return len(expired)
