"""The web-process side of one worker's lifecycle: spawn, handshake, requests, signals, exit.

What a request means belongs to its user (sessions: `interpreters`, services: `service_worker`);
this module only sends it and reads the reply through a typed decoder of `protocol`.

Runs on the caller's asyncio event loop (no threads of its own: the exit is watched through a
pidfd). When the worker dies, every
call in flight fails at once with WorkerCrashed; when a call passes its deadline the worker is
killed, that call fails with WorkerTimeout and the calls queued behind it with WorkerCrashed
flagged `never_started` (see `pipeline.never_started`), which a pool may retry elsewhere.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import os
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Generic, TypeVar

from o16n.domain.models import Environment
from o16n.errors import O16nError, WorkerError, WorkerProtocolError
from o16n.runtime.backend import decoded
from o16n.runtime.child import Child
from o16n.runtime.limits import WorkerLimits
from o16n.runtime.pipeline import Pipeline, crashed, never_started
from o16n.runtime.protocol import (
    DEFAULT_MAX_FRAME,
    PROTOCOL_VERSION,
    empty_reply,
    hello_reply,
)
from o16n.runtime.sandbox import Identities, Identity, exit_description, launch

__all__ = ["SERVER_PYTHON_WORKERS", "LocalWorkers", "WorkerProcess", "never_started"]

_STDERR_TAIL = 4096
_EXIT_GRACE = 1.0
_T = TypeVar("_T")
_P = TypeVar("_P", bound="WorkerProcess")


class WorkerProcess:
    """One worker subprocess and the pipelined request channel to it."""

    def __init__(
        self,
        working_dir: Path | str,
        limits: WorkerLimits | None = None,
        *,
        max_frame: int = DEFAULT_MAX_FRAME,
        start_timeout: float = 30.0,
        executable: str = sys.executable,
        identities: Identities | None = None,
    ) -> None:
        self.working_dir = Path(working_dir)
        self.limits = limits if limits is not None else WorkerLimits()
        self._identities = identities or Identities(self.limits.user)
        self._owner: Identity | None = None
        self.max_frame = max_frame
        self.start_timeout = start_timeout
        self.executable = executable
        self._proc: Child | None = None
        self._pipeline: Pipeline | None = None
        self._stderr: int | None = None
        self._stderr_tail = bytearray()
        self._exit_task: asyncio.Task[None] | None = None
        self._reaper: asyncio.TimerHandle | None = None

    @property
    def pid(self) -> int | None:
        """The worker's process id (None before start)."""
        return None if self._proc is None else self._proc.pid

    @property
    def returncode(self) -> int | None:
        """Exit status once the worker has exited (negative: killed by that signal)."""
        return None if self._proc is None else self._proc.returncode

    @property
    def alive(self) -> bool:
        """Whether the worker runs and accepts calls."""
        pipeline = self._pipeline
        return pipeline is not None and pipeline.open and self.returncode is None

    @property
    def placed_well(self) -> bool:
        """Always: a local worker runs on the one compute node."""
        return True

    @property
    def in_flight(self) -> int:
        """Calls sent and not yet answered (the first one is running)."""
        return 0 if self._pipeline is None else self._pipeline.in_flight

    async def unused_for(self) -> float:
        """Infinite: only this web node calls a local worker (its pool's clock decides)."""
        return math.inf

    async def exited(self) -> int | None:
        """Return once the worker has exited (its return code; None if it never started)."""
        if self._exit_task is not None:
            await asyncio.shield(self._exit_task)
        return self.returncode

    async def __aenter__(self) -> WorkerProcess:
        """Start the worker."""
        await self.start()
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        """Stop the worker."""
        await self.stop()

    async def start(self) -> None:
        """Spawn the worker and complete the hello handshake within `start_timeout` seconds."""
        if self._proc is not None:
            raise RuntimeError("this worker was already started")
        loop = asyncio.get_running_loop()
        self._owner = self._identities.acquire()
        try:
            self._proc, sock, self._stderr = launch(
                self.executable, self.working_dir, self.limits, self._owner
            )
        except BaseException:
            self._identities.release(self._owner)
            raise
        self._pipeline = Pipeline(sock, self.max_frame, self._kill_group, self._on_closed)
        os.set_blocking(self._stderr, False)
        loop.add_reader(self._stderr, self._on_stderr)
        self._exit_task = loop.create_task(self._watch_exit())
        hello = {"version": PROTOCOL_VERSION, "max_frame": self.max_frame}
        try:
            payload = hello | self.limits.to_payload()
            pid = await self.request("hello", payload, self.start_timeout, hello_reply)
            if pid != self._proc.pid:
                raise WorkerProtocolError(f"the worker says its pid is {pid}, not {self._proc.pid}")
        except BaseException:
            self.kill()
            await asyncio.shield(self._exit_task)
            raise

    async def call(
        self, kind: str, payload: dict[str, object], timeout: float
    ) -> dict[str, object]:
        """Send one request and await its reply payload; error replies raise O16nError types.

        `timeout` (seconds, may be math.inf) counts from when the worker starts the call.
        """
        if self._pipeline is None:
            raise crashed("the worker is not started", never_started=True)
        return await self._pipeline.call(kind, payload, timeout)

    async def request(
        self,
        kind: str,
        payload: dict[str, object],
        timeout: float,
        reply: Callable[[dict[str, object]], _T],
    ) -> _T:
        """One request, its reply read by the typed decoder `reply` (see `protocol`): the one
        way the web process reads a worker's reply; any mismatch kills the worker."""
        return decoded(await self.call(kind, payload, timeout), reply, self._broke_protocol)

    def _broke_protocol(self, error: WorkerProtocolError) -> None:
        """Kill the worker; the calls in flight fail (those behind it may be retried)."""
        self._kill_group()
        if self._pipeline is not None:
            self._pipeline.fail(error)

    def interrupt(self) -> None:
        """Send SIGINT to the worker's process group: the running execute stops with an error."""
        self._signal(signal.SIGINT)

    def kill(self) -> None:
        """SIGKILL the worker's process group; calls in flight fail with WorkerCrashed now."""
        self._kill_group()
        if self._proc is not None and self._pipeline is not None:
            message = f"the worker (pid {self._proc.pid}) was killed"
            self._pipeline.fail(crashed(message, never_started=False))

    def abort(self, error: O16nError) -> None:
        """SIGKILL the worker's process group; every call in flight fails with `error` now."""
        self._kill_group()
        if self._pipeline is not None:
            self._pipeline.fail(error, behind=error)

    async def stop(self, grace: float = 2.0) -> None:
        """Stop politely (shutdown request), then SIGTERM, then SIGKILL; wait for the exit."""
        if self._exit_task is None:
            return
        if self.alive:
            with contextlib.suppress(O16nError, TimeoutError):
                await asyncio.wait_for(self.request("shutdown", {}, grace, empty_reply), grace)
        for escalation in (signal.SIGTERM, signal.SIGKILL):
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(self._exit_task), grace)
                break
            self._signal(escalation)
        await self._exit_task

    def _signal(self, signum: signal.Signals) -> None:
        """Signal the worker's process group while the worker has not been reaped."""
        if self._proc is not None and self._proc.returncode is None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self._proc.pid, signum)

    def _kill_group(self) -> None:
        """SIGKILL the worker's process group (it and whatever user code started)."""
        self._signal(signal.SIGKILL)

    def _on_closed(self) -> None:
        """The worker closed its channel: it is exiting, or gets killed after a short grace."""
        if self._reaper is None:
            self._reaper = asyncio.get_running_loop().call_later(_EXIT_GRACE, self._kill_group)

    def _on_stderr(self) -> None:
        """Keep the last few KiB the worker wrote to its stderr, for crash messages."""
        if self._stderr is None:
            return
        try:
            data = os.read(self._stderr, 65536)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if not data:
            self._close_stderr()
            return
        self._stderr_tail += data
        del self._stderr_tail[:-_STDERR_TAIL]

    def _close_stderr(self) -> None:
        """Stop following the worker's stderr."""
        if self._stderr is not None:
            asyncio.get_running_loop().remove_reader(self._stderr)
            os.close(self._stderr)
            self._stderr = None

    async def _watch_exit(self) -> None:
        """When the worker exits: take its last replies, then fail what is still in flight."""
        assert self._proc is not None and self._pipeline is not None
        returncode = await self._proc.wait()
        if self._reaper is not None:
            self._reaper.cancel()
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self._proc.pid, signal.SIGKILL)  # what user code left running in the group
        self._pipeline.receive()
        for _ in range(64):
            if self._stderr is None:
                break
            self._on_stderr()
        message = exit_description(self._proc.pid, returncode, bytes(self._stderr_tail))
        self._pipeline.fail(crashed(message, never_started=False))
        self._close_stderr()
        self._identities.release(self._owner)


class LocalWorkers(Generic[_P]):
    """The local backend's WorkerFactory: worker processes of `kind` on this machine, on the
    server's Python or on that of an environment built here (`interpreter_of`)."""

    def __init__(
        self, kind: type[_P], interpreter_of: Callable[[Environment], str] | None = None
    ) -> None:
        self._kind = kind
        self._interpreter_of = interpreter_of

    def __call__(
        self,
        working_dir: Path,
        limits: WorkerLimits,
        *,
        start_timeout: float,
        identities: Identities | None,
        environment: Environment | None,
        group: str = "",
    ) -> _P:
        """An unstarted worker process (`group` is ignored: one machine, nothing to spread)."""
        return self._kind(
            working_dir,
            limits,
            start_timeout=start_timeout,
            executable=self._executable(environment),
            identities=identities,
        )

    def _executable(self, environment: Environment | None) -> str:
        if environment is None:
            return sys.executable
        if self._interpreter_of is None:
            raise WorkerError("Python environments of their own are not provided here")
        return self._interpreter_of(environment)


SERVER_PYTHON_WORKERS = LocalWorkers(WorkerProcess)  # local, without environments of their own
