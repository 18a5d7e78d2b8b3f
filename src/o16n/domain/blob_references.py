"""Which blobs may be deleted, decided in the database so that every node agrees.

Blobs are shared by content. Before a node stores a blob or commits a row that refers to one,
it claims the blob's row; deletion removes a row only while it has no live claim and nothing
refers to it, and removes the object before that deletion commits (a claim waits for it).
So no node deletes a blob another node is about to refer to.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import timedelta

from o16n.domain.ports import BlobStore, MetadataStore
from o16n.errors import NotFound
from o16n.ids import now

CLAIM = timedelta(hours=1)  # far longer than a store and commit; ends the claims of dead nodes


class Claim:
    """The blobs one use case stores or refers to, until its referring rows are committed."""

    def __init__(self, store: MetadataStore, blobs: BlobStore) -> None:
        self._store = store
        self._blobs = blobs
        self.blob_ids: list[str] = []

    def put(self, content: bytes) -> str:
        """Claim the blob of `content`, then store it; its id (the sha256 hex digest)."""
        blob_id = hashlib.sha256(content).hexdigest()
        moment = now()
        with self._store.unit_of_work() as uow:
            uow.blobs.claim(blob_id, moment, moment + CLAIM)
        self.blob_ids.append(blob_id)
        self._blobs.put(blob_id, content)
        return blob_id

    def hold(self, blob_id: str) -> None:
        """Claim a stored blob (a snapshot's, to publish it); NotFound when it just went."""
        moment = now()
        with self._store.unit_of_work() as uow:
            held = uow.blobs.hold(blob_id, moment, moment + CLAIM)
        if not held:
            raise NotFound(f"the content {blob_id} was deleted meanwhile")
        self.blob_ids.append(blob_id)


class BlobReferences:
    """Claims, release and sweep of the blobs in `blobs`, with their rows in `store`."""

    def __init__(self, store: MetadataStore, blobs: BlobStore) -> None:
        self._store = store
        self._blobs = blobs

    @contextmanager
    def referencing(self) -> Iterator[Claim]:
        """A claim for the blobs a use case stores or refers to; commit the referring rows
        inside. On an exception, the claimed blobs that no row took are released."""
        claim = Claim(self._store, self._blobs)
        failed = True
        try:
            yield claim
            failed = False
        finally:
            with self._store.unit_of_work() as uow:
                uow.blobs.unclaim(claim.blob_ids)
            if failed:
                self.release(claim.blob_ids)

    def release(self, blob_ids: Iterable[str]) -> int:
        """Delete those of `blob_ids` that nothing refers to or claims; how many went."""
        deleted = 0
        for blob_id in dict.fromkeys(blob_ids):
            with self._store.unit_of_work() as uow:
                if uow.blobs.delete_unreferenced(blob_id, now()):
                    self._blobs.delete(blob_id)  # before the commit: a new claim waits for it
                    deleted += 1
        return deleted

    def sweep(self) -> int:
        """Delete every blob that may go: those whose claim expired (a node died between its
        claim and its commit) and stored ones without a row; how many went."""
        stored = self._blobs.ids()
        with self._store.unit_of_work() as uow:
            uow.blobs.adopt(stored)
            unreferenced = uow.blobs.unreferenced(now())
        return self.release(unreferenced)
