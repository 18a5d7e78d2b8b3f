"""Fixtures for runtime tests: real worker processes, driven by asyncio.run per test."""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
from collections.abc import Callable, Coroutine, Iterator
from pathlib import Path
from typing import Any, Protocol, TypeVar

import pytest

from o16n.runtime.limits import WorkerLimits
from o16n.runtime.process import WorkerProcess

T = TypeVar("T")
Spawner = Callable[..., WorkerProcess]


class Runner(Protocol):
    """Runs a coroutine to completion on a fresh event loop, within `timeout` seconds."""

    def __call__(self, coroutine: Coroutine[Any, Any, T], timeout: float = 30.0) -> T:
        """The coroutine's result."""
        ...


def _nobody_can_run_workers() -> bool:
    """Whether `nobody` can run this interpreter with numpy and o16n (needs root to try)."""
    source = str(Path(__file__).resolve().parents[2] / "src")
    probe = [sys.executable, "-c", "import numpy, msgpack, o16n.runtime.worker"]
    try:
        done = subprocess.run(
            probe,
            user="nobody",
            env={"PYTHONPATH": source},
            cwd="/",
            capture_output=True,
            timeout=60,
            check=False,
        )
    except OSError:
        return False
    return done.returncode == 0


IS_ROOT = os.geteuid() == 0
NOBODY_WORKS = IS_ROOT and _nobody_can_run_workers()
# Workers run as `nobody` wherever that can work; elsewhere as the test's own user.
WORKER_USER = "nobody" if NOBODY_WORKS else None


@pytest.fixture
def run() -> Runner:
    """Run a coroutine on a fresh event loop, bounded so that a test can never hang."""

    def runner(coroutine: Coroutine[Any, Any, T], timeout: float = 30.0) -> T:
        async def bounded() -> T:
            return await asyncio.wait_for(coroutine, timeout)

        return asyncio.run(bounded())

    return runner


@pytest.fixture
def spawn(open_tmp_path: Path) -> Iterator[Spawner]:
    """Make (unstarted) workers with their own working directory under a temporary folder."""
    made: list[WorkerProcess] = []

    def make(limits: WorkerLimits | None = None, **options: Any) -> WorkerProcess:
        limits = limits or WorkerLimits(user=WORKER_USER)
        worker = WorkerProcess(open_tmp_path / f"worker{len(made)}", limits, **options)
        made.append(worker)
        return worker

    yield make
    for worker in made:
        if worker.returncode is None and worker.pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(worker.pid, 9)
