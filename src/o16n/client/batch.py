"""Batch executions of a web service: one call per record, run by the server in the background.

Reached through a service: `client.service("Iris").batch(records, parallel_count=10)` starts
one and returns its `Batch`; `wait()` polls (with a bounded backoff, optionally drawing a rich
progress bar), `results()` gives one ServiceResult per record in input order and `frame()`
their outputs as a pandas DataFrame.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

from o16n.client.connection import Connection
from o16n.client.service import ServiceResult, service_result

FINISHED = frozenset({"Complete", "Failed"})
_FIRST_POLL = 0.1
_LONGEST_POLL = 2.0


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


class Batch:
    """One batch execution of a service version."""

    def __init__(self, connection: Connection, service_path: str, execution_id: str) -> None:
        """Refer to execution `execution_id` of the version at `service_path` (/api/NAME/V)."""
        self._connection = connection
        self._base = f"{service_path}/batch"
        self.id = execution_id

    @classmethod
    def start(
        cls,
        connection: Connection,
        service_path: str,
        records: Sequence[Mapping[str, object]],
        parallel_count: int,
    ) -> Batch:
        """Post the records and return the started execution."""
        response = connection.request(
            "POST",
            f"{service_path}/batch?parallelCount={parallel_count}",
            json=[dict(record) for record in records],
        )
        return cls(connection, service_path, str(response.json()["batchExecutionId"]))

    @classmethod
    def listed(cls, connection: Connection, service_path: str) -> list[Batch]:
        """The caller's executions of the version."""
        ids = connection.request("GET", f"{service_path}/batch").json()
        return [cls(connection, service_path, str(execution_id)) for execution_id in ids]

    def _path(self, *parts: object) -> str:
        segments = [quote(str(part), safe="") for part in (self.id, *parts)]
        return "/".join([self._base, *segments])

    def status(self, *, partial: bool = True) -> BatchStatus:
        """State, counts and (with `partial`, or once finished) the results so far."""
        query = "true" if partial else "false"
        return _status(
            self._connection.request("GET", f"{self._path()}?showPartialResult={query}").json()
        )

    def wait(self, *, progress: bool = False, timeout: float | None = None) -> BatchStatus:
        """Poll until the execution finished (TimeoutError after `timeout` seconds); with
        `progress`, a progress bar on standard error."""
        deadline = None if timeout is None else time.monotonic() + timeout
        if not progress:
            return self._poll(deadline, lambda _: None)
        from rich.console import Console
        from rich.progress import Progress

        with Progress(console=Console(stderr=True)) as bar:
            task = bar.add_task(f"batch {self.id[:8]}", total=None)
            return self._poll(
                deadline, lambda s: bar.update(task, completed=s.completed, total=s.total)
            )

    def _poll(self, deadline: float | None, report: Callable[[BatchStatus], object]) -> BatchStatus:
        pause = _FIRST_POLL
        while True:
            status = self.status(partial=False)
            report(status)
            if status.finished:
                return self.status()
            if deadline is not None and time.monotonic() + pause > deadline:
                raise TimeoutError(f"batch {self.id} is still {status.state}")
            time.sleep(pause)
            pause = min(pause * 1.5, _LONGEST_POLL)

    def results(self) -> list[ServiceResult | None]:
        """One ServiceResult per record in input order (None: not done yet)."""
        return self.status().results

    def frame(self) -> Any:
        """A pandas DataFrame of the outputParameters: one row per record, in input order
        (empty for records not done yet), one column per output (pandas is imported here)."""
        import pandas

        rows = [result.outputs if result is not None else {} for result in self.results()]
        return pandas.DataFrame(rows)

    def files(self, index: int) -> list[str]:
        """Names of the files record `index` (0-based) produced."""
        names = self._connection.request("GET", self._path(index, "files")).json()
        return [str(name) for name in names]

    def download(self, index: int, file_name: str, to: Path | None = None) -> bytes:
        """The content of one file of record `index`; written to `to` as well when given."""
        content = self._connection.request("GET", self._path(index, "files", file_name)).content
        if to is not None:
            Path(to).write_bytes(content)
        return content

    def cancel(self) -> None:
        """Stop the execution (records not started never run) and delete it."""
        self._connection.request("DELETE", self._path())

    def __repr__(self) -> str:
        """`Batch('execution id')`."""
        return f"Batch({self.id!r})"
