"""Writing files so that a reader sees all of one or nothing: a temporary name, fsync, rename."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

INCOMING = ".incoming-"


def write_atomically(path: Path, content: bytes) -> None:
    """Put `content` at `path` durably; until the rename, readers see no file at all."""
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=INCOMING)
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


def remove_incomplete(root: Path) -> None:
    """Delete the temporary files of writes that a crash cut short (anywhere under `root`)."""
    for incomplete in root.rglob(f"{INCOMING}*"):
        incomplete.unlink(missing_ok=True)


def _fsync_directory(directory: Path) -> None:
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
