"""Session-bound interpreters: one worker process and working directory per session."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, TypeVar, cast

from o16n.domain.models import ExecutionResult, JsonValue, Session
from o16n.errors import WorkerError
from o16n.ids import SessionId, UserId
from o16n.runtime.backend import Worker, WorkerFactory
from o16n.runtime.journal import SessionJournal
from o16n.runtime.limits import WorkerLimits
from o16n.runtime.process import LocalWorkers, WorkerProcess
from o16n.runtime.protocol import (
    ExecuteResult,
    data_reply,
    dump_reply,
    empty_reply,
    names_reply,
    restored_reply,
)
from o16n.runtime.sandbox import Identities, reset_root


@dataclass(frozen=True)
class WorkerConfig:
    """Where workers live, their limits and identity, and their deadlines."""

    root: Path
    limits: WorkerLimits
    start_seconds: float
    call_seconds: float
    identities: Identities | None = None


_T = TypeVar("_T")


class _Requesting(Protocol):
    async def request(
        self,
        kind: str,
        payload: dict[str, object],
        timeout: float,
        reply: Callable[[dict[str, object]], _T],
    ) -> _T: ...


class SessionRequests:
    """The session request kinds, mixed into a backend's worker (anything with `request`)."""

    async def execute(
        self: _Requesting, code: str, inputs: dict[str, object], outputs: list[str], timeout: float
    ) -> ExecuteResult:
        """Run code in the worker's namespace with inputs bound; read the named outputs."""
        payload: dict[str, object] = {"code": code, "inputs": inputs, "outputs": outputs}
        return await self.request("execute", payload, timeout, ExecuteResult.from_payload)

    async def workspace_names(self: _Requesting, timeout: float) -> list[str]:
        """The names of the user objects in the worker's namespace."""
        return await self.request("workspace_list", {}, timeout, names_reply)

    async def workspace_get(self: _Requesting, name: str, timeout: float) -> bytes:
        """One object of the namespace as dill bytes (NotFound if there is none)."""
        return await self.request("workspace_get", {"name": name}, timeout, data_reply)

    async def workspace_put(self: _Requesting, name: str, data: bytes, timeout: float) -> None:
        """Unpickle dill bytes in the worker as global `name` (InvalidInput if they fail)."""
        await self.request("workspace_put", {"name": name, "data": data}, timeout, empty_reply)

    async def workspace_delete(self: _Requesting, name: str, timeout: float) -> None:
        """Remove a global from the namespace (NotFound if there is none)."""
        await self.request("workspace_delete", {"name": name}, timeout, empty_reply)

    async def workspace_dump(self: _Requesting, timeout: float) -> tuple[bytes, list[str]]:
        """All picklable user objects as one dill blob, and the names left out."""
        return await self.request("workspace_dump", {}, timeout, dump_reply)

    async def workspace_load(self: _Requesting, data: bytes, timeout: float) -> list[str]:
        """Merge a workspace_dump blob into the namespace; the names it brought."""
        return await self.request("workspace_load", {"data": data}, timeout, names_reply)


class SessionWorker(SessionRequests, WorkerProcess):
    """A local worker process driven as a session's interpreter."""


SERVER_PYTHON_SESSIONS = LocalWorkers(SessionWorker)  # local, without environments of their own


class SessionBackendWorker(Worker, Protocol):
    """A backend's worker with the session request kinds."""

    async def execute(
        self, code: str, inputs: dict[str, object], outputs: list[str], timeout: float
    ) -> ExecuteResult:
        """Run code in the session's namespace."""
        ...

    async def workspace_names(self, timeout: float) -> list[str]:
        """Names of the user objects."""
        ...

    async def workspace_get(self, name: str, timeout: float) -> bytes:
        """One object as dill bytes."""
        ...

    async def workspace_put(self, name: str, data: bytes, timeout: float) -> None:
        """Bind dill bytes as a global."""
        ...

    async def workspace_delete(self, name: str, timeout: float) -> None:
        """Remove a global."""
        ...


class SessionKeeper(Protocol):
    """Where a session's worker and journal are kept: this web process (local), or an actor
    that every web node reaches (Ray)."""

    @property
    def worker(self) -> SessionBackendWorker:
        """The session's current worker."""
        ...

    def used(self) -> None:
        """Note a use now."""
        ...

    async def began(self, code: str) -> None:
        """An execution of `code` starts (it joins the history)."""
        ...

    async def ended(self, console_output: str) -> None:
        """The last execution finished with this console output."""
        ...

    async def history(self) -> list[str]:
        """The code executed, oldest first."""
        ...

    async def console_output(self) -> str:
        """The console output of the last finished execution."""
        ...

    async def idle_seconds(self) -> float:
        """Seconds since the last use (0 while a call runs)."""
        ...

    async def restart(self) -> None:
        """Replace the worker by a fresh one (empty workspace)."""
        ...


class LocalKeeper:
    """A session kept in this web process: its worker, and a journal in memory."""

    def __init__(
        self,
        worker: SessionBackendWorker,
        start_worker: Callable[[], Awaitable[SessionBackendWorker]],
    ) -> None:
        self._worker = worker
        self._start_worker = start_worker
        self._journal = SessionJournal()

    @property
    def worker(self) -> SessionBackendWorker:
        """The session's current worker process."""
        return self._worker

    def used(self) -> None:
        """Note a use now."""
        self._journal.used()

    async def began(self, code: str) -> None:
        """An execution of `code` starts."""
        self._journal.began(code)

    async def ended(self, console_output: str) -> None:
        """The last execution finished."""
        self._journal.ended(console_output)

    async def history(self) -> list[str]:
        """The code executed, oldest first."""
        return list(self._journal.history)

    async def console_output(self) -> str:
        """The last execution's console output."""
        return self._journal.console_output

    async def idle_seconds(self) -> float:
        """Seconds since the last use."""
        return self._journal.idle_seconds()

    async def restart(self) -> None:
        """Kill the worker, empty its folder and start a new one there."""
        await close_worker(self._worker, force=True)
        self._worker = await self._start_worker()


async def close_worker(worker: Worker, *, force: bool) -> None:
    """Stop a worker (at once with `force`) and remove its working directory."""
    if force:
        worker.kill()
    await worker.stop()
    await asyncio.to_thread(shutil.rmtree, worker.working_dir, True)


class WorkerInterpreter:
    """The Interpreter port on a session's keeper (of whichever backend)."""

    def __init__(self, keeper: SessionKeeper, call_seconds: float) -> None:
        self._keeper = keeper
        self._seconds = call_seconds

    @property
    def _worker(self) -> SessionBackendWorker:
        return self._keeper.worker

    @property
    def alive(self) -> bool:
        """Whether the worker process still runs."""
        return self._worker.alive

    async def execute(
        self, code: str, inputs: dict[str, JsonValue], outputs: list[str]
    ) -> ExecutionResult:
        """Run code in the persistent namespace under the call deadline; the history and
        the last console output record it (an empty one when the worker failed)."""
        await self._keeper.began(code)
        try:
            result = await self._worker.execute(code, dict(inputs), outputs, self._seconds)
        except WorkerError:
            await self._keeper.ended("")
            raise
        await self._keeper.ended(result.console_output)
        return ExecutionResult(
            success=result.success,
            console_output=result.console_output,
            error_message=result.error_message,
            outputs=[(name, cast(JsonValue, value)) for name, value in result.outputs],
            changed_files=result.changed_files,
        )

    def used(self) -> None:
        """Note a use now."""
        self._keeper.used()

    async def idle_seconds(self) -> float:
        """Seconds since the last use."""
        return await self._keeper.idle_seconds()

    async def history(self) -> list[str]:
        """The code executed, oldest first."""
        return await self._keeper.history()

    async def console_output(self) -> str:
        """The last execution's console output."""
        return await self._keeper.console_output()

    async def restart(self) -> None:
        """A fresh worker with an empty workspace."""
        await self._keeper.restart()

    async def workspace_names(self) -> list[str]:
        """Names of the user objects."""
        return await self._worker.workspace_names(self._seconds)

    async def workspace_get(self, name: str) -> bytes:
        """One object as dill bytes."""
        return await self._worker.workspace_get(name, self._seconds)

    async def workspace_put(self, name: str, data: bytes) -> None:
        """Unpickle in the worker and bind as `name`."""
        await self._worker.workspace_put(name, data, self._seconds)

    async def workspace_delete(self, name: str) -> None:
        """Remove an object."""
        await self._worker.workspace_delete(name, self._seconds)

    async def file_names(self) -> list[str]:
        """Files in the working directory."""
        return await self._worker.request("file_list", {}, self._seconds, names_reply)

    async def file_get(self, name: str) -> bytes:
        """A working-directory file's content."""
        return await self._worker.request("file_get", {"name": name}, self._seconds, data_reply)

    async def file_put(self, name: str, data: bytes) -> None:
        """Write a working-directory file."""
        payload: dict[str, object] = {"name": name, "data": data}
        await self._worker.request("file_put", payload, self._seconds, empty_reply)

    async def file_delete(self, name: str) -> None:
        """Delete a working-directory file."""
        await self._worker.request("file_delete", {"name": name}, self._seconds, empty_reply)

    async def snapshot(self) -> bytes:
        """Workspace and files as one zip archive, built by the worker."""
        data, _ = await self._worker.request("snapshot_save", {}, self._seconds, dump_reply)
        return data

    async def restore(self, archive: bytes) -> None:
        """Merge a snapshot archive into the namespace and working directory."""
        payload: dict[str, object] = {"data": archive}
        await self._worker.request("snapshot_load", payload, self._seconds, restored_reply)

    def interrupt(self) -> None:
        """KeyboardInterrupt in the running user code."""
        self._worker.interrupt()

    async def close(self, *, force: bool = False) -> None:
        """Stop the worker and remove its working directory."""
        await close_worker(self._worker, force=force)


class SessionInterpreters:
    """The InterpreterFactory port on a runtime backend whose workers only this web process
    reaches (made by `make_worker`: local subprocesses on the server's Python by default)."""

    shared = False  # each web node's sessions are its own

    def __init__(
        self,
        config: WorkerConfig,
        make_worker: WorkerFactory[SessionBackendWorker] = SERVER_PYTHON_SESSIONS,
    ) -> None:
        self._config = config
        self._make_worker = make_worker
        reset_root(config.root)

    async def start(self, session: Session) -> WorkerInterpreter:
        """A ready interpreter working in `root/<session id>`, on the session's environment."""

        async def start_worker() -> SessionBackendWorker:
            worker = self._make_worker(
                self._config.root / session.id,
                self._config.limits,
                start_timeout=self._config.start_seconds,
                identities=self._config.identities,
                environment=session.environment,
            )
            await worker.start()
            return worker

        keeper = LocalKeeper(await start_worker(), start_worker)
        return WorkerInterpreter(keeper, self._config.call_seconds)

    async def adopt(self, session_id: str, owner_id: UserId | None) -> None:
        """None: no other web node's session is reachable from here."""
        return None

    async def session_ids(self) -> list[tuple[SessionId, UserId]]:
        """Not shared: the domain counts its own sessions."""
        return []

    async def forget(self, session_id: str) -> None:
        """Nothing is kept of a closed session here."""
