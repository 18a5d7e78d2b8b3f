"""Batch executions of a web service: one call per record, run by the server in the background.

Reached through a service: `client.service("Iris").batch(records, parallel_count=10)` starts
one and returns its `Batch` (`AsyncBatch` from an AsyncService); `wait()` polls (with a bounded
backoff, optionally drawing a rich progress bar), `results()` gives one ServiceResult per record
in input order and `frame()` their outputs as a pandas DataFrame. The requests are flows
(`BatchCalls`) that both variants run.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

from o16n.client.connection import AsyncConnection, Connection
from o16n.client.polls import Polls
from o16n.client.request import Flow, Request, json_list
from o16n.client.service import ServiceResult, service_result

FINISHED = frozenset({"Complete", "Failed"})


@dataclass(frozen=True)
class BatchStatus:
    """Where an execution is; `results` has None for records not done (or is empty)."""

    state: str
    completed: int
    total: int
    results: list[ServiceResult | None] = field(default_factory=list)

    @property
    def finished(self) -> bool:
        """Whether no record will run any more (Complete or Failed)."""
        return self.state in FINISHED


def _status(body: object) -> BatchStatus:
    reply = body if isinstance(body, dict) else {}
    results = reply.get("batchExecutionResults")
    return BatchStatus(
        state=str(reply.get("state", "")),
        completed=int(reply.get("completedItemCount", 0)),
        total=int(reply.get("totalItemCount", 0)),
        results=[
            None if item is None else service_result(item)
            for item in (results if isinstance(results, list) else [])
        ],
    )


@dataclass(frozen=True)
class BatchCalls:
    """The requests on one execution of the version at `service_path`, as flows (no I/O)."""

    service_path: str
    id: str

    @staticmethod
    def start(
        service_path: str, records: Sequence[Mapping[str, object]], parallel_count: int
    ) -> Flow[str]:
        """Post the records; the new execution's id."""
        path = f"{service_path}/batch?parallelCount={parallel_count}"
        response = yield Request("POST", path, json=[dict(record) for record in records])
        return str(response.json()["batchExecutionId"])

    @staticmethod
    def listed(service_path: str) -> Flow[list[str]]:
        """The ids of the caller's executions of the version."""
        return [str(item) for item in json_list((yield Request("GET", f"{service_path}/batch")))]

    def _path(self, *parts: object) -> str:
        segments = [quote(str(part), safe="") for part in (self.id, *parts)]
        return "/".join([f"{self.service_path}/batch", *segments])

    def status(self, partial: bool) -> Flow[BatchStatus]:
        """State, counts and (with `partial`, or once finished) the results so far."""
        query = "true" if partial else "false"
        return _status((yield Request("GET", f"{self._path()}?showPartialResult={query}")).json())

    def files(self, index: int) -> Flow[list[str]]:
        """Names of the files record `index` produced."""
        return [str(name) for name in json_list((yield Request("GET", self._path(index, "files"))))]

    def download(self, index: int, file_name: str) -> Flow[bytes]:
        """The content of one file of record `index`."""
        return (yield Request("GET", self._path(index, "files", file_name))).content

    def cancel(self) -> Flow[None]:
        """Stop the execution and delete it."""
        yield Request("DELETE", self._path())


@contextmanager
def _progress(execution_id: str, shown: bool) -> Iterator[Callable[[BatchStatus], object]]:
    """A report function for each poll: a rich progress bar on stderr, or nothing."""
    if not shown:
        yield lambda _: None
        return
    from rich.console import Console
    from rich.progress import Progress

    with Progress(console=Console(stderr=True)) as bar:
        task = bar.add_task(f"batch {execution_id[:8]}", total=None)
        yield lambda s: bar.update(task, completed=s.completed, total=s.total)


def frame_of(results: list[ServiceResult | None]) -> Any:
    """A pandas DataFrame of the outputParameters: one row per record, in input order (empty
    for records not done yet), one column per output (pandas is imported here)."""
    import pandas

    return pandas.DataFrame([result.outputs if result is not None else {} for result in results])


class Batch:
    """One batch execution of a service version."""

    def __init__(self, connection: Connection, calls: BatchCalls) -> None:
        """Refer to the execution `calls` names."""
        self._connection = connection
        self._calls = calls
        self.id = calls.id

    def status(self, *, partial: bool = True) -> BatchStatus:
        """State, counts and (with `partial`, or once finished) the results so far."""
        return self._connection.run(self._calls.status(partial))

    def wait(self, *, progress: bool = False, timeout: float | None = None) -> BatchStatus:
        """Poll until the execution finished (TimeoutError after `timeout` seconds); with
        `progress`, a progress bar on standard error."""
        polls = Polls(f"batch {self.id}", timeout)
        with _progress(self.id, progress) as report:
            while not (status := self.status(partial=False)).finished:
                report(status)
                time.sleep(polls.pause(status.state))
            report(status)
        return self.status()

    def results(self) -> list[ServiceResult | None]:
        """One ServiceResult per record in input order (None: not done yet)."""
        return self.status().results

    def frame(self) -> Any:
        """The outputs as a pandas DataFrame, one row per record (see `frame_of`)."""
        return frame_of(self.results())

    def files(self, index: int) -> list[str]:
        """Names of the files record `index` (0-based) produced."""
        return self._connection.run(self._calls.files(index))

    def download(self, index: int, file_name: str, to: Path | None = None) -> bytes:
        """The content of one file of record `index`; written to `to` as well when given."""
        content = self._connection.run(self._calls.download(index, file_name))
        if to is not None:
            Path(to).write_bytes(content)
        return content

    def cancel(self) -> None:
        """Stop the execution (records not started never run) and delete it."""
        self._connection.run(self._calls.cancel())

    def __repr__(self) -> str:
        """`Batch('execution id')`."""
        return f"Batch({self.id!r})"


class AsyncBatch:
    """One batch execution of a service version, for asyncio: Batch's methods, awaited."""

    def __init__(self, connection: AsyncConnection, calls: BatchCalls) -> None:
        """Refer to the execution `calls` names."""
        self._connection = connection
        self._calls = calls
        self.id = calls.id

    async def status(self, *, partial: bool = True) -> BatchStatus:
        """State, counts and (with `partial`, or once finished) the results so far."""
        return await self._connection.run(self._calls.status(partial))

    async def wait(self, *, progress: bool = False, timeout: float | None = None) -> BatchStatus:
        """Poll until the execution finished (TimeoutError after `timeout` seconds)."""
        polls = Polls(f"batch {self.id}", timeout)
        with _progress(self.id, progress) as report:
            while not (status := await self.status(partial=False)).finished:
                report(status)
                await asyncio.sleep(polls.pause(status.state))
            report(status)
        return await self.status()

    async def results(self) -> list[ServiceResult | None]:
        """One ServiceResult per record in input order (None: not done yet)."""
        return (await self.status()).results

    async def frame(self) -> Any:
        """The outputs as a pandas DataFrame, one row per record (see `frame_of`)."""
        return frame_of(await self.results())

    async def files(self, index: int) -> list[str]:
        """Names of the files record `index` (0-based) produced."""
        return await self._connection.run(self._calls.files(index))

    async def download(self, index: int, file_name: str, to: Path | None = None) -> bytes:
        """The content of one file of record `index`; written to `to` as well when given."""
        content = await self._connection.run(self._calls.download(index, file_name))
        if to is not None:
            Path(to).write_bytes(content)
        return content

    async def cancel(self) -> None:
        """Stop the execution (records not started never run) and delete it."""
        await self._connection.run(self._calls.cancel())

    def __repr__(self) -> str:
        """`AsyncBatch('execution id')`."""
        return f"AsyncBatch({self.id!r})"
