"""Snapshots: stored images of sessions, private to their creator."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from o16n.domain.models import Environment, Principal, Snapshot
from o16n.domain.ports import BlobStore, MetadataStore
from o16n.errors import NotFound
from o16n.ids import SnapshotId, new_guid, now


class Snapshots:
    """Save, list, read and delete snapshots; a blob goes when nothing refers to it.

    Blobs are shared by content, so "is it still referred to?" followed by a delete must not
    interleave with "store or refer to it" followed by the commit of the referring row:
    both run under `referencing()` (one web process per data directory).
    """

    def __init__(self, store: MetadataStore, blobs: BlobStore) -> None:
        self._store = store
        self._blobs = blobs
        self._references = threading.RLock()

    @contextmanager
    def referencing(self) -> Iterator[None]:
        """Hold while storing or referring to a blob until the referring row is committed."""
        with self._references:
            yield

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
        with self.referencing():
            blob_id = self._blobs.put(archive)
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

    def release(self, blob_ids: tuple[str, ...]) -> None:
        """Delete those of `blob_ids` that no snapshot, service or batch file refers to any more."""
        self._delete_unreferenced(blob_ids)

    def sweep(self) -> int:
        """Delete the blobs nothing refers to (left by a crash between a commit and a delete,
        or between a put and its commit); how many went."""
        return self._delete_unreferenced(self._blobs.ids())

    def _delete_unreferenced(self, blob_ids: Iterable[str]) -> int:
        """Delete those of `blob_ids` nothing refers to (checked in one transaction); how many."""
        with self.referencing():
            with self._store.unit_of_work() as uow:
                orphans = [
                    blob_id for blob_id in blob_ids if not uow.snapshots.blob_in_use(blob_id)
                ]
            for blob_id in orphans:
                self._blobs.delete(blob_id)
        return len(orphans)

    def keep(self, content: bytes) -> str:
        """Store `content` for a service (its model) before the row that refers to it."""
        return self._blobs.put(content)

    def content_of(self, blob_id: str) -> bytes:
        """The stored content of a snapshot or service blob (for the runtime)."""
        return self._blobs.get(blob_id)
