"""Session-bound interpreters: one worker process and working directory per session."""

from __future__ import annotations

import asyncio
import shutil
from dataclasses import dataclass
from pathlib import Path

from o16n.domain.models import ExecutionResult, JsonValue
from o16n.errors import WorkerProtocolError
from o16n.runtime.limits import WorkerLimits
from o16n.runtime.process import WorkerProcess
from o16n.runtime.sandbox import Identities, reset_root


@dataclass(frozen=True)
class WorkerConfig:
    """Where workers live, their limits and identity, and their deadlines."""

    root: Path
    limits: WorkerLimits
    start_seconds: float
    call_seconds: float
    identities: Identities | None = None


_SCALARS = frozenset({type(None), bool, int, float, str})


def json_value(value: object) -> JsonValue:
    """`value` as JSON data; the worker sends nothing else, so anything else is a violation."""
    if type(value) in _SCALARS:
        return value  # type: ignore[return-value]
    if isinstance(value, list):
        if all(type(item) in _SCALARS for item in value):
            return value  # a flat list (the common output) needs no recursion
        return [json_value(item) for item in value]
    if isinstance(value, dict) and all(isinstance(key, str) for key in value):
        return {key: json_value(item) for key, item in value.items()}
    raise WorkerProtocolError(f"the worker sent a {type(value).__name__} where JSON was due")


def _strings(reply: dict[str, object], key: str) -> list[str]:
    value = reply.get(key)
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise WorkerProtocolError(f"the worker's reply lacks the list of strings {key!r}")
    return list(value)


def _bytes(reply: dict[str, object], key: str) -> bytes:
    value = reply.get(key)
    if not isinstance(value, bytes):
        raise WorkerProtocolError(f"the worker's reply lacks the bytes {key!r}")
    return value


class LocalInterpreter:
    """The Interpreter port on one local worker process."""

    def __init__(self, worker: WorkerProcess, call_seconds: float) -> None:
        self._worker = worker
        self._seconds = call_seconds

    @property
    def alive(self) -> bool:
        """Whether the worker process still runs."""
        return self._worker.alive

    async def execute(
        self, code: str, inputs: dict[str, JsonValue], outputs: list[str]
    ) -> ExecutionResult:
        """Run code in the persistent namespace under the call deadline."""
        result = await self._worker.execute(code, dict(inputs), outputs, self._seconds)
        return ExecutionResult(
            success=result.success,
            console_output=result.console_output,
            error_message=result.error_message,
            outputs=[(name, json_value(value)) for name, value in result.outputs],
            changed_files=result.changed_files,
        )

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
        return _strings(await self._worker.call("file_list", {}, self._seconds), "names")

    async def file_get(self, name: str) -> bytes:
        """A working-directory file's content."""
        reply = await self._worker.call("file_get", {"name": name}, self._seconds)
        return _bytes(reply, "data")

    async def file_put(self, name: str, data: bytes) -> None:
        """Write a working-directory file."""
        await self._worker.call("file_put", {"name": name, "data": data}, self._seconds)

    async def file_delete(self, name: str) -> None:
        """Delete a working-directory file."""
        await self._worker.call("file_delete", {"name": name}, self._seconds)

    async def snapshot(self) -> bytes:
        """Workspace and files as one zip archive, built by the worker."""
        return _bytes(await self._worker.call("snapshot_save", {}, self._seconds), "data")

    async def restore(self, archive: bytes) -> None:
        """Merge a snapshot archive into the namespace and working directory."""
        await self._worker.call("snapshot_load", {"data": archive}, self._seconds)

    def interrupt(self) -> None:
        """KeyboardInterrupt in the running user code."""
        self._worker.interrupt()

    async def close(self, *, force: bool = False) -> None:
        """Stop the worker and remove its working directory."""
        if force:
            self._worker.kill()
        await self._worker.stop()
        await asyncio.to_thread(shutil.rmtree, self._worker.working_dir, True)


class LocalInterpreters:
    """The InterpreterFactory port: worker subprocesses on this machine."""

    def __init__(self, config: WorkerConfig) -> None:
        self._config = config
        reset_root(config.root)

    async def start(self, label: str) -> LocalInterpreter:
        """A ready interpreter working in `root/label`."""
        worker = WorkerProcess(
            self._config.root / label,
            self._config.limits,
            start_timeout=self._config.start_seconds,
            identities=self._config.identities,
        )
        await worker.start()
        return LocalInterpreter(worker, self._config.call_seconds)
