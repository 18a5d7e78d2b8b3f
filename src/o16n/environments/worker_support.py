"""The part of o16n a worker needs, made importable in an environment of its own.

A worker runs `python -m o16n.runtime.worker`: it needs o16n's worker package, the frames and
limits it shares with the web process, msgpack and dill, and nothing else of the server. They
are copied once per server version into a folder that every environment names in a `.pth`
file; that folder comes after the environment's own site-packages on `sys.path`, so a
package the environment pins (its own dill, say) wins.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import secrets
import shutil
from collections.abc import Iterator
from pathlib import Path

import o16n

PTH_NAME = "o16n-worker.pth"
_PREFIX = ".worker-"
_SOURCE = Path(o16n.__file__).parent
_OWN_FILES = ("__init__.py", "runtime/__init__.py", "runtime/protocol.py", "runtime/limits.py")
_THIRD_PARTY = ("msgpack", "dill")
_SKIP = shutil.ignore_patterns("__pycache__", "*.pyc")


def _own_files() -> Iterator[Path]:
    """o16n's files a worker imports, relative to the package folder."""
    yield from (Path(name) for name in _OWN_FILES)
    worker = _SOURCE / "runtime" / "worker"
    yield from sorted(path.relative_to(_SOURCE) for path in worker.glob("*.py"))


def _package_folder(name: str) -> Path:
    """Where an installed third-party package lives (found without importing it)."""
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(f"the worker needs {name}, which is not installed")
    return Path(next(iter(spec.submodule_search_locations)))


def _digest() -> str:
    """Names this server's worker code and the versions of its dependencies."""
    digest = hashlib.sha256()
    for relative in _own_files():
        digest.update(str(relative).encode() + (_SOURCE / relative).read_bytes())
    for name in _THIRD_PARTY:
        digest.update(str(_package_folder(name)).encode())
    return digest.hexdigest()[:16]


def support_folder(root: Path) -> Path:
    """The folder holding this server's worker code under `root`, made once (atomically);
    folders of other server versions are removed."""
    target = root / f"{_PREFIX}{_digest()}"
    for stale in root.glob(f"{_PREFIX}*"):
        if stale != target:
            shutil.rmtree(stale, ignore_errors=True)
    if target.exists():
        return target
    staging = root / f".staging-{secrets.token_hex(4)}"
    for relative in _own_files():
        (staging / "o16n" / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(_SOURCE / relative, staging / "o16n" / relative)
    for name in _THIRD_PARTY:
        shutil.copytree(_package_folder(name), staging / name, ignore=_SKIP)
    try:
        os.rename(staging, target)
    except OSError:  # another start made it first
        shutil.rmtree(staging, ignore_errors=True)
    return target


def point_to(environment: Path, support: Path) -> None:
    """Make `environment` import the worker code from `support` (rewritten when it moved)."""
    for site_packages in environment.glob("lib/python*/site-packages"):
        pth = site_packages / PTH_NAME
        line = f"{support}\n"
        if not pth.exists() or pth.read_text() != line:
            pth.write_text(line)
