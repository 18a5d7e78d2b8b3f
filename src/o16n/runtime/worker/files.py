"""The worker's working directory: change tracking, file access, snapshot archives.

Everything goes through a directory fd, so the worker needs no search permission on the
directory's ancestors. Standalone (the worker imports it): it imports nothing from o16n.
"""

from __future__ import annotations

import contextlib
import io
import os
import stat
import zipfile
from collections.abc import Iterator, Sequence

MAX_SCANNED = 10_000
WORKSPACE_ENTRY = "workspace.dill"
FILES_PREFIX = "files/"
_READ = os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC
_DIRECTORY = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_WRITE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC

FileStates = dict[str, tuple[int, int, int, int]]


def scan(root: int) -> FileStates:
    """mtime, ctime, size and inode of each file under the directory fd `root`, by relative path.

    Symlinks are not followed, `__pycache__` folders are skipped, and the scan stops after
    MAX_SCANNED directory entries so a huge tree cannot stall a request.
    """
    states: FileStates = {}
    pending: list[tuple[str, ...]] = [()]
    scanned = 0
    while pending and scanned < MAX_SCANNED:
        parts = pending.pop()
        try:
            with _folder(root, parts) as fd, os.scandir(fd) as entries:
                listed = list(entries)[: MAX_SCANNED - scanned]
                scanned += len(listed)
                for entry in listed:
                    _record(entry, parts, states, pending)
        except OSError:  # removed or replaced meanwhile (by user code)
            continue
    return states


@contextlib.contextmanager
def _folder(root: int, parts: Sequence[str], create: bool = False) -> Iterator[int]:
    """An fd of folder `parts` under `root`, reached without following any symlink."""
    fd = os.dup(root)
    try:
        for part in parts:
            if create:
                with contextlib.suppress(FileExistsError):
                    os.mkdir(part, 0o700, dir_fd=fd)
            inner = os.open(part, _DIRECTORY, dir_fd=fd)
            os.close(fd)
            fd = inner
        yield fd
    finally:
        os.close(fd)


def _record(
    entry: os.DirEntry[str],
    parts: tuple[str, ...],
    states: FileStates,
    pending: list[tuple[str, ...]],
) -> None:
    """Note a file's state, or queue a folder for scanning."""
    try:
        if entry.is_dir(follow_symlinks=False):
            if entry.name != "__pycache__":
                pending.append((*parts, entry.name))
        elif entry.is_file(follow_symlinks=False):
            info = entry.stat(follow_symlinks=False)
            relative = "/".join((*parts, entry.name))
            states[relative] = (info.st_mtime_ns, info.st_ctime_ns, info.st_size, info.st_ino)
    except OSError:  # removed meanwhile (by a thread of user code)
        pass


def changed(before: FileStates, after: FileStates) -> list[str]:
    """Files created or modified between two scans, sorted."""
    return sorted(name for name, state in after.items() if before.get(name) != state)


def relative_path(name: object) -> str:
    """`name` if it is a relative path inside the working directory, else ValueError."""
    if type(name) is not str or not name or name.startswith("/") or "\x00" in name:
        raise ValueError(f"{name!r} is not a file name")
    if any(part in ("", ".", "..") for part in name.split("/")):
        raise ValueError(f"{name!r} is not a file name inside the working directory")
    return name


def names(root: int) -> list[str]:
    """Every file under the directory fd `root`, as sorted relative paths."""
    return sorted(scan(root))


def read(root: int, name: str) -> bytes:
    """A regular file's content (no symlink is followed); FileNotFoundError otherwise."""
    *folder, last = relative_path(name).split("/")
    try:
        with _folder(root, folder) as parent:
            fd = os.open(last, _READ, dir_fd=parent)
    except OSError as exc:
        raise FileNotFoundError(f"no file named {name!r}") from exc
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise FileNotFoundError(f"no file named {name!r}")
    with os.fdopen(fd, "rb") as handle:
        return handle.read()


def write(root: int, name: str, data: bytes) -> None:
    """Create or replace a file (atomically, never through a symlink) and its folders."""
    *folder, last = relative_path(name).split("/")
    temporary = f".{last}.o16n-{os.getpid()}"
    with _folder(root, folder, create=True) as parent:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary, dir_fd=parent)  # left by an earlier failure
        fd = os.open(temporary, _WRITE, 0o600, dir_fd=parent)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            os.replace(temporary, last, src_dir_fd=parent, dst_dir_fd=parent)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temporary, dir_fd=parent)
            raise


def delete(root: int, name: str) -> None:
    """Remove a file; FileNotFoundError if there is none."""
    *folder, last = relative_path(name).split("/")
    try:
        with _folder(root, folder) as parent:
            os.unlink(last, dir_fd=parent)
    except OSError as exc:
        raise FileNotFoundError(f"no file named {name!r}") from exc


_EPOCH = (1980, 1, 1, 0, 0, 0)


def pack(workspace: bytes, root: int) -> bytes:
    """A zip archive of a workspace blob and every file of the working directory.

    Entries carry a fixed timestamp, so the same content packs to the same bytes (and the
    content-addressed blob store keeps it once).
    """
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        archive.writestr(_entry(WORKSPACE_ENTRY), workspace)
        for name in names(root):
            archive.writestr(_entry(FILES_PREFIX + name), read(root, name))
    return buffer.getvalue()


def _entry(name: str) -> zipfile.ZipInfo:
    entry = zipfile.ZipInfo(name, date_time=_EPOCH)
    entry.compress_type = zipfile.ZIP_DEFLATED
    entry.external_attr = 0o600 << 16
    return entry


def unpack(data: bytes) -> tuple[bytes, dict[str, bytes]]:
    """The workspace blob and the files of an archive made by `pack`; ValueError if broken."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            workspace = archive.read(WORKSPACE_ENTRY)
            contents = {
                relative_path(entry.removeprefix(FILES_PREFIX)): archive.read(entry)
                for entry in archive.namelist()
                if entry.startswith(FILES_PREFIX)
            }
    except (zipfile.BadZipFile, KeyError, OSError, EOFError) as exc:
        raise ValueError(f"not a snapshot archive: {exc}") from exc
    return workspace, contents
