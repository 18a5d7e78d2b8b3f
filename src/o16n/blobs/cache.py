"""A node's bounded local copy of blobs it read from a remote store.

A blob's name is the sha256 of its content, so a copy is valid forever; only room is limited:
past `max_bytes` the least recently used copies go.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections import OrderedDict
from pathlib import Path

from o16n.blobs.local import remove_incomplete, write_atomically


class ReadCache:
    """Copies of blobs in one directory, at most `max_bytes` in all (this node's alone)."""

    def __init__(self, directory: Path, max_bytes: int) -> None:
        self._directory = directory
        self._max_bytes = max_bytes
        self._lock = threading.Lock()
        directory.mkdir(parents=True, exist_ok=True)
        remove_incomplete(directory)
        found = sorted(directory.glob("[0-9a-f]*"), key=lambda path: path.stat().st_mtime)
        self._sizes = OrderedDict((path.name, path.stat().st_size) for path in found)
        self._total = sum(self._sizes.values())

    def get(self, blob_id: str) -> bytes | None:
        """The cached content, or None; a hit counts as a use (it goes last)."""
        path = self._directory / blob_id
        try:
            content = path.read_bytes()
        except FileNotFoundError:
            return None
        with self._lock:
            if blob_id in self._sizes:
                self._sizes.move_to_end(blob_id)
        with contextlib.suppress(FileNotFoundError):  # evicted meanwhile
            os.utime(path)  # the order survives a restart
        return content

    def add(self, blob_id: str, content: bytes) -> None:
        """Keep a copy (content that alone exceeds the bound is not kept)."""
        if len(content) > self._max_bytes:
            return
        write_atomically(self._directory / blob_id, content)
        with self._lock:
            self._total += len(content) - self._sizes.pop(blob_id, 0)
            self._sizes[blob_id] = len(content)
            while self._total > self._max_bytes:
                oldest, size = self._sizes.popitem(last=False)
                self._total -= size
                (self._directory / oldest).unlink(missing_ok=True)

    def discard(self, blob_id: str) -> None:
        """Forget a copy (its blob was deleted)."""
        with self._lock:
            self._total -= self._sizes.pop(blob_id, 0)
        (self._directory / blob_id).unlink(missing_ok=True)
