"""The runtime backend: what service pools and sessions need of a worker, whatever runs it.

A worker is one interpreter running o16n's worker loop (`python -m o16n.runtime.worker`, the
`runtime/worker/` package) and speaking `protocol` frames. Pools (`service_pools`,
`version_pool`, `spares`, `service_worker`) and sessions (`interpreters`) are written once
against `Worker`; a backend only provides workers (a `WorkerFactory`). Local subprocesses
(`process.WorkerProcess`, made by `process.LocalWorkers`) are the first backend; Ray actors
running the same loop (`ray_workers`) the second.

What a backend must provide, for each worker:
- `start()`: launch it with the given limits and a scrubbed environment (no secrets), under an
  unprivileged identity where the server has one, and complete the `hello` handshake within
  the start timeout; a worker that cannot start raises WorkerError with the cause.
- `call(kind, payload, timeout)`: pipelined requests answered in order; `timeout` counts from
  when the worker starts that request; past it the worker is killed, that call fails with
  WorkerTimeout and the calls behind it with WorkerCrashed flagged `never_started`.
  `request(...)` is `call` read through a typed reply decoder of `protocol`; a reply that
  breaks the schema kills the worker and raises WorkerProtocolError.
- `alive`, `in_flight`, `working_dir`: whether it accepts calls, how many are in its pipe,
  and the folder it works in (removed when it is disposed of); `placed_well`: whether it runs
  where new workers may go now (the compute nodes allowed), else it drains.
- `unused_for()`: how long since any web node called it (a shared worker).
- `interrupt()` (KeyboardInterrupt in the running call), `kill()` (at once: every call in
  flight fails with WorkerCrashed), `abort(error)` (killed, every call fails with `error`),
  `stop(grace)` (shutdown request, then terminate, then kill; returns once it is gone).
- Death detection: when the worker dies by itself, every call in flight fails at once with
  WorkerCrashed naming how it ended.

A cluster backend may also share workers between web nodes (`SharedWorkers`): a version's
pool adopts a worker another node prepared before it makes one of its own.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Protocol, TypeVar

from o16n.domain.models import Environment
from o16n.errors import O16nError, WorkerProtocolError
from o16n.runtime.limits import WorkerLimits
from o16n.runtime.protocol import ProtocolViolation
from o16n.runtime.sandbox import Identities

_T = TypeVar("_T")
_W_co = TypeVar("_W_co", bound="Worker", covariant=True)


def decoded(
    answer: dict[str, object],
    reply: Callable[[dict[str, object]], _T],
    broken: Callable[[WorkerProtocolError], None],
) -> _T:
    """A reply payload read by its typed decoder; on a mismatch, `broken` is told (it kills the
    worker) and WorkerProtocolError is raised: the one policy for every backend and kind."""
    try:
        return reply(answer)
    except ProtocolViolation as exc:
        error = WorkerProtocolError(f"the worker broke the protocol and was killed: {exc}")
        broken(error)
        raise error from exc


class Worker(Protocol):
    """One interpreter of a runtime backend (see the module docstring for the contract)."""

    @property
    def working_dir(self) -> Path:
        """The folder it works in."""
        ...

    @property
    def alive(self) -> bool:
        """Whether it runs and accepts calls."""
        ...

    @property
    def in_flight(self) -> int:
        """Calls sent and not yet answered."""
        ...

    @property
    def placed_well(self) -> bool:
        """Whether it runs where new workers may go (False: a blank one is not used)."""
        ...

    async def start(self) -> None:
        """Launch and complete the handshake."""
        ...

    async def call(
        self, kind: str, payload: dict[str, object], timeout: float
    ) -> dict[str, object]:
        """One request; its reply payload."""
        ...

    async def request(
        self,
        kind: str,
        payload: dict[str, object],
        timeout: float,
        reply: Callable[[dict[str, object]], _T],
    ) -> _T:
        """One request, its reply read by a typed decoder."""
        ...

    async def unused_for(self) -> float:
        """Seconds since any web node last called it (infinite when only this node calls
        it: the pool's own clock decides)."""
        ...

    def interrupt(self) -> None:
        """Interrupt the running call."""
        ...

    def kill(self) -> None:
        """Kill it now; calls in flight fail."""
        ...

    def abort(self, error: O16nError) -> None:
        """Kill it now; calls in flight fail with `error`."""
        ...

    async def stop(self, grace: float = 2.0) -> None:
        """Stop it politely, then by force; return once it is gone."""
        ...


class WorkerFactory(Protocol[_W_co]):
    """Makes (unstarted) workers of one backend (of the kind `_W_co`)."""

    def __call__(
        self,
        working_dir: Path,
        limits: WorkerLimits,
        *,
        start_timeout: float,
        identities: Identities | None,
        environment: Environment | None,
        group: str = "",
    ) -> _W_co:
        """A worker that will work in `working_dir` under `limits`, on the Python of
        `environment` (None: the server's own; where that Python comes from is the backend's
        business), for `group` (a version's label: a backend spreads a group's workers)."""
        ...


class SharedWorkers(Protocol):
    """Workers of a version that any web node prepared, recorded where every node finds them
    (a cluster backend; the local backend has none). The node that prepared a worker stops
    it; a node that adopted one only lets go of it."""

    async def adopt(
        self, revision_key: str, known: Callable[[], Iterable[Worker]]
    ) -> Worker | None:
        """A worker another node prepared for `revision_key`, not among `known()` (the pool's
        workers as they are when it looks), ready to take calls from here; None if none."""
        ...

    async def record(self, revision_key: str, worker: Worker) -> None:
        """Make a worker this node prepared for `revision_key` adoptable (until it stops)."""
        ...
