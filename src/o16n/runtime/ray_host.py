"""The Ray actor that hosts one worker on whichever node Ray placed it: a relay, not a worker.

The actor runs o16n's code only. It starts the same worker as the local backend on its own
node (`process.WorkerProcess`: same launch, limits, unprivileged identity, scrubbed
environment, deadlines), on the Python of the version's environment when it has one (built on
this node first: `environments.node_builds`), and relays each request to it and its reply
back. User code never
runs in the actor; what the web process receives from it (through Ray, which pickles) is the
reply as msgpack bytes, or an error as plain values, both made by this relay.
"""

from __future__ import annotations

import asyncio
import shutil
import sys
import time
from pathlib import Path
from typing import Protocol

import msgpack

from o16n.domain.models import Environment
from o16n.errors import O16nError, WorkerError
from o16n.runtime.limits import WorkerLimits
from o16n.runtime.pipeline import never_started, reply_code
from o16n.runtime.process import WorkerProcess
from o16n.runtime.sandbox import Identities, open_root

# What a relayed call answers: ("reply", msgpack bytes) or ("error", code, message, flags).
Relayed = tuple[str, bytes] | tuple[str, str, str, bool, str | None]


class NodeBuilds(Protocol):
    """How a node makes an environment's Python (`environments.node_builds.NodeBuilds`)."""

    @property
    def build_seconds(self) -> float:
        """How long one build may take."""
        ...

    def interpreter(self, environment: Environment) -> str:
        """The Python of `environment` on this node, built first unless it is (blocking)."""
        ...


def relayed_error(error: O16nError) -> Relayed:
    """An error as plain values: its code, message, whether its call never started, and the
    worker's own reply code."""
    return ("error", error.code, error.message, never_started(error), reply_code(error))


class WorkerHost:
    """One worker process on this node, driven through Ray calls (an asyncio actor)."""

    def __init__(
        self,
        working_dir: str,
        limits: WorkerLimits,
        start_timeout: float,
        max_frame: int,
        environment: tuple[Environment, NodeBuilds] | None = None,
    ) -> None:
        folder = Path(working_dir)
        open_root(folder.parent)
        self._folder = folder
        self._environment = environment
        self._last_call = time.monotonic()
        self._worker = WorkerProcess(
            folder,
            limits,
            max_frame=max_frame,
            start_timeout=start_timeout,
            identities=Identities(limits.user),
        )

    async def start(self) -> Relayed:
        """Build the environment on this node if it is not, start the worker on its Python
        (the server's without one) and complete the handshake."""
        try:
            self._worker.executable = await asyncio.to_thread(self._python)
            await self._worker.start()
        except O16nError as error:
            return relayed_error(error)
        return ("reply", b"")

    def _python(self) -> str:
        """The interpreter the worker runs on."""
        if self._environment is None:
            return sys.executable
        environment, builds = self._environment
        try:
            return builds.interpreter(environment)
        except OSError as error:
            raise WorkerError(f"the environment could not be made on this node: {error}") from error

    async def call(self, kind: str, payload: dict[str, object], timeout: float) -> Relayed:
        """One request to the worker (pipelined behind those in flight); its reply."""
        self._last_call = time.monotonic()
        try:
            answer = await self._worker.call(kind, payload, timeout)
        except O16nError as error:
            return relayed_error(error)
        finally:
            self._last_call = time.monotonic()
        return ("reply", msgpack.packb(answer, use_bin_type=True))

    async def call_many(self, calls: list[tuple[str, dict[str, object], float]]) -> list[Relayed]:
        """Several requests sent together (pipelined, in order); their replies."""
        return list(await asyncio.gather(*(self.call(*call) for call in calls)))

    def unused_for(self) -> float:
        """Seconds since a call (from any web node) last ran here; 0 while one runs."""
        return 0.0 if self._worker.in_flight else time.monotonic() - self._last_call

    def in_flight(self) -> int:
        """Calls sent to the worker and not yet answered."""
        return self._worker.in_flight

    def interrupt(self) -> None:
        """KeyboardInterrupt in the worker's running call."""
        self._worker.interrupt()

    def kill(self) -> None:
        """Kill the worker now."""
        self._worker.kill()

    async def stop(self, grace: float) -> None:
        """Stop the worker politely, then by force, and remove its folder."""
        await self._worker.stop(grace)
        await asyncio.to_thread(shutil.rmtree, self._folder, True)

    async def watch(self) -> int | None:
        """Return when the worker has exited (its return code): the web side's death notice."""
        return await self._worker.exited()
