"""The generic pool: blank interpreters started ahead of need, which any version can take.

A blank worker has started, answered `hello` and imported the configured modules (numpy and
pandas by default), so preparing it for a version costs only the snapshot and initCode.
Workers that leave a pool come back here to be stopped and have their folders removed.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import secrets
import shutil
from collections import deque

from o16n.domain.models import Environment
from o16n.errors import O16nError
from o16n.runtime.backend import Worker, WorkerFactory
from o16n.runtime.configuration import PoolConfig
from o16n.runtime.protocol import preload_reply

_log = logging.getLogger("o16n.runtime")


class Spares:
    """Blank workers kept ready (`config.blank` of them), new workers, and retired ones."""

    def __init__(self, config: PoolConfig, factory: WorkerFactory[Worker]) -> None:
        self._config = config
        self._factory = factory
        self._blanks: deque[asyncio.Task[Worker]] = deque()
        self._disposals: set[asyncio.Task[None]] = set()
        self._names = itertools.count()
        self._prefix = f"w{secrets.token_hex(3)}-"
        self._closed = False
        self._warned = False
        self._quiet_until = 0.0  # after a failed start, no blank worker is tried before this

    @property
    def ready(self) -> int:
        """Blank workers started and waiting."""
        return sum(1 for task in self._blanks if _finished(task) is not None)

    def refill(self) -> None:
        """Start blank workers until `config.blank` are ready or starting (on the running loop)."""
        if self._closed:
            return
        for task in list(self._blanks):
            if task.done() and _finished(task) is None:
                self._blanks.remove(task)
                if not task.cancelled() and task.exception() is None:
                    self.retire(task.result())  # started, then died while waiting
        loop = asyncio.get_running_loop()
        if loop.time() < self._quiet_until:
            return
        while len(self._blanks) < self._config.blank:
            task = loop.create_task(self._spawn(preload=True))
            task.add_done_callback(_observe)
            self._blanks.append(task)

    async def obtain(self, environment: Environment | None = None, group: str = "") -> Worker:
        """A started worker: a ready blank one, else one being started, else a new one; on
        an `environment` of its own always a new one."""
        if environment is not None:
            return await self._spawn(preload=False, environment=environment, group=group)
        while self._blanks:
            task = next((t for t in self._blanks if t.done()), self._blanks[0])
            self._blanks.remove(task)
            self.refill()
            try:
                process = await task
            except (O16nError, OSError):
                continue
            if process.alive and process.placed_well:
                return process
            self.retire(process)
        self.refill()
        return await self._spawn(preload=False, group=group)

    def retire(self, process: Worker) -> None:
        """Stop a worker and remove its folder, in the background."""
        task = asyncio.get_running_loop().create_task(self.dispose(process))
        self._disposals.add(task)
        task.add_done_callback(self._disposals.discard)

    async def dispose(self, process: Worker, *, force: bool = False) -> None:
        """Stop a worker (politely, or killed at once with `force`) and remove its folder."""
        if force:
            process.kill()
        try:
            await process.stop()
        finally:
            await asyncio.to_thread(shutil.rmtree, process.working_dir, True)

    async def close(self) -> None:
        """Stop every blank worker and wait for every retired one."""
        self._closed = True
        blanks = list(self._blanks)
        self._blanks.clear()
        for task in blanks:
            task.cancel()
        for result in await asyncio.gather(*blanks, return_exceptions=True):
            if not isinstance(result, BaseException):
                self.retire(result)
        while self._disposals:
            await asyncio.gather(*self._disposals, return_exceptions=True)

    async def _spawn(
        self, *, preload: bool, environment: Environment | None = None, group: str = ""
    ) -> Worker:
        """Start a worker in a new folder; blank ones import the configured modules too."""
        config = self._config
        folder = config.root / f"{self._prefix}{next(self._names)}"
        process = self._factory(
            folder,
            config.limits,
            start_timeout=config.start_seconds,
            identities=config.identities,
            environment=environment,
            group=group,
        )
        try:
            await process.start()
            if preload and config.preload:
                payload: dict[str, object] = {"modules": list(config.preload)}
                timeout = config.start_seconds
                self._warn(await process.request("preload", payload, timeout, preload_reply))
        except BaseException:
            if preload:  # a blank worker: do not try again at once (that would spin)
                self._quiet_until = asyncio.get_running_loop().time() + config.retry_seconds
            self.retire(process)
            raise
        return process

    def _warn(self, failed: object) -> None:
        """Say once which configured modules blank workers cannot import."""
        if failed and not self._warned:
            self._warned = True
            _log.warning("blank workers cannot preload: %s", failed)


def _finished(task: asyncio.Task[Worker]) -> Worker | None:
    """The worker of a task that started one that still runs, else None."""
    if not task.done() or task.cancelled() or task.exception() is not None:
        return None
    process = task.result()
    return process if process.alive else None


def _observe(task: asyncio.Task[Worker]) -> None:
    """Log a blank worker that could not start (and mark its exception retrieved)."""
    if not task.cancelled() and (error := task.exception()) is not None:
        _log.warning("a blank worker could not start: %s", error)
