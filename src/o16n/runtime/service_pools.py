"""The ServiceRuntime port on local worker processes: one pool of prepared workers per version.

Every version gets a pool on demand (up to `PoolConfig.max_workers` workers), or the size that
`set_pool` gave it (reference §11). Pools take blank interpreters from the generic pool (see
`spares`), so the first call after publishing pays for the snapshot and initCode only. A
background task, started with the first call (or `start`), keeps the blank workers topped
up, warms dedicated pools and releases the workers of versions left idle. Deleting a version
or changing its code stops its workers at once (`stop`, `replaced`); a late call for what was
stopped is refused rather than bring the workers back. At most `max_live` prepared workers
live on the machine: a version that needs one evicts the least recently used idle worker of
another version, so a thousand versions can be published and each answers its first call in
the time of one preparation.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from o16n.domain.models import (
    ConsumeResult,
    JsonValue,
    PoolSize,
    PoolState,
    ServiceCapacity,
    ServiceVersion,
)
from o16n.errors import CapacityExceeded, WorkerError, WorkerStopped
from o16n.metrics import Metrics, VersionLoad
from o16n.runtime.backend import SharedWorkers, Worker, WorkerFactory
from o16n.runtime.configuration import PoolConfig
from o16n.runtime.pipeline import never_started
from o16n.runtime.process import SERVER_PYTHON_WORKERS
from o16n.runtime.sandbox import reset_root
from o16n.runtime.service_worker import ServiceSpec
from o16n.runtime.spares import Spares
from o16n.runtime.version_pool import VersionPool

__all__ = ["PoolConfig", "PoolCounts", "ServicePools"]

_CLOSE_GRACE = 5.0
_ATTEMPTS = 3
_log = logging.getLogger("o16n.runtime")

Key = tuple[str, str]


@dataclass(frozen=True)
class PoolCounts:
    """Workers prepared for some version, those of them with calls, and blank ones ready."""

    workers: int
    busy: int
    blank: int


class ServicePools:
    """Pools of worker processes prepared for service versions, and the generic pool."""

    def __init__(
        self,
        config: PoolConfig,
        load_blob: Callable[[str], bytes],
        metrics: Metrics,
        factory: WorkerFactory[Worker] = SERVER_PYTHON_WORKERS,
        shared: SharedWorkers | None = None,
    ) -> None:
        self._config = config
        self._shared = shared  # workers of every web node (a cluster backend)
        self._load_blob = load_blob
        self._metrics = metrics
        self._spares = Spares(config, factory)
        self._pools: dict[Key, VersionPool] = {}
        self._sizes: dict[Key, PoolSize] = {}
        self._stopped: dict[Key, tuple[ServiceSpec, str]] = {}  # what was stopped, and why
        self._drains: dict[VersionPool, asyncio.Task[None]] = {}  # replaced pools, draining
        self._keeper: asyncio.Task[None] | None = None
        self._closed = False

    def start(self) -> None:
        """Start the blank workers and the background task on the running loop (idempotent)."""
        if self._keeper is not None or self._closed:
            return
        reset_root(self._config.root)
        self._keeper = asyncio.get_running_loop().create_task(self._keep())
        self._spares.refill()

    async def consume(self, service: ServiceVersion, inputs: dict[str, JsonValue]) -> ConsumeResult:
        """One call; a call that never started because its worker died (or hung on a call
        ahead of it) is tried again, up to `_ATTEMPTS` times in all."""
        self._check_open()
        self.start()
        for _ in range(_ATTEMPTS - 1):
            try:
                return await self._pool(service).consume(inputs)
            except WorkerError as exc:
                if not never_started(exc):
                    raise
        return await self._pool(service).consume(inputs)

    async def set_pool(self, service: ServiceVersion, size: PoolSize) -> None:
        """Give the version a dedicated size and warm `size.initial` workers in the background."""
        self._check_open()
        self.start()
        self._sizes[(service.name, service.version)] = size
        self._pool(service).resize(size.initial, size.maximum)

    def pool_state(self, service: ServiceVersion) -> PoolState:
        """`NotFound` without a dedicated size, `Success` once `initial` workers are ready."""
        key = (service.name, service.version)
        pool, size = self._pools.get(key), self._sizes.get(key)
        workers, busy = (pool.ready, pool.busy) if pool is not None else (0, 0)
        if size is None:
            return PoolState("NotFound", workers, busy)
        current = pool is not None and not pool.spec.outdated_by(service)
        ready = current and workers >= size.initial
        return PoolState("Success" if ready else "Pending", workers, busy)

    def capacity(self, name: str, version: str) -> ServiceCapacity:
        """The version's call slots (its largest size x pipeline depth) and queue length."""
        size = self._sizes.get((name, version))
        workers = max(size.maximum, 1) if size is not None else self._config.max_workers
        return ServiceCapacity(workers * self._config.depth, self._config.max_queue)

    async def drop(self, name: str, version: str) -> None:
        """Forget the version's size; let its calls finish (up to the deadline), stop it."""
        self._sizes.pop((name, version), None)
        pool = self._pools.pop((name, version), None)
        if pool is not None:
            await pool.drain(self._config.call_seconds)

    def stop(self, name: str, version: str) -> None:
        """The version was deleted: kill its workers now; its calls fail with WorkerStopped."""
        self._sizes.pop((name, version), None)
        reason = f"the service {name}/{version} was deleted"
        self._stop((name, version), reason, lambda pool: True)
        self._metrics.forget(name, version)

    def replaced(self, service: ServiceVersion) -> None:
        """A patch stored `service`: kill now the workers that run another code, initCode or
        snapshot (their calls fail with WorkerStopped); the next call prepares new ones."""
        label = f"{service.name}/{service.version}"
        reason = f"the code of the service {label} changed while this call waited or ran"
        self._stop(
            (service.name, service.version), reason, lambda p: p.spec.runs_other_code(service)
        )

    def _stop(self, key: Key, reason: str, which: Callable[[VersionPool], bool]) -> None:
        """Stop the version's pools (the current one, older ones draining) that `which` picks;
        a call for the current one's revision is refused from then on."""
        draining = [pool for pool in self._drains if (pool.spec.name, pool.spec.version) == key]
        current = self._pools.get(key)
        for pool in [*draining, *([current] if current is not None else [])]:
            if not which(pool):
                continue
            if pool is current:
                del self._pools[key]
                self._stopped[key] = (pool.spec, reason)
            pool.stop(reason)

    def counts(self) -> PoolCounts:
        """How many workers there are now (for /status)."""
        pools = list(self._pools.values())
        return PoolCounts(
            sum(p.ready for p in pools), sum(p.busy for p in pools), self._spares.ready
        )

    def loads(self) -> list[VersionLoad]:
        """Each version's calls waiting, workers live and busy (for the metrics)."""
        return [
            VersionLoad(name, version, pool.queued, pool.live, pool.busy)
            for (name, version), pool in list(self._pools.items())
        ]

    async def close(self) -> None:
        """Stop everything: the background task, every pool and the blank workers."""
        self._closed = True
        if self._keeper is not None:
            self._keeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._keeper
        pools = list(self._pools.values())
        self._pools.clear()
        grace = min(self._config.call_seconds, _CLOSE_GRACE)
        await asyncio.gather(*(pool.drain(grace) for pool in pools), *self._drains.values())
        await self._spares.close()

    def _check_open(self) -> None:
        if self._closed:
            raise CapacityExceeded("the server is shutting down")

    def _pool(self, service: ServiceVersion) -> VersionPool:
        """The version's pool; one for an older revision is drained and replaced.

        A call holding an older revision than the pool's (another web process's stale cache)
        runs the newer one rather than bring the old code back.
        """
        key = (service.name, service.version)
        pool = self._pools.get(key)
        if pool is not None and not pool.spec.outdated_by(service):
            return pool
        if pool is not None:
            self._drain_later(pool)
        stopped = self._stopped.pop(key, None)
        if stopped is not None and not stopped[0].outdated_by(service):
            self._stopped[key] = stopped
            raise WorkerStopped(stopped[1])
        spec = ServiceSpec.of(service)
        pool = VersionPool(
            spec,
            self._config,
            self._spares,
            self._load_blob,
            metrics=self._metrics,
            admit=self._admit,
            environment=service.environment,
            shared=self._shared,
        )
        self._pools[key] = pool
        size = self._sizes.get(key)
        if size is not None:
            pool.resize(size.initial, size.maximum)
        return pool

    def _admit(self, pool: VersionPool) -> bool:
        """Whether `pool` may start a worker: below `max_live` workers on the machine, or once
        the least recently used idle worker of another version is evicted, or when `pool` has
        none (every version can make progress)."""
        if self._live() < self._config.max_live or self._evict_one(besides=pool):
            return True
        return pool.live == 0

    def _live(self) -> int:
        return sum(pool.live for pool in self._pools.values())

    def _evict_one(self, besides: VersionPool | None = None) -> bool:
        """Evict an idle worker of the least recently used version (not `besides`)."""
        candidates = [p for p in self._pools.values() if p is not besides and p.evictable]
        if not candidates:
            return False
        min(candidates, key=lambda pool: pool.last_used).evict()
        return True

    def _drain_later(self, pool: VersionPool) -> None:
        """Drain a replaced pool in the background."""
        task = asyncio.get_running_loop().create_task(pool.drain(self._config.call_seconds))
        self._drains[pool] = task
        task.add_done_callback(lambda _: self._drains.pop(pool, None))

    async def _keep(self) -> None:
        """Every tick: top up blank workers and pools, release idle ones, forget empty ones."""
        tick = max(0.05, min(self._config.idle_seconds / 4, 10.0))
        while True:
            await asyncio.sleep(tick)
            try:
                await self._tend(time.monotonic())
            except Exception:  # the keeper must outlive any one failure
                _log.exception("pool maintenance failed")

    async def _tend(self, now: float) -> None:
        """One maintenance pass."""
        self._spares.refill()
        while self._live() > self._config.max_live and self._evict_one():
            pass
        for key, pool in list(self._pools.items()):
            await pool.release_idle(now)
            pool.top_up()
            unused = now - pool.last_used >= self._config.idle_seconds
            if pool.idle and unused and key not in self._sizes:
                del self._pools[key]
                pool.discard()
