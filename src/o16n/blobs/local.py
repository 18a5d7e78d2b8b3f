"""Local content-addressed blobs: the sha256 of the content is the id."""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from pathlib import Path

from o16n.errors import NotFound

_BLOB_ID = re.compile(r"^[0-9a-f]{64}$")
_INCOMING = ".incoming-"


class LocalBlobs:
    """The BlobStore port on a directory: write to a temporary name, fsync, rename."""

    def __init__(self, root: Path) -> None:
        self._root = root
        root.mkdir(parents=True, exist_ok=True)
        for incomplete in root.glob(f"*/{_INCOMING}*"):  # a write cut short by a crash
            incomplete.unlink(missing_ok=True)

    def _path(self, blob_id: str) -> Path:
        if not _BLOB_ID.match(blob_id):
            raise NotFound(f"no blob {blob_id!r}")
        return self._root / blob_id[:2] / blob_id

    def put(self, content: bytes) -> str:
        """Store `content` durably and return its id (the same content is stored once)."""
        blob_id = hashlib.sha256(content).hexdigest()
        path = self._path(blob_id)
        if path.exists():
            return blob_id
        path.parent.mkdir(exist_ok=True)
        descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=_INCOMING)
        try:
            with os.fdopen(descriptor, "wb") as handle:
                handle.write(content)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        _fsync_directory(path.parent)
        return blob_id

    def get(self, blob_id: str) -> bytes:
        """The content of a blob; NotFound when it is missing."""
        try:
            return self._path(blob_id).read_bytes()
        except FileNotFoundError as error:
            raise NotFound(f"no blob {blob_id}") from error

    def delete(self, blob_id: str) -> None:
        """Remove a blob (no error when it is already gone)."""
        self._path(blob_id).unlink(missing_ok=True)

    def ids(self) -> list[str]:
        """The ids of every stored blob."""
        return [path.name for path in self._root.glob("*/*") if _BLOB_ID.match(path.name)]


def _fsync_directory(directory: Path) -> None:
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
