"""The EnvironmentBuilder port with uv: one folder per lock under a root, built in threads.

An environment's folder is `root/<environment id>`; it is built under a temporary name and
renamed once complete, so a folder with that name is always a whole environment. Builds run
in a bounded pool of threads (uv does the work in its own process); what a node knows of
each environment (ready, building, failed) lives here, and a folder found on disk is ready.
"""

from __future__ import annotations

import asyncio
import math
import os
import secrets
import shutil
import sys
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

from o16n.domain.models import Environment, EnvironmentState, EnvironmentUsage
from o16n.environments.usage import disk_bytes, open_to_workers
from o16n.environments.uv import Uv, UvFailed
from o16n.environments.worker_support import point_to, support_folder
from o16n.errors import EnvironmentFailed, InvalidInput

_LOCK_FILE = "o16n-lock.txt"
_ROOT_MODE = 0o711  # workers reach their environment's folder; nobody lists the root


def server_python() -> tuple[str, str]:
    """The interpreter the server runs on (its base, not a virtual environment) and its
    version."""
    base = getattr(sys, "_base_executable", sys.executable)
    return os.path.realpath(base), f"{sys.version_info.major}.{sys.version_info.minor}"


class UvEnvironments:
    """Environments for locks, built on demand with uv, at most `max_builds` at once."""

    def __init__(
        self,
        root: Path,
        uv: Uv,
        *,
        max_builds: int,
        grace_seconds: float,
        resolution_seconds: float,
    ) -> None:
        self._root = root
        self._uv = uv
        self._grace = grace_seconds
        self._resolution_seconds = resolution_seconds
        self._resolved: dict[tuple[tuple[str, ...], str], tuple[float, Environment]] = {}
        self._default_python = server_python()
        self._pythons: dict[str, str] = {self._default_python[1]: self._default_python[0]}
        self._executor = ThreadPoolExecutor(max_builds, thread_name_prefix="o16n-env")
        self._guard = threading.Lock()
        self._ready: set[str] = set()
        self._builds: dict[str, Future[None]] = {}
        self._failed: dict[str, str] = {}
        self._unused_since: dict[str, float] = {}
        self._measured = (0, 0)  # environments on disk and their bytes, when last measured
        root.mkdir(parents=True, exist_ok=True)
        root.chmod(_ROOT_MODE)
        for leftover in [*root.glob(".build-*"), *root.glob(".staging-*")]:
            shutil.rmtree(leftover, ignore_errors=True)
        self._support = support_folder(root)
        open_to_workers(self._support)

    def resolve(self, requirements: tuple[str, ...], python_version: str | None) -> Environment:
        """The lock of `requirements` (blocking); InvalidInput with uv's message on failure.
        The same requirements resolved within `resolution_seconds` get the same lock again,
        without asking the index."""
        version = python_version or self._default_python[1]
        key = (requirements, version)
        with self._guard:
            when, known = self._resolved.get(key, (-math.inf, None))
        if known is not None and time.monotonic() - when < self._resolution_seconds:
            return known
        python = self._python(version)
        try:
            lock = self._uv.compile(requirements, python)
        except UvFailed as exc:
            message = f"the requirements cannot be resolved: {exc}"
            raise InvalidInput(message, field="requirements") from None
        environment = Environment(requirements, version, lock)
        with self._guard:
            self._resolved[key] = (time.monotonic(), environment)
        return environment

    def _python(self, version: str) -> str:
        """The installed interpreter of `version`; InvalidInput naming pythonVersion."""
        with self._guard:
            known = self._pythons.get(version)
        if known is not None:
            return known
        try:
            found = self._uv.find_python(version)
        except UvFailed as exc:
            message = f"Python {version} is not installed on this server: {exc}"
            raise InvalidInput(message, field="pythonVersion") from None
        with self._guard:
            self._pythons[version] = found
        return found

    def build(self, environment: Environment) -> None:
        """Start building unless it is built or building; a failed build is tried again."""
        with self._guard:
            self._unused_since.pop(environment.id, None)
            self._failed.pop(environment.id, None)
            self._start(environment)

    def state(self, environment: Environment) -> EnvironmentState:
        """Ready, building or failed here; one unknown here starts building."""
        key = environment.id
        with self._guard:
            if key in self._ready:
                return EnvironmentState("ready")
            if key in self._failed:
                return EnvironmentState("failed", self._failed[key])
            if key not in self._builds and self._found(key):
                return EnvironmentState("ready")
            self._start(environment)
            return EnvironmentState("building")

    async def ready(self, environment: Environment) -> None:
        """Wait for the build; EnvironmentFailed with the installer's message when it fails."""
        with self._guard:
            self._failed.pop(environment.id, None)
        while (state := self.state(environment)).state == "building":
            with self._guard:
                build = self._builds.get(environment.id)
            if build is not None:  # its failure is recorded by `_finished`: the state says it
                await asyncio.wait([asyncio.wrap_future(build)])
        if state.state == "failed":
            message = f"the Python environment could not be built: {state.message}"
            raise EnvironmentFailed(message, field="requirements")

    def built(self, environment: Environment) -> str:
        """The Python of `environment`, built in the calling thread unless it is on disk
        (blocking: a compute node's worker host); EnvironmentFailed with uv's message."""
        with self._guard:
            found = self._found(environment.id)
        if not found:
            try:
                self._build(environment)
            except UvFailed as exc:
                message = f"the Python environment could not be built: {exc}"
                raise EnvironmentFailed(message, field="requirements") from None
        return self.interpreter(environment)

    def interpreter(self, environment: Environment) -> str:
        """The Python of a ready environment, for a worker to run on."""
        return str(self._root / environment.id / "bin" / "python")

    def usage(self) -> EnvironmentUsage:
        """Environments on disk and their size when last measured, builds running."""
        with self._guard:
            return EnvironmentUsage(*self._measured, building=len(self._builds))

    def sweep(self, in_use: set[str]) -> int:
        """Remove environments unused for the grace period; measure the disk use."""
        now = time.monotonic()
        removed = 0
        for folder in self._root.iterdir():
            key = folder.name
            if key.startswith(".") or not self._unused_for_grace(key, in_use, now):
                continue
            shutil.rmtree(folder, ignore_errors=True)
            removed += 1
        self._measure()
        return removed

    def close(self) -> None:
        """Stop taking builds; running ones finish in their threads."""
        self._executor.shutdown(wait=False, cancel_futures=True)

    def _measure(self) -> None:
        """Count the complete environments on disk and the bytes under the root."""
        count = sum(1 for lock in self._root.glob(f"[!.]*/{_LOCK_FILE}"))
        measured = (count, disk_bytes(self._root))
        with self._guard:
            self._measured = measured

    def _unused_for_grace(self, key: str, in_use: set[str], now: float) -> bool:
        """Whether `key` is unused and has been since the grace period (then forgotten)."""
        with self._guard:
            if key in in_use or key in self._builds:
                self._unused_since.pop(key, None)
                return False
            since = self._unused_since.setdefault(key, now)
            if now - since < self._grace:
                return False
            self._ready.discard(key)
            self._unused_since.pop(key, None)
            return True

    def _found(self, key: str) -> bool:
        """Whether a complete environment is on disk (then known ready); under the guard."""
        folder = self._root / key
        if not (folder / _LOCK_FILE).is_file():
            return False
        point_to(folder, self._support)
        self._ready.add(key)
        return True

    def _start(self, environment: Environment) -> None:
        """Submit a build unless one runs or it is ready; under the guard."""
        key = environment.id
        if key in self._builds or key in self._ready:
            return
        build = self._executor.submit(self._build, environment)
        self._builds[key] = build
        build.add_done_callback(lambda done: self._finished(key, done))

    def _finished(self, key: str, build: Future[None]) -> None:
        error = build.exception() if not build.cancelled() else RuntimeError("cancelled")
        self._measure()
        with self._guard:
            self._builds.pop(key, None)
            if error is None:
                self._ready.add(key)
            else:
                self._failed[key] = str(error)

    def _build(self, environment: Environment) -> None:
        """Create the environment under a temporary name, install the lock, rename it."""
        target = self._root / environment.id
        if (target / _LOCK_FILE).is_file():
            return
        staging = self._root / f".build-{environment.id}-{secrets.token_hex(4)}"
        try:
            self._uv.create(staging, self._python(environment.python_version))
            lock = staging / _LOCK_FILE
            lock.write_text(environment.lock)
            self._uv.install(str(staging / "bin" / "python"), lock)
            point_to(staging, self._support)
            open_to_workers(staging)
            shutil.rmtree(target, ignore_errors=True)  # an incomplete one (no lock file)
            os.rename(staging, target)
        except (UvFailed, InvalidInput) as exc:
            raise UvFailed(getattr(exc, "message", str(exc))) from None
        finally:
            shutil.rmtree(staging, ignore_errors=True)
