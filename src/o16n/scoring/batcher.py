"""Adaptive batching: concurrent calls of one version merged into one model run."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from concurrent.futures import Executor
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from o16n.domain.models import Batching
from o16n.errors import ScoringTimeout
from o16n.metrics import Metrics
from o16n.scoring.frame import Feeds

Outputs = list[object]
INLINE_SECONDS = 0.0005  # a run expected to be shorter runs on the event loop: a hop costs more
_SMOOTHING = 0.2


@dataclass
class Tally:
    """Calls answered and model runs made (a run serves one or more calls)."""

    calls: int = 0
    runs: int = 0


class Runner(Protocol):
    """One loaded model."""

    def run(self, feeds: Feeds) -> Outputs:
        """The model's outputs for `feeds`."""

    def stop(self, stopping: bool) -> None:
        """Make the run in progress (and any started before `stop(False)`) end at once."""


@dataclass(frozen=True)
class Threads:
    """What every batcher shares: the scoring threads, the deadline of a run in them, the tally
    and the metrics."""

    executor: Executor
    deadline_seconds: float
    tally: Tally
    metrics: Metrics


@dataclass
class _Call:
    feeds: Feeds
    rows: int
    answer: asyncio.Future[Outputs] = field(repr=False)


def _merged(calls: list[_Call]) -> Feeds:
    names = calls[0].feeds
    return {name: np.concatenate([call.feeds[name] for call in calls]) for name in names}


def _split(outputs: Outputs, calls: list[_Call]) -> list[Outputs] | None:
    """Each call's rows of every output; None when an output is not one row per input row."""
    total = sum(call.rows for call in calls)
    for output in outputs:
        if not isinstance(output, np.ndarray | list) or len(output) != total:
            return None
    parts: list[Outputs] = []
    start = 0
    for call in calls:
        parts.append([output[start : start + call.rows] for output in outputs])  # type: ignore[index]
        start += call.rows
    return parts


class Batcher:
    """Queues the calls of one version and runs them, merged, one run at a time.

    A run takes the calls queued while the previous run went on (up to `max_rows` rows, a
    larger call runs alone); with `max_wait_ms` > 0 a short batch first waits that long for
    more. When a merged run fails, its calls run one by one, so a bad call fails alone.
    Runs go to the scoring threads, except (with `inline`, for models without loops) those
    that the model's measured time per row says are shorter than INLINE_SECONDS: handing those
    to a thread would cost more than the run. A run in a thread past the deadline is stopped
    and fails its calls with ScoringTimeout (they are not retried).
    """

    def __init__(
        self, runner: Runner, batching: Batching, threads: Threads, *, inline: bool
    ) -> None:
        self._runner = runner
        self._batching = batching
        self._threads = threads
        self._tally = threads.tally
        self._metrics = threads.metrics
        self._queue: deque[_Call] = deque()
        self._queued_rows = 0
        self._draining = False
        self._inline = inline
        self._seconds_per_row: float | None = None  # unknown until the first run
        self._drainer: asyncio.Task[None] | None = None

    async def score(self, feeds: Feeds, rows: int) -> Outputs:
        """This call's outputs, each with exactly its own rows."""
        answer: asyncio.Future[Outputs] = asyncio.get_running_loop().create_future()
        self._queue.append(_Call(feeds, rows, answer))
        self._queued_rows += rows
        if not self._draining:
            self._draining = True
            self._drainer = asyncio.get_running_loop().create_task(self._drain())
        return await answer

    async def _drain(self) -> None:
        try:
            while self._queue:
                wait = self._batching.max_wait_ms
                if wait > 0 and self._queued_rows < self._batching.max_rows:
                    await asyncio.sleep(wait / 1000)
                await self._serve(self._take())
        finally:
            self._draining = False

    def _take(self) -> list[_Call]:
        calls = [self._queue.popleft()]
        rows = calls[0].rows
        while self._queue and rows + self._queue[0].rows <= self._batching.max_rows:
            rows += self._queue[0].rows
            calls.append(self._queue.popleft())
        self._queued_rows -= rows
        return calls

    async def _execute(self, feeds: Feeds, rows: int) -> Outputs:
        known = self._seconds_per_row
        if self._inline and known is not None and known * rows < INLINE_SECONDS:
            return self._timed(feeds, rows)
        loop = asyncio.get_running_loop()
        running = loop.run_in_executor(self._threads.executor, self._timed, feeds, rows)
        try:
            return await asyncio.wait_for(asyncio.shield(running), self._threads.deadline_seconds)
        except TimeoutError:
            self._runner.stop(True)
            with contextlib.suppress(Exception):
                await running
            self._runner.stop(False)
        raise ScoringTimeout(
            f"the model ran longer than {self._threads.deadline_seconds:g} s and was stopped"
        )

    def _timed(self, feeds: Feeds, rows: int) -> Outputs:
        started = time.perf_counter()
        outputs = self._runner.run(feeds)
        seconds = time.perf_counter() - started
        self._metrics.model_run(seconds)
        per_row = seconds / max(rows, 1)
        known = self._seconds_per_row
        self._seconds_per_row = per_row if known is None else known + _SMOOTHING * (per_row - known)
        return outputs

    async def _serve(self, calls: list[_Call]) -> None:
        parts: list[Outputs] | None = None
        if len(calls) > 1:
            try:
                rows = sum(call.rows for call in calls)
                outputs = await self._execute(_merged(calls), rows)
                parts = _split(outputs, calls)
            except ScoringTimeout as error:
                _fail(calls, error)  # one by one, each would take as long again
                return
            except Exception:  # a bad call among them: each runs alone below
                parts = None
        if parts is None:
            await self._one_by_one(calls)
            return
        self._answered(len(calls))
        for call, part in zip(calls, parts, strict=True):
            if not call.answer.done():
                call.answer.set_result(part)

    def _answered(self, calls: int) -> None:
        """One run answered `calls` calls."""
        self._tally.runs += 1
        self._tally.calls += calls
        self._metrics.realtime_batch(calls)

    async def _one_by_one(self, calls: list[_Call]) -> None:
        for call in calls:
            try:
                outputs = await self._execute(call.feeds, call.rows)
            except Exception as error:  # the caller gets it
                _fail([call], error)
                continue
            self._answered(1)
            if not call.answer.done():
                call.answer.set_result(outputs)


def _fail(calls: list[_Call], error: Exception) -> None:
    for call in calls:
        if not call.answer.done():
            call.answer.set_exception(error)
