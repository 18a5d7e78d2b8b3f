"""Fixtures for runtime tests: real worker processes, driven by asyncio.run per test."""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol, TypeVar

import pytest

from o16n.domain.models import Parameter, ParameterType, ServiceVersion
from o16n.metrics import Metrics
from o16n.runtime.configuration import PoolConfig
from o16n.runtime.interpreters import SessionWorker
from o16n.runtime.limits import WorkerLimits
from o16n.runtime.service_pools import ServicePools
from tests.harness import nobody_can_run_workers

T = TypeVar("T")
Spawner = Callable[..., SessionWorker]


class Runner(Protocol):
    """Runs a coroutine to completion on a fresh event loop, within `timeout` seconds."""

    def __call__(self, coroutine: Coroutine[Any, Any, T], timeout: float = 30.0) -> T:
        """The coroutine's result."""
        ...


IS_ROOT = os.geteuid() == 0
NOBODY_WORKS = IS_ROOT and nobody_can_run_workers()
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
    made: list[SessionWorker] = []

    def make(limits: WorkerLimits | None = None, **options: Any) -> SessionWorker:
        limits = limits or WorkerLimits(user=WORKER_USER)
        worker = SessionWorker(open_tmp_path / f"worker{len(made)}", limits, **options)
        made.append(worker)
        return worker

    yield make
    for worker in made:
        if worker.returncode is None and worker.pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(worker.pid, 9)


PUBLISHED = datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)


def make_service(
    code: str,
    *,
    init: str | None = None,
    inputs: Sequence[tuple[str, str]] = (),
    outputs: Sequence[tuple[str, str]] = (),
    files: Sequence[str] = (),
    blobs: Sequence[str] = (),
    name: str = "svc",
    version: str = "v1",
    revision: int = 1,
) -> ServiceVersion:
    """A published version as the domain hands it to the runtime (published at PUBLISHED)."""
    moment = PUBLISHED
    return ServiceVersion(
        name=name,
        version=version,
        revision=revision,
        code=code,
        init_code=init,
        description=None,
        operation_id=None,
        inputs=tuple(Parameter(n, ParameterType(t)) for n, t in inputs),
        outputs=tuple(Parameter(n, ParameterType(t)) for n, t in outputs),
        output_file_names=tuple(files),
        runtime_type="Python",
        snapshot_id=None,
        blob_ids=tuple(blobs),
        publisher_id=None,
        publisher_name="tester",
        created_at=moment,
        updated_at=moment,
        source_session_id=None,
    )


ConfigMaker = Callable[..., PoolConfig]


def no_blobs(blob_id: str) -> bytes:
    """A blob loader for services without a snapshot."""
    raise KeyError(blob_id)


@pytest.fixture
def pool_config(open_tmp_path: Path) -> ConfigMaker:
    """PoolConfig under a temporary folder: no blank workers, short deadlines unless told."""

    def make(**options: Any) -> PoolConfig:
        defaults: dict[str, Any] = {
            "root": open_tmp_path / "pools",
            "limits": WorkerLimits(user=WORKER_USER),
            "start_seconds": 20.0,
            "call_seconds": 10.0,
            "prepare_seconds": 20.0,
            "blank": 0,
            "preload": (),
        }
        return PoolConfig(**(defaults | options))

    return make


@contextlib.asynccontextmanager
async def open_pools(
    config: PoolConfig, blobs: dict[str, bytes] | None = None
) -> AsyncIterator[ServicePools]:
    """ServicePools that are closed when the block ends, however it ends."""
    pools = ServicePools(config, blobs.__getitem__ if blobs else no_blobs, Metrics())
    try:
        yield pools
    finally:
        await pools.close()
