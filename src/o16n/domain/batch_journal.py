"""The batch journal: record state changes committed in groups, in the order they happened.

Runners add entries without waiting; one writer at a time commits everything added since its
last pass in one transaction (output files are stored as blobs first), so the database sees
each change of every record while a busy batch costs one commit per group, not per record.

Every entry names the lease it was made under: the transaction first checks (and locks) each
lease of its group, and drops the entries of leases this node no longer holds (the execution
was cancelled, or another node took it over after this one stalled past the lease's expiry),
so a node that lost an execution commits nothing more to it.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime

from o16n.domain.blob_references import Claim
from o16n.domain.models import BatchState, ConsumeResult, Lease, RecordResult
from o16n.domain.ports import MetadataStore
from o16n.domain.snapshots import Snapshots

_RETRY_SECONDS = 1.0
_log = logging.getLogger("o16n.batch")


@dataclass(frozen=True)
class Started:
    """A pending record was handed to the service."""

    lease: Lease
    position: int


@dataclass(frozen=True)
class Finished:
    """A record has its result (output files still as bytes)."""

    lease: Lease
    position: int
    outcome: ConsumeResult


@dataclass(frozen=True)
class Settled:
    """An execution changed state."""

    lease: Lease
    state: BatchState
    finished_at: datetime | None


Entry = Started | Finished | Settled


class Journal:
    """Commits the entries of `holder`'s leases in order, a group per transaction; the blobs
    of results that no record took are released."""

    def __init__(self, store: MetadataStore, snapshots: Snapshots, holder: str) -> None:
        self._store = store
        self._holder = holder
        self._snapshots = snapshots
        self._entries: list[Entry] = []
        self._writer: asyncio.Task[None] | None = None

    def add(self, entry: Entry) -> None:
        """Queue one change; a writer commits it soon."""
        self._entries.append(entry)
        if self._writer is None or self._writer.done():
            self._writer = asyncio.get_running_loop().create_task(self._write_all())

    async def flushed(self) -> None:
        """Wait until every entry added so far is committed."""
        while self._writer is not None and not self._writer.done():
            await asyncio.shield(self._writer)

    async def _write_all(self) -> None:
        while self._entries:
            group, self._entries = self._entries, []
            try:
                await asyncio.to_thread(self._write, group)
            except Exception:  # the database may come back: keep the changes and retry
                _log.exception("cannot commit %d batch changes; retrying", len(group))
                self._entries = group + self._entries
                await asyncio.sleep(_RETRY_SECONDS)

    def _write(self, group: list[Entry]) -> None:
        """Blobs first, then one transaction; blobs of records that vanished are released."""
        with self._snapshots.referencing() as claim:
            orphans = self._commit(group, claim)
        if orphans:
            self._snapshots.release(tuple(orphans))

    def _commit(self, group: list[Entry], claim: Claim) -> list[str]:
        """Store the group's blobs and commit the entries of the leases still held; the blobs
        no record took."""
        results = {id(e): _stored(e.outcome, claim) for e in group if isinstance(e, Finished)}
        orphans: list[str] = []
        with self._store.unit_of_work() as uow:
            leases = sorted({e.lease for e in group}, key=lambda lease: lease.execution_id)
            held = {lease for lease in leases if uow.batches.hold(lease, self._holder)}
            started: dict[str, list[int]] = {}
            for entry in group:
                if isinstance(entry, Started) and entry.lease in held:
                    started.setdefault(entry.lease.execution_id, []).append(entry.position)
            for execution_id, positions in started.items():  # a start precedes its finish
                uow.batches.mark_running(execution_id, positions)
            for entry in group:
                if isinstance(entry, Finished):
                    result = results[id(entry)]
                    taken = entry.lease in held and uow.batches.finish(
                        entry.lease.execution_id, entry.position, result
                    )
                    if not taken:
                        orphans.extend(b for b in result.files.values() if b is not None)
                elif isinstance(entry, Settled) and entry.lease in held:
                    uow.batches.set_state(entry.lease.execution_id, entry.state, entry.finished_at)
        return orphans


def _stored(outcome: ConsumeResult, claim: Claim) -> RecordResult:
    files = {
        name: claim.put(data) if data is not None else None
        for name, data in outcome.output_files.items()
    }
    return RecordResult(
        success=outcome.success,
        error_message=outcome.error_message,
        console_output=outcome.console_output,
        outputs=outcome.outputs,
        changed_files=outcome.changed_files,
        files=files,
    )
