"""Running batch executions: each record is one consume, at most `parallel_count` at a time
per execution, and at most a share of the version's pool for all batches of the version, so
interactive calls to it keep free slots (and batches alone never fill its queue)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import Counter, deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from o16n.domain.batch_journal import Finished, Journal, Settled, Started
from o16n.domain.models import BatchExecution, BatchState, ConsumeResult, JsonValue, Lease
from o16n.domain.ports import CapacityGauge
from o16n.errors import CapacityExceeded, EnvironmentBuilding, O16nError
from o16n.ids import now

Key = tuple[str, str]
Consume = Callable[[str, str, object], Awaitable[ConsumeResult]]
RecordDone = Callable[[str, str, bool], None]  # service, version, whether the record succeeded
_BUSY_FIRST_WAIT = 0.05
_BUSY_LONGEST_WAIT = 2.0
_log = logging.getLogger("o16n.batch")


@dataclass(frozen=True)
class Work:
    """An execution to run under a lease: its pending records, the version's declared outputs."""

    execution: BatchExecution
    lease: Lease
    outputs: tuple[str, ...]
    output_files: tuple[str, ...]
    pending: tuple[tuple[int, JsonValue], ...]


def failed(message: str, outputs: tuple[str, ...], files: tuple[str, ...]) -> ConsumeResult:
    """The result of a record that could not run (bad input, server-side failure)."""
    return ConsumeResult(
        success=False,
        error_message=message,
        console_output="",
        outputs=dict.fromkeys(outputs),
        output_files=dict.fromkeys(files),
        changed_files=[],
    )


class Gate:
    """Batch calls in flight per version, below a limit that follows the pool's capacity."""

    def __init__(self, limit: Callable[[Key], int]) -> None:
        self._limit = limit
        self._busy: Counter[Key] = Counter()
        self._waiters: dict[Key, deque[asyncio.Future[None]]] = {}

    async def acquire(self, key: Key) -> None:
        """Wait for a free batch slot on the version."""
        while self._busy[key] >= self._limit(key):
            waiter = asyncio.get_running_loop().create_future()
            waiters = self._waiters.setdefault(key, deque())
            waiters.append(waiter)
            try:
                await waiter
            except asyncio.CancelledError:
                if waiter.done() and not waiter.cancelled():
                    self._wake(key)  # pass the wake-up on
                raise
            finally:
                with contextlib.suppress(ValueError):
                    waiters.remove(waiter)
        self._busy[key] += 1

    def release(self, key: Key) -> None:
        """Give a batch slot back."""
        self._busy[key] -= 1
        if not self._busy[key]:
            del self._busy[key]
        self._wake(key)

    def _wake(self, key: Key) -> None:
        for waiter in self._waiters.get(key, ()):
            if not waiter.done():
                waiter.set_result(None)
                return


class BatchRunner:
    """Runs executions as tasks on the event loop; their changes go through the journal."""

    def __init__(
        self,
        consume: Consume,
        gauge: CapacityGauge,
        share: float,
        journal: Journal,
        on_record: RecordDone,
    ) -> None:
        self._consume = consume
        self._on_record = on_record
        self._gauge = gauge
        self._share = share
        self._journal = journal
        self._gate = Gate(self._limit)
        self._tasks: dict[str, tuple[Lease, asyncio.Task[None]]] = {}

    def _limit(self, key: Key) -> int:
        capacity = self._gauge.capacity(*key)
        return max(1, min(int(self._share * capacity.slots), capacity.queue - 1))

    def launch(self, work: Work) -> None:
        """Start running an execution's pending records in the background."""
        task = asyncio.get_running_loop().create_task(self._drive(work))
        execution_id = work.execution.id
        self._tasks[execution_id] = (work.lease, task)

        def forget(_: object) -> None:
            running = self._tasks.get(execution_id)
            if running is not None and running[1] is task:  # not a later run of it
                del self._tasks[execution_id]

        task.add_done_callback(forget)

    def running(self) -> list[Lease]:
        """The leases of the executions running here."""
        return [lease for lease, _ in self._tasks.values()]

    async def stop(self, execution_id: str) -> None:
        """Cancel an execution: records not started never run; returns once it stopped."""
        running = self._tasks.pop(execution_id, None)
        if running is not None:
            running[1].cancel()
            await asyncio.gather(running[1], return_exceptions=True)

    async def close(self) -> None:
        """Stop every execution (their done records are kept) and commit what is journaled."""
        for execution_id in list(self._tasks):
            await self.stop(execution_id)
        await self._journal.flushed()

    async def _drive(self, work: Work) -> None:
        execution, lease = work.execution, work.lease
        key = (execution.service_name, execution.service_version)
        queue = deque(work.pending)
        if execution.state is BatchState.PENDING and queue:
            self._journal.add(Settled(lease, BatchState.IN_PROGRESS, None))
        lanes = min(execution.parallel_count, len(queue))
        try:
            await asyncio.gather(*(self._lane(work, key, queue) for _ in range(lanes)))
        except Exception:
            _log.exception("batch execution %s failed", execution.id)
            self._journal.add(Settled(lease, BatchState.FAILED, now()))
            raise
        self._journal.add(Settled(lease, BatchState.COMPLETE, now()))

    async def _lane(self, work: Work, key: Key, queue: deque[tuple[int, JsonValue]]) -> None:
        while queue:
            await self._gate.acquire(key)
            try:
                if not queue:
                    return
                position, inputs = queue.popleft()
                self._journal.add(Started(work.lease, position))
                outcome = await self._call(work, key, inputs)
                self._journal.add(Finished(work.lease, position, outcome))
                self._on_record(*key, outcome.success)
            finally:
                self._gate.release(key)

    async def _call(self, work: Work, key: Key, inputs: JsonValue) -> ConsumeResult:
        """One consume; a full queue and an environment being built are waited out, any other
        failure fails this record only."""
        wait = _BUSY_FIRST_WAIT
        while True:
            try:
                return await self._consume(key[0], key[1], inputs)
            except (CapacityExceeded, EnvironmentBuilding):
                await asyncio.sleep(wait)
                wait = min(wait * 2, _BUSY_LONGEST_WAIT)
            except O16nError as error:
                return failed(error.message, work.outputs, work.output_files)
            except Exception as error:  # one record must not take the execution down
                _log.exception("batch record of %s/%s failed", *key)
                message = f"internal error: {type(error).__name__}"
                return failed(message, work.outputs, work.output_files)
