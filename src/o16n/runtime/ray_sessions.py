"""Sessions on a Ray cluster: each is a detached actor (`ray_session_host.SessionHost`) named
after the session and its owner in the `o16n` namespace, which every web node finds by name.

Any web node serves any session directly (it adopts the actor on first use) and a session
outlives the web node that opened it. Each session is recorded in the cluster's key-value store
(its owner and the Ray node of its actor) until it is closed, so when the actor is gone every
web node tells why from the node it ran on: still alive, the session was closed (NotFound);
dead, the session is lost with it (SessionLost, a 502 naming the node; snapshots are in the
store, unaffected), and its record stays so that every web node answers the same.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable
from typing import Any, TypeVar

from ray.exceptions import ActorDiedError, RayError
from ray.experimental import internal_kv
from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

import ray
from o16n.domain.models import Session
from o16n.errors import NodeUnavailable, NotFound, O16nError, SessionLost
from o16n.ids import SessionId, UserId
from o16n.runtime.interpreters import SessionRequests, WorkerConfig, WorkerInterpreter
from o16n.runtime.ray_host import NodeBuilds, Relayed
from o16n.runtime.ray_nodes import SESSION_NAME, node_state
from o16n.runtime.ray_session_host import SessionHost
from o16n.runtime.ray_workers import ACTOR_CPUS, RayWorker, _error

NAMESPACE = "o16n"
_PREFIX = SESSION_NAME
_RECORDS = "o16n/sessions/"  # + session id: [owner id, Ray node id] in the cluster's store
_END_SECONDS = 10.0  # how long a closing session waits for Ray to end its actor
_T = TypeVar("_T")


def actor_name(session_id: str, owner_id: str) -> str:
    """The name of a session's actor: its owner and its id."""
    return f"{_PREFIX}:{owner_id}:{session_id}"


def _named_session(name: str) -> tuple[SessionId, UserId] | None:
    """(session id, owner id) of a session actor's name; None for other actors."""
    prefix, _, rest = name.partition(":")
    owner, _, session_id = rest.rpartition(":")
    if prefix != _PREFIX or not owner or not session_id:
        return None
    return SessionId(session_id), UserId(owner)


def _record_key(session_id: str) -> bytes:
    return (_RECORDS + session_id).encode()


def _recorded(session_id: str) -> tuple[UserId, str] | None:
    """The owner and Ray node of a session that was opened and not closed (blocking)."""
    stored = internal_kv._internal_kv_get(_record_key(session_id))
    if not stored:
        return None
    owner, node = json.loads(stored)
    return UserId(str(owner)), str(node)


async def _gone(session_id: str, node_id: str | None, error: RayError | None) -> O16nError:
    """Why a session's actor did not answer (`error`) or has no name any more (None): the
    session was closed (its node is alive, or its record was dropped), its node died
    (SessionLost), or its node does not answer yet (NodeUnavailable)."""
    alive, address = await asyncio.to_thread(node_state, node_id)
    closed = NotFound(f"no session {session_id!r}: it was closed, or its actor ended", field="id")
    if alive and (error is None or isinstance(error, ActorDiedError)):
        return closed
    if not alive:
        if await asyncio.to_thread(_recorded, session_id) is None:
            return closed  # lost, then closed (forgotten) on some web node
        return SessionLost(
            f"the session {session_id} is lost: the Ray node {address} that ran its "
            "interpreter died; open a new session (snapshots are kept)"
        )
    name = "no answer" if error is None else type(error).__name__
    return NodeUnavailable(
        f"the Ray node {address} that runs the session's interpreter does not answer "
        f"({name}); if it died, the session is lost: open a new one (snapshots are kept)"
    )


def _wait_unnamed(name: str, seconds: float) -> None:
    """Return once no actor has that name (a killed actor loses it when Ray has ended it),
    or after `seconds` (blocking)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            ray.get_actor(name, NAMESPACE)
        except ValueError:
            return
        time.sleep(0.02)


class RaySessionWorker(SessionRequests, RayWorker):
    """A session's worker under its named actor, and the keeper of its journal there."""

    def __init__(self, session: Session, config: WorkerConfig, builds: NodeBuilds) -> None:
        environment = session.environment
        super().__init__(
            config.root / session.id,
            config.limits,
            start_timeout=config.start_seconds,
            environment=None if environment is None else (environment, builds),
        )
        self.name = actor_name(session.id, session.owner_id)
        self._session = session
        self._host_node: str | None = None  # the Ray node the actor runs on

    @property
    def worker(self) -> RaySessionWorker:
        """The session's worker (the actor replaces it in place)."""
        return self

    def _new_actor(self, where: NodeAffinitySchedulingStrategy) -> Any:
        """The session's detached, named actor."""
        host = ray.remote(SessionHost).options(
            name=self.name,
            namespace=NAMESPACE,
            lifetime="detached",
            num_cpus=ACTOR_CPUS,
            scheduling_strategy=where,
        )
        return host.remote(self._session, self._host_arguments())

    async def start(self) -> None:
        """Create the actor, start its worker and learn which node it runs on."""
        await super().start()
        try:
            _, self._host_node = await self._asked(self._actor.described.remote())
            record = json.dumps([self._session.owner_id, self._host_node]).encode()
            key = _record_key(self._session.id)
            await asyncio.to_thread(internal_kv._internal_kv_put, key, record, overwrite=True)
        except (O16nError, RayError, ConnectionError):
            await self.stop()
            raise

    async def stop(self, grace: float = 2.0) -> None:
        """Stop the worker and end the actor; return once no web node reaches it any more.
        The session's record goes with it, unless the session was lost with its node."""
        await super().stop(grace)
        await asyncio.to_thread(_wait_unnamed, self.name, _END_SECONDS)
        alive, _ = await asyncio.to_thread(node_state, self._host_node)
        if alive or self._host_node is None:
            await asyncio.to_thread(internal_kv._internal_kv_del, _record_key(self._session.id))

    def drive(self, actor: Any, node: str) -> None:
        """Drive the running actor of a session another web node started."""
        self._actor = actor
        self._host_node = node
        self._alive = True

    def used(self) -> None:
        """Nothing to do here: every call to the actor counts as a use."""

    async def began(self, code: str) -> None:
        """Nothing to do here: the actor records the execution as it relays it."""

    async def ended(self, console_output: str) -> None:
        """Nothing to do here: the actor keeps the execution's console output."""

    async def history(self) -> list[str]:
        """The code executed, oldest first (by any web node)."""
        history: list[str] = await self._asked(self._actor.history.remote())
        return history

    async def console_output(self) -> str:
        """The last execution's console output."""
        text: str = await self._asked(self._actor.console_output.remote())
        return text

    async def idle_seconds(self) -> float:
        """Seconds since any web node used the session."""
        seconds: float = await self._asked(self._actor.idle_seconds.remote())
        return seconds

    async def restart(self) -> None:
        """A fresh worker under the same actor (the session keeps its name and journal)."""
        relayed: Relayed = await self._asked(self._actor.restart.remote())
        if relayed[0] == "error":
            raise _error(relayed)
        self._alive = True
        self._aborted = None
        self._head_at_death = None

    async def _watch(self) -> None:
        """Nothing to watch from here: any web node may replace the session's worker, and
        the actor answers the next call of a worker that died with WorkerCrashed."""

    async def _asked(self, answer: Awaitable[_T]) -> _T:
        """An actor's answer; when the actor is gone, why (closed, or its node died)."""
        try:
            return await answer
        except RayError as error:
            self._alive = False
            raise await self._unanswered(error) from error

    async def _unanswered(self, error: RayError) -> O16nError:
        """Why the actor did not answer (`_gone`)."""
        return await _gone(self._session.id, self._host_node, error)


class RaySessionInterpreters:
    """The InterpreterFactory port on Ray: sessions that every web node reaches."""

    shared = True

    def __init__(self, config: WorkerConfig, builds: NodeBuilds) -> None:
        self._config = config
        self._builds = builds  # how an actor's node builds the session's environment

    async def start(self, session: Session) -> WorkerInterpreter:
        """The session's actor, started with a ready worker on the session's environment
        (built on the actor's node) or the server's Python."""
        worker = RaySessionWorker(session, self._config, self._builds)
        await worker.start()
        return WorkerInterpreter(worker, self._config.call_seconds)

    async def adopt(
        self, session_id: str, owner_id: UserId | None
    ) -> tuple[Session, WorkerInterpreter] | None:
        """The running session of that id (and owner, unless None), whichever web node
        started it; None when there is none; SessionLost (or NodeUnavailable) when its
        recorded actor's node died (or does not answer)."""
        recorded = await asyncio.to_thread(_recorded, session_id)
        if recorded is None or owner_id not in {None, recorded[0]}:
            return None
        owner, node = recorded
        try:
            actor = await asyncio.to_thread(ray.get_actor, actor_name(session_id, owner), NAMESPACE)
            session, node = await actor.described.remote()
        except (ValueError, RayError) as error:  # closed meanwhile, or lost with its node
            why = await _gone(session_id, node, error if isinstance(error, RayError) else None)
            if isinstance(why, NotFound):
                return None
            raise why from error
        worker = RaySessionWorker(session, self._config, self._builds)
        worker.drive(actor, node)
        return session, WorkerInterpreter(worker, self._config.call_seconds)

    async def forget(self, session_id: str) -> None:
        """Drop the session's record: a session lost with its node then answers 404."""
        await asyncio.to_thread(internal_kv._internal_kv_del, _record_key(session_id))

    async def session_ids(self) -> list[tuple[SessionId, UserId]]:
        """Each running session's id and owner, from the names of the actors."""
        names = await asyncio.to_thread(ray.util.list_named_actors)
        return [named for named in map(_named_session, names) if named is not None]
