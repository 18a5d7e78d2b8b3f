"""The workers of one service version: dispatch, queue, growth, replacement, idle release, drain.

A call goes to the least-loaded worker with fewer than `depth` calls in flight (its frames are
pipelined). When every worker is that busy the call waits in a bounded FIFO queue, and the
pool grows up to its maximum (a blank worker from the generic pool, prepared for the version).
A slot that frees is handed to the oldest waiting call at once, so a queue never coexists with
a free slot. A worker that dies is removed and replaced; its calls fail (the web process
retries the ones that never started, see `service_pools.ServicePools.consume`), and a worker
that dies while being prepared is replaced too, so waiting calls get the next one. `stop`
kills every worker at once, for a version deleted or given new code.

With a backend that shares workers between web nodes, a pool adopts a worker another node
prepared for the same revision before it makes its own: every node reaches every worker, and
a version's workers over the cluster stay within one node's maximum unless nodes start
workers at the same moment. An adopted worker is only let go of here; its node stops it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Callable

from o16n.domain.models import ConsumeResult, Environment, JsonValue
from o16n.errors import (
    CapacityExceeded,
    O16nError,
    WorkerCrashed,
    WorkerError,
    WorkerStopped,
    WorkerTimeout,
)
from o16n.metrics import Metrics
from o16n.runtime.backend import SharedWorkers, Worker
from o16n.runtime.configuration import PoolConfig
from o16n.runtime.pipeline import crashed, never_started
from o16n.runtime.service_worker import PreparedWorker, PrepareFailed, ServiceSpec, prepare
from o16n.runtime.spares import Spares

_log = logging.getLogger("o16n.runtime")
_START_ATTEMPTS = 3  # workers that die in a row while being prepared before calls fail


class VersionPool:
    """The workers prepared for one revision of one version (between `minimum` and `maximum`)."""

    def __init__(
        self,
        spec: ServiceSpec,
        config: PoolConfig,
        spares: Spares,
        load_blob: Callable[[str], bytes],
        *,
        metrics: Metrics,
        admit: Callable[[VersionPool], bool] = lambda _: True,
        environment: Environment | None = None,
        shared: SharedWorkers | None = None,
    ) -> None:
        self.spec = spec
        self._environment = environment  # the version's Python environment, if it has one
        self._shared = shared
        self.minimum = 0
        self.maximum = config.max_workers
        self.workers: list[PreparedWorker] = []
        self.last_used = time.monotonic()
        self._config = config
        self._spares = spares
        self._load_blob = load_blob
        self._admit = admit
        self._metrics = metrics
        self._called = False  # the first call (a cold start) is measured
        self._starting = 0
        self._bring_ups: set[asyncio.Task[None]] = set()
        self._queue: deque[asyncio.Future[PreparedWorker]] = deque()
        self._archives: list[bytes] | None = None
        self._archives_lock = asyncio.Lock()
        self._failure: tuple[float, BaseException] | None = None
        self._failed_starts = 0
        self._closing = False
        self._settled = asyncio.Event()

    @property
    def ready(self) -> int:
        """Workers prepared and running."""
        return sum(1 for worker in self.workers if worker.alive)

    @property
    def live(self) -> int:
        """Workers in the pool or starting for it."""
        return len(self.workers) + self._starting

    @property
    def evictable(self) -> bool:
        """An idle worker above the dedicated minimum could go."""
        return len(self.workers) > self.minimum and any(not w.load for w in self.workers)

    def evict(self) -> None:
        """Stop one idle worker to make room for another version's."""
        idle = next((w for w in self.workers if not w.load), None)
        if idle is not None and len(self.workers) > self.minimum:
            self._remove(idle)

    @property
    def busy(self) -> int:
        """Workers with at least one call."""
        return sum(1 for worker in self.workers if worker.load)

    @property
    def idle(self) -> bool:
        """No worker, none starting, no call waiting: the pool can be forgotten."""
        return not self.workers and not self._starting and not self._queue

    async def consume(self, inputs: dict[str, JsonValue]) -> ConsumeResult:
        """One call on a worker of this version (waiting for a slot when all are busy)."""
        if self._closing:
            raise crashed(f"the pool of {self.spec.label} is stopping", never_started=True)
        self.last_used = time.monotonic()
        cold, self._called = not self._called, True
        started = time.perf_counter()
        try:
            worker = self._reserve() or await self._wait()
        except PrepareFailed as failure:
            return failure.result
        try:
            result = await worker.consume(inputs)
        except WorkerTimeout:
            self._metrics.worker_timed_out(self.spec.name, self.spec.version)
            raise
        except WorkerCrashed as error:
            if not never_started(error):
                self._metrics.worker_crashed(self.spec.name, self.spec.version)
            raise
        finally:
            self._release(worker)
        if cold:
            self._metrics.cold_start(
                self.spec.name, self.spec.version, time.perf_counter() - started
            )
        return result

    @property
    def queued(self) -> int:
        """Calls waiting for a slot."""
        return len(self._queue)

    def resize(self, minimum: int, maximum: int) -> None:
        """Keep at least `minimum` workers (warmed now) and never more than `maximum`."""
        self.maximum = max(maximum, 1)
        self.minimum = min(minimum, self.maximum)
        surplus = max(len(self.workers) - self.maximum, 0)
        for worker in [w for w in self.workers if not w.load][:surplus]:
            self._remove(worker)
        self.top_up()

    def top_up(self) -> None:
        """Start workers until `minimum` are ready or starting, and for calls that wait."""
        while len(self.workers) + self._starting < self.minimum and self._may_start():
            self._start()
        self._grow()

    async def release_idle(self, now: float) -> int:
        """When unused for `idle_seconds`, stop idle workers down to `minimum` (but those
        another web node used within that time); how many."""
        seconds = self._config.idle_seconds
        if self._closing or now - self.last_used < seconds:
            return 0
        count = max(len(self.workers) - self.minimum, 0)
        released = 0
        for worker in [w for w in self.workers if not w.load][:count]:
            unused = await worker.process.unused_for()
            if unused >= seconds and not worker.load and len(self.workers) > self.minimum:
                self._remove(worker)
                released += 1
        return released

    async def drain(self, timeout: float) -> None:
        """Take no more calls, let those accepted finish (for `timeout` s), stop every worker."""
        self._closing = True
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while self._pending() and loop.time() < deadline:
            self._settled.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._settled.wait(), deadline - loop.time())
        for task in self._bring_ups:
            task.cancel()
        await asyncio.gather(*self._bring_ups, return_exceptions=True)
        self._fail_waiters(crashed(f"the pool of {self.spec.label} stopped", never_started=True))
        workers, self.workers = self.workers, []
        force = any(worker.load for worker in workers)
        await asyncio.gather(*(self._spares.dispose(w.process, force=force) for w in workers))

    def stop(self, reason: str) -> None:
        """Take no more calls and kill every worker now: the calls running or waiting fail
        with WorkerStopped(`reason`), workers being started are cancelled."""
        self._closing = True
        for task in self._bring_ups:
            task.cancel()
        self._fail_waiters(WorkerStopped(reason))
        workers, self.workers = self.workers, []
        for worker in workers:
            worker.process.abort(WorkerStopped(reason))
            self._spares.retire(worker.process)
        self._settled.set()

    def discard(self) -> None:
        """Mark an idle pool as gone: a late call is sent to a new pool instead."""
        self._closing = True

    def _reserve(self) -> PreparedWorker | None:
        """The least-loaded live worker below the pipeline depth, its load counted; or None.

        Until the pool has its largest number of ready workers, calls beyond `depth` per
        worker wait in the queue (which starts workers); then they go down the pipes,
        `full_depth` deep: a call waits as long in a worker's socket as in the queue, and far
        cheaper (the worker finds more calls per wake-up, the web process hands fewer slots
        on)."""
        best: PreparedWorker | None = None
        lost: list[PreparedWorker] = []
        config = self._config
        least = config.depth if len(self.workers) < self.maximum else config.full_depth
        for worker in self.workers:
            if not worker.alive:
                lost.append(worker)
            elif (pressure := worker.pressure) < least:
                best, least = worker, pressure
        for worker in lost:
            self._lost(worker)
        if best is not None:
            best.load += 1
        return best

    async def _wait(self) -> PreparedWorker:
        """Queue for a slot; CapacityExceeded when the queue is full or no slot came within
        the version's deadline (every worker busy, or none could be prepared in time)."""
        failure = self._failure
        if failure is not None and not self.workers and not self._starting and self._paused():
            raise _copy(failure[1])
        if len(self._queue) >= self._config.max_queue:
            raise CapacityExceeded(
                f"service {self.spec.label} already has {len(self._queue)} calls waiting; "
                "try again later"
            )
        loop = asyncio.get_running_loop()
        future: asyncio.Future[PreparedWorker] = loop.create_future()
        self._queue.append(future)
        self._grow()
        seconds = self.spec.deadline(self._config.call_seconds)
        # A timer on the future itself: asyncio.wait_for would add a future and two loop
        # passes to every call that waits for a slot, the common case under load.
        timer = loop.call_later(seconds, _refuse, future, self.spec.label, seconds)
        try:
            return await future
        except BaseException:
            if future.done() and not future.cancelled() and future.exception() is None:
                self._release(future.result())
            with contextlib.suppress(ValueError):
                self._queue.remove(future)
            raise
        finally:
            timer.cancel()

    def _release(self, worker: PreparedWorker) -> None:
        """A call of `worker` ended: retire it if dead or surplus, hand its slot on."""
        worker.load -= 1
        if not worker.alive:
            self._lost(worker)
        elif not worker.load and len(self.workers) > self.maximum:
            self._remove(worker)
        self._serve_queue()
        if self._closing and not self._pending():
            self._settled.set()

    def _serve_queue(self) -> None:
        """Give free slots to the oldest waiting calls."""
        queue = self._queue
        while queue:
            if queue[0].done():  # its caller gave up
                queue.popleft()
                continue
            worker = self._reserve()
            if worker is None:
                break
            queue.popleft().set_result(worker)

    def _grow(self) -> None:
        """Start workers while calls wait beyond what the starting ones will take."""
        while (
            len(self.workers) + self._starting < self.maximum
            and len(self._queue) > self._starting * self._config.depth
            and self._may_start()
        ):
            self._start()

    def _may_start(self) -> bool:
        """Not stopping, preparing did not just fail, and the machine has room."""
        return not self._closing and not self._paused() and self._admit(self)

    def _paused(self) -> bool:
        """Preparing failed less than `retry_seconds` ago."""
        return self._failure is not None and time.monotonic() < self._failure[0]

    def _start(self) -> None:
        """Bring one more worker up in the background."""
        self._starting += 1
        task = asyncio.get_running_loop().create_task(self._bring_up())
        self._bring_ups.add(task)
        task.add_done_callback(self._bring_ups.discard)

    async def _bring_up(self) -> None:
        """Obtain a worker, prepare it for the version, put it to work."""
        try:
            worker = await self._prepared_worker()
        except Exception as exc:
            self._starting -= 1
            self._on_failure(exc)
            return
        except BaseException:
            self._starting -= 1
            raise
        self._starting -= 1
        self._failure = None
        self._failed_starts = 0
        if not worker.adopted:
            self._metrics.worker_started(self.spec.name, self.spec.version)
        if self._closing and not self._queue:
            self._spares.retire(worker.process)
            return
        self.workers.append(worker)
        self._serve_queue()

    async def _prepared_worker(self) -> PreparedWorker:
        """A worker another web node prepared for this revision, else one from the generic
        pool prepared here (and offered to the other nodes)."""
        config = self._config
        if self._shared is not None:
            adopted = await self._shared.adopt(self.spec.revision_key, self._processes)
            if adopted is not None:
                return PreparedWorker(adopted, self.spec, config.call_seconds, adopted=True)
        process = await self._spares.obtain(self._environment, self.spec.label)
        try:
            archives = await self._read_archives()
            prepared = await prepare(
                process, self.spec, archives, config.prepare_seconds, config.call_seconds
            )
        except BaseException:
            process.kill()  # it may be running initCode that would keep it busy
            self._spares.retire(process)
            raise
        if self._shared is not None:
            await self._shared.record(self.spec.revision_key, process)
        return prepared

    async def _read_archives(self) -> list[bytes]:
        """The version's snapshot archives, read from the blob store once per pool."""
        async with self._archives_lock:
            if self._archives is None:
                try:
                    self._archives = [
                        await asyncio.to_thread(self._load_blob, blob_id)
                        for blob_id in self.spec.blob_ids
                    ]
                except (O16nError, OSError) as exc:
                    message = f"the snapshot of {self.spec.label} cannot be read: {exc}"
                    raise WorkerError(message) from exc
            return self._archives

    def _on_failure(self, error: BaseException) -> None:
        """Preparing failed. A worker that died is replaced (up to `_START_ATTEMPTS` in a
        row); otherwise (the version's own fault, a deadline, a worker that cannot start)
        waiting calls get the failure if no worker will come, and starts pause for
        `retry_seconds`."""
        died = isinstance(error, WorkerCrashed)
        if died:
            self._metrics.worker_crashed(self.spec.name, self.spec.version)
        self._failed_starts = self._failed_starts + 1 if died else 0
        if 0 < self._failed_starts < _START_ATTEMPTS and self._may_start():
            label = self.spec.label
            _log.warning(
                "a worker for %s died while being prepared, another starts: %s", label, error
            )
            self.top_up()
            return
        self._failure = (time.monotonic() + self._config.retry_seconds, error)
        if not isinstance(error, PrepareFailed):
            _log.warning("cannot start a worker for %s: %s", self.spec.label, error)
        if not self.workers and not self._starting:
            self._fail_waiters(error)
        if self._closing and not self._pending():
            self._settled.set()

    def _fail_waiters(self, error: BaseException) -> None:
        """Every waiting call fails with (a copy of) `error`."""
        while self._queue:
            future = self._queue.popleft()
            if not future.done():
                future.set_exception(_copy(error))

    def _lost(self, worker: PreparedWorker) -> None:
        """A worker died: forget it and replace it; with no replacement coming, fail waiters."""
        if worker not in self.workers:
            return
        self._remove(worker)
        if len(self.workers) + self._starting < self.maximum and self._may_start():
            self._start()
        elif not self.workers and not self._starting:
            message = f"no worker of {self.spec.label} is left"
            self._fail_waiters(crashed(message, never_started=True))

    def _remove(self, worker: PreparedWorker) -> None:
        """Take a worker out of the pool and stop it in the background."""
        if worker in self.workers:
            self.workers.remove(worker)
            self._spares.retire(worker.process)

    def _processes(self) -> list[Worker]:
        """The pool's workers as they are now."""
        return [worker.process for worker in self.workers]

    def _pending(self) -> bool:
        """Calls in flight or waiting."""
        return any(w.load for w in self.workers) or any(not f.done() for f in self._queue)


def _refuse(future: asyncio.Future[PreparedWorker], label: str, seconds: float) -> None:
    """The slot wait's deadline passed: fail the waiting call unless it got a slot."""
    if not future.done():
        future.set_exception(
            CapacityExceeded(
                f"no worker of {label} could take this call within {seconds:g} s "
                "(all busy, or still being prepared); try again later"
            )
        )


def _copy(error: BaseException) -> BaseException:
    """A fresh exception like `error`, to raise in one more caller."""
    if isinstance(error, PrepareFailed):
        return PrepareFailed(error.result)
    if isinstance(error, O16nError):
        with contextlib.suppress(TypeError):
            return type(error)(error.message)
        return WorkerError(error.message)
    return WorkerError(f"cannot start a worker: {error}")
