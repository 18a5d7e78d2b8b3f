"""The BlobStore port over an fsspec filesystem: local files (`file://`) or S3 (`s3://`)."""

from __future__ import annotations

import contextlib
import hashlib
import re
from pathlib import Path

from fsspec import AbstractFileSystem
from fsspec.implementations.local import LocalFileSystem

from o16n.blobs.cache import ReadCache
from o16n.blobs.local import remove_incomplete, write_atomically
from o16n.errors import NotFound

_BLOB_ID = re.compile(r"^[0-9a-f]{64}$")


class FsspecBlobs:
    """Blobs named by the sha256 of their content, at `root/ab/abcdef…` on `filesystem`.

    A reader never sees part of a blob: local files are written to a temporary name, fsynced
    and renamed; an S3 object appears whole when its PUT (or multipart upload) completes.
    Blobs read from a remote store are kept in `cache` (content-addressed, so never stale).
    """

    def __init__(
        self, filesystem: AbstractFileSystem, root: str, cache: ReadCache | None = None
    ) -> None:
        self._fs = filesystem
        self._root = root.rstrip("/")
        self._cache = cache
        self._local = isinstance(filesystem, LocalFileSystem)
        if self._local:
            Path(self._root).mkdir(parents=True, exist_ok=True)
            remove_incomplete(Path(self._root))

    def _path(self, blob_id: str) -> str:
        if not _BLOB_ID.match(blob_id):
            raise NotFound(f"no blob {blob_id!r}")
        return f"{self._root}/{blob_id[:2]}/{blob_id}"

    def put(self, blob_id: str, content: bytes) -> None:
        """Store `content` (whose sha256 is `blob_id`) unless it is stored already."""
        path = self._path(blob_id)
        if self._fs.exists(path):
            return
        if self._local:
            write_atomically(Path(path), content)
        else:
            self._fs.pipe_file(path, content)
        if self._cache is not None:
            self._cache.add(blob_id, content)

    def get(self, blob_id: str) -> bytes:
        """The content of a blob (from the cache when it holds it); NotFound when missing."""
        path = self._path(blob_id)
        if self._cache is not None and (cached := self._cache.get(blob_id)) is not None:
            return cached
        try:
            content: bytes = self._fs.cat_file(path)
        except FileNotFoundError as error:
            raise NotFound(f"no blob {blob_id}") from error
        if self._cache is not None:
            if hashlib.sha256(content).hexdigest() != blob_id:
                raise OSError(f"blob {blob_id} came back with other content")
            self._cache.add(blob_id, content)
        return content

    def delete(self, blob_id: str) -> None:
        """Remove a blob (no error when it is already gone)."""
        if self._cache is not None:
            self._cache.discard(blob_id)
        with contextlib.suppress(FileNotFoundError):
            self._fs.rm_file(self._path(blob_id))

    def ids(self) -> list[str]:
        """The ids of every stored blob."""
        if not self._fs.exists(self._root):
            return []
        names = (path.rsplit("/", 1)[-1] for path in self._fs.find(self._root))
        return [name for name in names if _BLOB_ID.match(name)]
