"""Sessions: remote Python interpreters, private to their creator."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TypeVar

from o16n.domain.environments import NOTHING_DECLARED, Declaration, declared
from o16n.domain.models import ExecutionResult, JsonValue, Principal, Session
from o16n.domain.ports import (
    EnvironmentBuilder,
    Interpreter,
    InterpreterFactory,
    SessionDirectory,
)
from o16n.domain.snapshots import Snapshots
from o16n.errors import (
    CapacityExceeded,
    InvalidInput,
    NodeUnavailable,
    NotFound,
    SessionLost,
    TooManySessions,
    WorkerError,
)
from o16n.ids import SessionId, UserId, new_guid, now

PYTHON = "Python"
T = TypeVar("T")


@dataclass(frozen=True)
class SessionLimits:
    """Caps on live sessions and how long an idle one is kept."""

    per_user: int
    total: int
    idle_seconds: float


@dataclass
class _Live:
    """A session this node serves (its own, or one adopted from another node); the
    interpreter keeps its history, console output and last use."""

    session: Session
    interpreter: Interpreter
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


def runtime_type_of(text: str | None) -> str:
    """Python (the default); any other runtime is refused naming the field."""
    if text is None or text.lower() == PYTHON.lower():
        return PYTHON
    raise InvalidInput(f"runtime {text!r} is not supported: use Python", field="runtimeType")


class Sessions:
    """Create, use and close sessions; each one's calls run one at a time."""

    def __init__(
        self,
        factory: InterpreterFactory,
        snapshots: Snapshots,
        limits: SessionLimits,
        environments: EnvironmentBuilder,
        directory: SessionDirectory | None = None,
    ) -> None:
        self._factory = factory
        self._directory = directory  # with many web nodes: where every session lives
        self._environments = environments
        self._snapshots = snapshots
        self._limits = limits
        self._live: dict[SessionId, _Live] = {}

    async def create(
        self,
        user: Principal,
        name: str | None,
        runtime_type: str | None,
        snapshot_id: str | None,
        environment: Declaration = NOTHING_DECLARED,
    ) -> Session:
        """Start an interpreter for `user`, loading a snapshot of theirs when given; on the
        environment declared, else the snapshot's, built first when it is not yet."""
        runtime = runtime_type_of(runtime_type)
        snapshot = (
            await asyncio.to_thread(self._snapshots.get, user, snapshot_id) if snapshot_id else None
        )
        archive = (
            await asyncio.to_thread(self._snapshots.content, user, snapshot.id)
            if snapshot
            else None
        )
        await self._check_capacity(user)
        base = snapshot.environment if snapshot is not None else None
        chosen = await asyncio.to_thread(declared, self._environments, environment, base)
        if chosen is not None:
            await self._environments.ready(chosen)
            await self._check_capacity(user)
        session_id = SessionId(new_guid())
        session = Session(
            session_id, name or "", user.user_id, user.username, runtime, now(), chosen
        )
        interpreter = await self._factory.start(session)
        try:
            if archive is not None:
                await interpreter.restore(archive)
        except BaseException:
            await interpreter.close(force=True)
            raise
        self._live[session_id] = _Live(session, interpreter)
        if self._directory is not None:
            await asyncio.to_thread(self._directory.record, session)
        return session

    async def _check_capacity(self, user: Principal) -> None:
        if self._factory.shared:
            owners = [owner for _, owner in await self._factory.session_ids()]
        else:
            owners = [live.session.owner_id for live in self._live.values()]
        if len(owners) >= self._limits.total:
            raise CapacityExceeded(
                f"the server runs its maximum of {self._limits.total} sessions: try again later"
            )
        mine = owners.count(user.user_id)
        if mine >= self._limits.per_user:
            raise TooManySessions(f"you have {mine} open sessions, the maximum: close one first")

    async def visible_to(self, user: Principal, *, all_users: bool) -> list[Session]:
        """The caller's sessions (everybody's with `all_users`) on every node, oldest first."""
        if self._directory is not None:
            owner = None if all_users else user.user_id
            return await asyncio.to_thread(self._directory.listed, owner)
        if self._factory.shared:
            shown = await self._shared(None if all_users else user.user_id)
            sessions = [live.session for live in shown]
        else:
            sessions = [live.session for live in self._live.values()]
        if not all_users:
            sessions = [s for s in sessions if s.owner_id == user.user_id]
        return sorted(sessions, key=lambda session: session.created_at)

    async def node_of(self, session_id: str) -> str | None:
        """The internal URL of the other node that holds the session, if another does."""
        if self._directory is None or SessionId(session_id) in self._live:
            return None
        return await asyncio.to_thread(self._directory.node_of, session_id)

    async def _ended(self, sessions: list[_Live]) -> None:
        """Forget sessions that ended here (in every node's view)."""
        if self._directory is not None and sessions:
            ids = [live.session.id for live in sessions]
            await asyncio.to_thread(self._directory.remove, ids)

    async def _get(self, user: Principal, session_id: str, *, any_owner: bool = False) -> _Live:
        owner = None if any_owner else user.user_id
        live = self._live.get(SessionId(session_id)) or await self._adopted(session_id, owner)
        if live is None or not (any_owner or live.session.owner_id == user.user_id):
            raise NotFound(f"no session {session_id!r}", field="id")
        live.interpreter.used()
        return live

    async def _adopted(self, session_id: str, owner_id: UserId | None) -> _Live | None:
        """A session (of `owner_id`, of anybody's with None) another node started, now served
        here too (when sessions are shared)."""
        adopted = await self._factory.adopt(session_id, owner_id)
        if adopted is None:
            return None
        session, interpreter = adopted
        return self._live.setdefault(session.id, _Live(session, interpreter))

    async def _shared(self, owner_id: UserId | None) -> list[_Live]:
        """Every node's sessions (of one owner), adopting those this node does not serve."""
        owners = {
            sid: owner
            for sid, owner in await self._factory.session_ids()
            if owner_id in {None, owner}
        }

        async def reachable(session_id: SessionId, owner: UserId) -> None:
            with contextlib.suppress(NodeUnavailable):  # lost, or its node does not answer
                await self._adopted(session_id, owner)

        await asyncio.gather(
            *(reachable(sid, o) for sid, o in owners.items() if sid not in self._live)
        )
        ids = list(owners)
        return [self._live[sid] for sid in ids if sid in self._live]

    async def _run(self, live: _Live, action: Callable[[Interpreter], Awaitable[T]]) -> T:
        async with live.lock:
            try:
                return await action(live.interpreter)
            except WorkerError:
                try:
                    await live.interpreter.restart()
                except (SessionLost, NotFound):
                    self._live.pop(live.session.id, None)  # its compute node died, or it closed
                    raise
                raise

    async def execute(
        self,
        user: Principal,
        session_id: str,
        code: str,
        inputs: dict[str, JsonValue],
        outputs: list[str],
    ) -> ExecutionResult:
        """Run code in the session; a crashed or timed-out interpreter is replaced."""
        live = await self._get(user, session_id)
        try:
            return await self._run(live, lambda it: it.execute(code, inputs, outputs))
        except NodeUnavailable:  # no interpreter to answer, not even a fresh one
            raise
        except WorkerError as error:
            return ExecutionResult(
                success=False,
                console_output="",
                error_message=f"{error.message}; the session's interpreter was restarted "
                "with an empty workspace",
                outputs=[(name, None) for name in outputs],
                changed_files=[],
            )

    async def console_output(self, user: Principal, session_id: str) -> str:
        """Console output of the last finished execution."""
        live = await self._get(user, session_id)
        return await self._asked(live, live.interpreter.console_output())

    async def history(self, user: Principal, session_id: str) -> list[str]:
        """The code executed in the session, oldest first."""
        live = await self._get(user, session_id)
        return await self._asked(live, live.interpreter.history())

    async def _asked(self, live: _Live, question: Awaitable[T]) -> T:
        """The answer of the session's keeper; a session that is gone is forgotten here."""
        try:
            return await question
        except (SessionLost, NotFound):
            self._live.pop(live.session.id, None)
            raise

    async def cancel(self, user: Principal, session_id: str) -> None:
        """Interrupt the running execution, if any (best effort); a shared session's may run
        from another node (its interpreter interrupts only a call in flight)."""
        live = await self._get(user, session_id)
        if live.lock.locked() or self._factory.shared:
            live.interpreter.interrupt()

    async def close(
        self, user: Principal, session_id: str, *, force: bool, any_owner: bool
    ) -> None:
        """Close a session (Owners may close anybody's with `any_owner`); closing one lost
        with its node forgets it."""
        try:
            live = await self._get(user, session_id, any_owner=any_owner)
        except SessionLost:
            await self._factory.forget(session_id)
            return
        self._live.pop(live.session.id, None)
        await self._ended([live])
        try:
            if force:
                await live.interpreter.close(force=True)
                return
            async with live.lock:
                await live.interpreter.close()
        finally:
            await self._factory.forget(session_id)

    async def workspace_names(self, user: Principal, session_id: str) -> list[str]:
        """Names of the session's objects."""
        return await self._run(await self._get(user, session_id), lambda it: it.workspace_names())

    async def workspace_get(self, user: Principal, session_id: str, name: str) -> bytes:
        """One object, serialized in the worker."""
        return await self._run(await self._get(user, session_id), lambda it: it.workspace_get(name))

    async def workspace_put(self, user: Principal, session_id: str, name: str, data: bytes) -> None:
        """Bind serialized bytes as an object; they are unpickled only in the worker."""
        live = await self._get(user, session_id)
        await self._run(live, lambda it: it.workspace_put(name, data))

    async def workspace_delete(self, user: Principal, session_id: str, name: str) -> None:
        """Remove an object."""
        await self._run(await self._get(user, session_id), lambda it: it.workspace_delete(name))

    async def file_names(self, user: Principal, session_id: str) -> list[str]:
        """Working-directory files."""
        return await self._run(await self._get(user, session_id), lambda it: it.file_names())

    async def file_get(self, user: Principal, session_id: str, name: str) -> bytes:
        """One working-directory file."""
        return await self._run(await self._get(user, session_id), lambda it: it.file_get(name))

    async def file_put(self, user: Principal, session_id: str, name: str, data: bytes) -> None:
        """Write a working-directory file."""
        await self._run(await self._get(user, session_id), lambda it: it.file_put(name, data))

    async def file_delete(self, user: Principal, session_id: str, name: str) -> None:
        """Delete a working-directory file."""
        await self._run(await self._get(user, session_id), lambda it: it.file_delete(name))

    async def snapshot(self, user: Principal, session_id: str, name: str | None) -> str:
        """Save the session's workspace and files as a new snapshot; returns its id."""
        live = await self._get(user, session_id)
        archive = await self._run(live, lambda it: it.snapshot())
        saved = await asyncio.to_thread(
            self._snapshots.save, user, name, archive, session_id, live.session.environment
        )
        return saved.id

    async def load_snapshot(self, user: Principal, session_id: str, snapshot_id: str) -> None:
        """Merge one of the caller's snapshots into the session."""
        live = await self._get(user, session_id)
        archive = await asyncio.to_thread(self._snapshots.content, user, snapshot_id)
        await self._run(live, lambda it: it.restore(archive))

    async def close_idle(self) -> int:
        """Close sessions no node used for longer than the idle limit (shared ones too, which
        web nodes that stopped left behind); returns how many."""
        if self._factory.shared:
            await self._shared(None)
        candidates = [live for live in self._live.values() if not live.lock.locked()]
        answers = await asyncio.gather(
            *(live.interpreter.idle_seconds() for live in candidates), return_exceptions=True
        )
        idle = [
            live
            for live, answer in zip(candidates, answers, strict=True)
            if isinstance(answer, SessionLost | NotFound)
            or (isinstance(answer, float) and answer > self._limits.idle_seconds)
        ]
        for live in idle:
            self._live.pop(live.session.id, None)
        await self._ended(idle)
        for live in idle:
            await live.interpreter.close(force=True)
        return len(idle)

    async def close_all(self) -> None:
        """Close every session (server shutdown); shared ones live on for the other nodes."""
        live_sessions = list(self._live.values())
        self._live.clear()
        if self._factory.shared:
            return
        await self._ended(live_sessions)
        await asyncio.gather(*(live.interpreter.close(force=True) for live in live_sessions))

    def environment_ids(self) -> set[str]:
        """The environments live sessions run on."""
        return {
            live.session.environment.id
            for live in self._live.values()
            if live.session.environment is not None
        }

    def counts(self) -> tuple[int, int]:
        """(live sessions, sessions running code now), for /status."""
        busy = sum(1 for live in self._live.values() if live.lock.locked())
        return len(self._live), busy
