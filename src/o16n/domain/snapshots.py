"""Snapshots: stored images of sessions, private to their creator."""

from __future__ import annotations

from collections.abc import Iterable
from contextlib import AbstractContextManager

from o16n.domain.blob_references import BlobReferences, Claim
from o16n.domain.models import Environment, Principal, Snapshot
from o16n.domain.ports import BlobStore, MetadataStore
from o16n.errors import NotFound
from o16n.ids import SnapshotId, new_guid, now


class Snapshots:
    """Save, list, read and delete snapshots; a blob goes when nothing refers to it (decided
    in the database: see blob_references)."""

    def __init__(self, store: MetadataStore, blobs: BlobStore) -> None:
        self._store = store
        self._blobs = blobs
        self._references = BlobReferences(store, blobs)

    def referencing(self) -> AbstractContextManager[Claim]:
        """Claim the blobs a use case stores or refers to; commit the referring rows inside."""
        return self._references.referencing()

    def save(
        self,
        owner: Principal,
        name: str | None,
        archive: bytes,
        session_id: str | None,
        environment: Environment | None = None,
    ) -> Snapshot:
        """Store `archive` taken from a session on `environment` (blob first, then the row
        that points to it)."""
        with self.referencing() as claim:
            blob_id = claim.put(archive)
            snapshot = self._saved(
                owner, name, len(archive), blob_id, session_id, environment=environment
            )
        return snapshot

    def _saved(
        self,
        owner: Principal,
        name: str | None,
        size: int,
        blob_id: str,
        session_id: str | None,
        *,
        environment: Environment | None,
    ) -> Snapshot:
        snapshot = Snapshot(
            id=SnapshotId(new_guid()),
            name=name,
            owner_id=owner.user_id,
            owner_name=owner.username,
            created_at=now(),
            content_size=size,
            blob_id=blob_id,
            session_id=session_id,
            environment=environment,
        )
        with self._store.unit_of_work() as uow:
            uow.snapshots.add(snapshot)
        return snapshot

    def owned_by(self, owner: Principal) -> list[Snapshot]:
        """The caller's snapshots, oldest first."""
        with self._store.unit_of_work() as uow:
            return uow.snapshots.owned_by(owner.user_id)

    def get(self, owner: Principal, snapshot_id: str) -> Snapshot:
        """The caller's snapshot; NotFound for unknown ids and for other users' snapshots."""
        with self._store.unit_of_work() as uow:
            snapshot = uow.snapshots.by_id(SnapshotId(snapshot_id))
        if snapshot is None or snapshot.owner_id != owner.user_id:
            raise NotFound(f"no snapshot {snapshot_id!r}", field="snapshotId")
        return snapshot

    def content(self, owner: Principal, snapshot_id: str) -> bytes:
        """The archive of the caller's snapshot."""
        return self._blobs.get(self.get(owner, snapshot_id).blob_id)

    def delete(self, owner: Principal, snapshot_id: str) -> None:
        """Delete the caller's snapshot, and its blob when nothing else refers to it."""
        snapshot = self.get(owner, snapshot_id)
        with self._store.unit_of_work() as uow:
            uow.snapshots.remove(snapshot.id)
        self.release((snapshot.blob_id,))

    def release(self, blob_ids: Iterable[str]) -> None:
        """Delete those of `blob_ids` that no snapshot, service or batch file refers to any more."""
        self._references.release(blob_ids)

    def sweep(self) -> int:
        """Delete the blobs nothing refers to (left by a crash between a commit and a delete,
        or between a put and its commit); how many went."""
        return self._references.sweep()

    def content_of(self, blob_id: str) -> bytes:
        """The stored content of a snapshot or service blob (for the runtime)."""
        return self._blobs.get(blob_id)
