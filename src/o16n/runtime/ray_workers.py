"""The runtime backend on a Ray cluster: each worker is a `ray_host.WorkerHost` actor that
runs the same worker on a node of the cluster (the alive node that holds the fewest of this web
node's actors: `ray_nodes`).

`RayWorker` is the `backend.Worker` contract over such an actor; `RayWorkers` makes them (the
backend's WorkerFactory), with what a node needs to build a version's environment itself.
Calls are pipelined (the actor takes many at once and its worker runs them in order); the
actor's worker enforces the deadlines. When the actor or its node dies, the oldest call in
flight fails with WorkerCrashed and the calls behind it with WorkerCrashed flagged
`never_started`, which the pools retry on other workers.

Actors are named; `RaySharedWorkers` records the ones a web node prepared for a version in
the cluster's key-value store, so any web node adopts them (every node reaches every actor).
The node that made an actor owns it (Ray ends it with that node) and stops it once no web node
has called it for the idle time; an adopting node only lets go of it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import secrets
import socket
from collections import deque
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, Generic, TypeVar

import msgpack
from ray.exceptions import RayActorError, RayError
from ray.experimental import internal_kv
from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

import ray
from o16n.domain.models import Environment
from o16n.errors import O16nError, WorkerError, WorkerProtocolError, all_error_types
from o16n.runtime.backend import Worker, decoded
from o16n.runtime.limits import WorkerLimits
from o16n.runtime.pipeline import crashed
from o16n.runtime.protocol import DEFAULT_MAX_FRAME
from o16n.runtime.ray_host import NodeBuilds, Relayed, WorkerHost
from o16n.runtime.ray_nodes import WORKER_NAME, Placement
from o16n.runtime.sandbox import Identities

_T = TypeVar("_T")
_R = TypeVar("_R", bound="RayWorker")
_ERRORS = all_error_types()
_PROBE_SECONDS = 5.0
PLACEMENT = Placement()  # where this web node's actors go
ACTOR_CPUS = 0.01  # placement follows Ray's spread, not CPU accounting: limits are the worker's


def connect(address: str) -> None:
    """Join the Ray cluster at `address`; WorkerError naming it when it cannot be reached
    (a HOST:PORT that does not accept a connection within seconds is refused at once)."""
    host, _, port = address.rpartition(":")
    if host and port.isdigit():
        try:
            socket.create_connection((host, int(port)), timeout=_PROBE_SECONDS).close()
        except OSError as error:
            raise WorkerError(f"cannot reach the Ray cluster at {address!r}: {error}") from error
    try:
        ray.init(address=address, namespace="o16n", logging_level=logging.WARNING)
    except (ConnectionError, RuntimeError, ValueError) as error:
        raise WorkerError(f"cannot reach the Ray cluster at {address!r}: {error}") from error


class _LostAtStart(Exception):
    """Ray lost a new actor at its start for a reason of its node (it died or does not
    answer), not because its creation raised: `error` says so."""

    def __init__(self, error: WorkerError, node: str) -> None:
        super().__init__(error.message)
        self.error = error
        self.node = node


def _error(relayed: tuple[Any, ...]) -> O16nError:
    """The O16nError a relayed error stands for, with its flags."""
    _, code, message, never, worker_code = relayed
    error = _ERRORS.get(code, WorkerError)(message)
    error.never_started = never  # type: ignore[attr-defined]
    if worker_code is not None:
        error.reply_code = worker_code  # type: ignore[attr-defined]
    return error


class RayWorker:
    """One worker hosted by a named Ray actor: started here (this node stops it), or adopted
    from another web node (`attach`: only let go of here)."""

    def __init__(
        self,
        working_dir: Path,
        limits: WorkerLimits,
        *,
        start_timeout: float,
        environment: tuple[Environment, NodeBuilds] | None,
        group: str = "",
        placement: Placement = PLACEMENT,
    ) -> None:
        self.working_dir = working_dir
        self.name = f"{WORKER_NAME}{secrets.token_hex(8)}"
        self._owned = True
        self._record: bytes | None = None  # its key in the cluster's store, once shared
        self._environment = environment
        self._group = group
        self._placement = placement
        self._node: str | None = None
        self._limits = limits
        # A build on the node counts apart from the worker's start.
        extra = environment[1].build_seconds if environment is not None else 0.0
        self._start_timeout = start_timeout + extra
        self._actor: Any = None
        self._alive = False
        self._order: deque[object] = deque()  # calls in flight, oldest first
        self._outbox: list[
            tuple[tuple[str, dict[str, object], float], asyncio.Future[Relayed]]
        ] = []
        self._head_at_death: object | None = None
        self._aborted: O16nError | None = None
        self._watcher: asyncio.Task[None] | None = None

    @property
    def alive(self) -> bool:
        """Whether the actor and its worker run and accept calls."""
        return self._alive

    @property
    def placed_well(self) -> bool:
        """Whether its node is still among the compute nodes new workers may go to."""
        return self._node is not None and self._placement.allows(self._node)

    @property
    def in_flight(self) -> int:
        """Calls sent and not yet answered."""
        return len(self._order)

    async def start(self) -> None:
        """Create the actor (Ray places it) and start its worker within the start timeout; an
        actor that Ray lost at its start (its node was dying) is made once more, on another
        node."""
        try:
            await self._start_on(avoid=None)
        except _LostAtStart as lost:
            try:
                await self._start_on(avoid=lost.node)
            except _LostAtStart as again:
                raise again.error from again.__cause__

    async def _start_on(self, avoid: str | None) -> None:
        """Create the actor on a node but `avoid` and start its worker."""
        try:
            self._node = await asyncio.to_thread(self._placement.choose, self._group, avoid)
        except (RayError, RuntimeError) as error:
            raise WorkerError(f"no Ray node can take a worker: {error}") from error
        node = self._node
        self._actor = self._new_actor(NodeAffinitySchedulingStrategy(node, soft=True))
        try:
            relayed = await asyncio.wait_for(self._actor.start.remote(), self._start_timeout)
        except (RayError, TimeoutError) as error:
            self._forget()
            failed = WorkerError(f"a Ray actor for a worker could not start: {error}")
            if isinstance(error, RayActorError) and not error.actor_init_failed:
                raise _LostAtStart(failed, node) from error  # not o16n's failure
            raise failed from error
        if relayed[0] == "error":
            self._forget()
            raise _error(relayed)
        self._alive = True
        self._watcher = asyncio.get_running_loop().create_task(self._watch())

    def _new_actor(self, where: NodeAffinitySchedulingStrategy) -> Any:
        """The actor that hosts the worker, placed by `where`."""
        host = ray.remote(WorkerHost).options(
            name=self.name, num_cpus=ACTOR_CPUS, scheduling_strategy=where
        )
        return host.remote(*self._host_arguments())

    def _host_arguments(self) -> tuple[object, ...]:
        """What a `WorkerHost` is made of."""
        return (
            str(self.working_dir), self._limits, self._start_timeout, DEFAULT_MAX_FRAME,
            self._environment,
        )  # fmt: skip

    async def call(
        self, kind: str, payload: dict[str, object], timeout: float
    ) -> dict[str, object]:
        """One request; its reply payload (error replies raise O16nError types)."""
        if not self._alive:
            raise crashed("the worker's Ray actor is not running", never_started=True)
        token = object()
        self._order.append(token)
        reply: asyncio.Future[Relayed] = asyncio.get_running_loop().create_future()
        self._outbox.append(((kind, payload, timeout), reply))
        if len(self._outbox) == 1:  # the first of this turn of the loop sends them all
            asyncio.get_running_loop().call_soon(self._send)
        try:
            relayed = await reply
        except RayError as error:
            raise self._lost(token, error) from error
        finally:
            self._order.remove(token)
        if self._aborted is not None:
            raise self._aborted
        if relayed[0] == "error":
            raise _error(relayed)
        answer = msgpack.unpackb(relayed[1], raw=False)
        if not isinstance(answer, dict):
            raise WorkerProtocolError("the worker's Ray actor relayed a malformed reply")
        return answer

    async def request(
        self,
        kind: str,
        payload: dict[str, object],
        timeout: float,
        reply: Callable[[dict[str, object]], _T],
    ) -> _T:
        """One request read by a typed decoder; a mismatch kills the worker."""
        return decoded(await self.call(kind, payload, timeout), reply, self.abort)

    def _send(self) -> None:
        """Send the calls made during one turn of the event loop in one actor call (one
        Ray round trip instead of one each); each caller gets its own reply."""
        outbox, self._outbox = self._outbox, []
        replies = [reply for _, reply in outbox]
        if self._actor is None:
            for reply in replies:
                reply.set_exception(RayError("the worker's Ray actor is gone"))
            return
        reference = self._actor.call_many.remote([call for call, _ in outbox])
        sent: asyncio.Future[list[Relayed]] = asyncio.wrap_future(reference.future())
        sent.add_done_callback(lambda done: _settle(done, replies))

    @classmethod
    async def attach(cls, name: str, working_dir: Path) -> RayWorker | None:
        """The worker of another web node's actor `name`, if it still answers."""
        try:
            actor = await asyncio.to_thread(ray.get_actor, name)
            await asyncio.wait_for(actor.in_flight.remote(), _PROBE_SECONDS)
        except (RayError, ValueError, TimeoutError):
            return None
        worker = cls(working_dir, WorkerLimits(), start_timeout=0.0, environment=None)
        worker.name, worker._owned, worker._actor = name, False, actor
        worker._alive = True
        worker._watcher = asyncio.get_running_loop().create_task(worker._watch())
        return worker

    async def unused_for(self) -> float:
        """For a worker shared with other web nodes, how long since any of them called it
        (its host knows); infinite otherwise."""
        if self._record is None or self._actor is None:
            return math.inf
        try:
            seconds: float = await asyncio.wait_for(self._actor.unused_for.remote(), _PROBE_SECONDS)
        except (RayError, TimeoutError):
            return math.inf  # gone or not answering: nothing to keep it for
        return seconds

    def share(self, record: bytes) -> None:
        """Record this worker under `record` in the cluster's store (blocking), so other web
        nodes adopt it; the record goes when the worker does."""
        if self._alive and self._owned:
            internal_kv._internal_kv_put(record, self.name.encode(), overwrite=True)
            self._record = record

    def _unshare(self) -> None:
        """Remove its record from the cluster's store (blocking)."""
        record, self._record = self._record, None
        if record is not None:
            with contextlib.suppress(RayError, ConnectionError):
                internal_kv._internal_kv_del(record)

    def interrupt(self) -> None:
        """KeyboardInterrupt in the running call."""
        if self._actor is not None:
            self._actor.interrupt.remote()

    def kill(self) -> None:
        """Kill the worker now; its calls fail with WorkerCrashed (an adopted worker is only
        let go of: its own node decides)."""
        if not self._owned:
            self._forget()
        elif self._actor is not None:
            self._actor.kill.remote()

    def abort(self, error: O16nError) -> None:
        """Kill the worker now; every call in flight fails with `error`."""
        self._aborted = error
        self.kill()

    async def stop(self, grace: float = 2.0) -> None:
        """Stop the worker and end the actor (an adopted one is only let go of)."""
        if self._actor is None or not self._owned:
            self._forget()
            return
        await asyncio.to_thread(self._unshare)  # no web node adopts it from now on
        with contextlib.suppress(RayError, TimeoutError):
            await asyncio.wait_for(self._actor.stop.remote(grace), 4 * grace + 5)
        self._forget()

    def _lost(self, token: object, error: RayError) -> O16nError:
        """The actor died (its node, most often): the oldest call ran, the others did not."""
        if self._alive:
            self._alive = False
            self._head_at_death = self._order[0] if self._order else None
        message = f"the worker's Ray actor died: {type(error).__name__}: {error}"
        return crashed(message[:2000], never_started=token is not self._head_at_death)

    async def _watch(self) -> None:
        """Learn that the worker or its actor ended, even while no call is in flight."""
        with contextlib.suppress(RayError):
            await self._actor.watch.remote()
        if self._alive:
            self._alive = False
            self._head_at_death = self._order[0] if self._order else None

    def _forget(self) -> None:
        self._alive = False
        if self._node is not None:
            self._placement.released(self._node, self._group)
            self._node = None
        if self._watcher is not None:
            self._watcher.cancel()
        if self._actor is not None and self._owned:
            with contextlib.suppress(RayError, ValueError):
                ray.kill(self._actor)
        self._actor = None


def _settle(done: asyncio.Future[list[Relayed]], replies: list[asyncio.Future[Relayed]]) -> None:
    """Give each caller its reply, or the actor call's failure."""
    error = None if done.cancelled() else done.exception()
    for index, reply in enumerate(replies):
        if reply.done():
            continue
        if done.cancelled():
            reply.cancel()
        elif error is not None:
            reply.set_exception(error)
        else:
            reply.set_result(done.result()[index])


class RayWorkers(Generic[_R]):
    """The Ray backend's WorkerFactory: actors hosting workers of `kind`; a worker on an
    environment of its own has it built on its node as `builds` says."""

    def __init__(self, kind: type[_R], builds: NodeBuilds) -> None:
        self._kind = kind
        self._builds = builds

    def __call__(
        self,
        working_dir: Path,
        limits: WorkerLimits,
        *,
        start_timeout: float,
        identities: Identities | None,
        environment: Environment | None,
        group: str = "",
    ) -> _R:
        """An unstarted Ray-hosted worker (`identities` are the node's own: see ray_host)."""
        return self._kind(
            working_dir,
            limits,
            start_timeout=start_timeout,
            environment=None if environment is None else (environment, self._builds),
            group=group,
        )


class RaySharedWorkers:
    """SharedWorkers on Ray: each web node records the workers it prepared in the cluster's
    key-value store, under the version's revision; another node attaches to them by name."""

    _PREFIX = "o16n/workers/"

    def __init__(self, root: Path) -> None:
        self._root = root  # where adopted workers are said to work (nothing is made there)
        self._attaching: set[str] = set()  # so that two starts of a pool adopt two workers

    async def adopt(
        self, revision_key: str, known: Callable[[], Iterable[Worker]]
    ) -> Worker | None:
        """A recorded worker of `revision_key` that is not among `known()`; records of
        workers that are gone are removed."""
        prefix = self._prefix(revision_key)
        try:
            records = await asyncio.to_thread(internal_kv._internal_kv_list, prefix)
        except (RayError, ConnectionError):
            return None
        for record in records:
            name = record[len(prefix) :].decode()
            names = {worker.name for worker in known() if isinstance(worker, RayWorker)}
            if name in names or name in self._attaching:
                continue
            self._attaching.add(name)
            try:
                worker = await RayWorker.attach(name, self._root / f"adopted-{name}")
            finally:
                self._attaching.discard(name)
            if worker is not None:
                return worker
            with contextlib.suppress(RayError, ConnectionError):
                await asyncio.to_thread(internal_kv._internal_kv_del, record)
        return None

    async def record(self, revision_key: str, worker: Worker) -> None:
        """Offer a worker prepared here to the other web nodes."""
        if isinstance(worker, RayWorker):
            record = self._prefix(revision_key) + worker.name.encode()
            with contextlib.suppress(RayError, ConnectionError):
                await asyncio.to_thread(worker.share, record)

    def _prefix(self, revision_key: str) -> bytes:
        return (self._PREFIX + revision_key + "/").encode()
