"""What may be deleted is decided in the database: claimed or referred-to blobs stay."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from fsspec.implementations.local import LocalFileSystem

from o16n.blobs.objects import FsspecBlobs
from o16n.domain.blob_references import CLAIM, BlobReferences
from o16n.ids import now
from o16n.store import schema
from o16n.store.engine import SqlStore, open_engine


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SqlStore]:
    opened = SqlStore(open_engine(f"sqlite:///{tmp_path / 'o16n.db'}"))
    schema.prepare(opened.engine)
    yield opened
    opened.close()


def test_a_claimed_blob_stays_until_the_claim_ends(store: SqlStore, tmp_path: Path) -> None:
    blobs = FsspecBlobs(LocalFileSystem(), str(tmp_path / "blobs"))
    references = BlobReferences(store, blobs)
    with references.referencing() as claim:
        blob = claim.put(b"about to be referred to")
        assert references.release([blob]) == 0  # another node's release, before the commit
        assert references.sweep() == 0
    assert blobs.get(blob) == b"about to be referred to"
    assert references.release([blob]) == 1  # no row took it
    assert blob not in blobs.ids()


def test_a_failed_use_case_releases_what_it_stored(store: SqlStore, tmp_path: Path) -> None:
    blobs = FsspecBlobs(LocalFileSystem(), str(tmp_path / "blobs"))
    references = BlobReferences(store, blobs)
    with pytest.raises(RuntimeError), references.referencing() as claim:
        claim.put(b"stored, then the publish failed")
        raise RuntimeError("the referring row was refused")
    assert blobs.ids() == []


def test_the_claim_of_a_dead_node_expires(store: SqlStore, tmp_path: Path) -> None:
    blobs = FsspecBlobs(LocalFileSystem(), str(tmp_path / "blobs"))
    long_ago = now() - 2 * CLAIM
    blob = "cd" * 32
    with store.unit_of_work() as uow:  # claimed two hours ago by a node that then died
        uow.blobs.claim(blob, long_ago, long_ago + CLAIM)
    blobs.put(blob, b"never referred to")
    with store.unit_of_work() as uow:
        assert uow.blobs.unreferenced(long_ago + timedelta(minutes=1)) == []
    assert BlobReferences(store, blobs).sweep() == 1
    assert blobs.ids() == []
