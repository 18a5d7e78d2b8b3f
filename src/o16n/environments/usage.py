"""The files of environments: how much disk they take (each file once, however many links
it has: uv links packages from its cache, so environments share their files), and opening
them to the accounts workers run as."""

from __future__ import annotations

import os
from pathlib import Path


def disk_bytes(root: Path) -> int:
    """The bytes allocated to the distinct files and folders under `root`."""
    seen: set[tuple[int, int]] = set()
    total = 0
    for folder, names, files in os.walk(root):
        for name in (*names, *files):
            try:
                status = os.lstat(os.path.join(folder, name))
            except OSError:  # removed while we walked
                continue
            key = (status.st_dev, status.st_ino)
            if key not in seen:
                seen.add(key)
                total += status.st_blocks * 512
    return total


def open_to_workers(root: Path) -> None:
    """Let every account read `root`'s tree and run what its owner may run (the server's
    umask keeps what it writes private; workers run as other accounts)."""
    for folder, _, files in os.walk(root):
        os.chmod(folder, 0o755)
        for name in files:
            path = os.path.join(folder, name)
            if os.path.islink(path):
                continue
            mode = os.stat(path).st_mode
            os.chmod(path, mode | 0o444 | (0o111 if mode & 0o100 else 0))
