"""Sessions: remote Python interpreters, private to their creator."""

from __future__ import annotations

import asyncio
import time
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
from o16n.errors import CapacityExceeded, InvalidInput, NotFound, TooManySessions, WorkerError
from o16n.ids import SessionId, new_guid, now

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
    session: Session
    interpreter: Interpreter
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    history: list[str] = field(default_factory=list)
    console_output: str = ""
    last_used: float = field(default_factory=time.monotonic)


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
        self._check_capacity(user)
        base = snapshot.environment if snapshot is not None else None
        chosen = await asyncio.to_thread(declared, self._environments, environment, base)
        if chosen is not None:
            await self._environments.ready(chosen)
            self._check_capacity(user)
        session_id = SessionId(new_guid())
        session = Session(
            session_id, name or "", user.user_id, user.username, runtime, now(), chosen
        )
        interpreter = await self._factory.start(session_id, chosen)
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

    def _check_capacity(self, user: Principal) -> None:
        if len(self._live) >= self._limits.total:
            raise CapacityExceeded(
                f"the server runs its maximum of {self._limits.total} sessions: try again later"
            )
        mine = sum(1 for live in self._live.values() if live.session.owner_id == user.user_id)
        if mine >= self._limits.per_user:
            raise TooManySessions(f"you have {mine} open sessions, the maximum: close one first")

    async def visible_to(self, user: Principal, *, all_users: bool) -> list[Session]:
        """The caller's sessions (everybody's with `all_users`) on every node, oldest first."""
        if self._directory is not None:
            owner = None if all_users else user.user_id
            return await asyncio.to_thread(self._directory.listed, owner)
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

    def _get(self, user: Principal, session_id: str, *, any_owner: bool = False) -> _Live:
        live = self._live.get(SessionId(session_id))
        if live is None or not (any_owner or live.session.owner_id == user.user_id):
            raise NotFound(f"no session {session_id!r}", field="id")
        live.last_used = time.monotonic()
        return live

    async def _run(self, live: _Live, action: Callable[[Interpreter], Awaitable[T]]) -> T:
        async with live.lock:
            try:
                return await action(live.interpreter)
            except WorkerError:
                await self._replace_interpreter(live)
                raise

    async def _replace_interpreter(self, live: _Live) -> None:
        await live.interpreter.close(force=True)
        live.interpreter = await self._factory.start(live.session.id, live.session.environment)

    async def execute(
        self,
        user: Principal,
        session_id: str,
        code: str,
        inputs: dict[str, JsonValue],
        outputs: list[str],
    ) -> ExecutionResult:
        """Run code in the session; a crashed or timed-out interpreter is replaced."""
        live = self._get(user, session_id)
        live.history.append(code)
        try:
            result = await self._run(live, lambda it: it.execute(code, inputs, outputs))
        except WorkerError as error:
            result = ExecutionResult(
                success=False,
                console_output="",
                error_message=f"{error.message}; the session's interpreter was restarted "
                "with an empty workspace",
                outputs=[(name, None) for name in outputs],
                changed_files=[],
            )
        live.console_output = result.console_output
        return result

    def console_output(self, user: Principal, session_id: str) -> str:
        """Console output of the last finished execution."""
        return self._get(user, session_id).console_output

    def history(self, user: Principal, session_id: str) -> list[str]:
        """The code executed in the session, oldest first."""
        return list(self._get(user, session_id).history)

    def cancel(self, user: Principal, session_id: str) -> None:
        """Interrupt the running execution, if any (best effort)."""
        live = self._get(user, session_id)
        if live.lock.locked():
            live.interpreter.interrupt()

    async def close(
        self, user: Principal, session_id: str, *, force: bool, any_owner: bool
    ) -> None:
        """Close a session (Owners may close anybody's with `any_owner`)."""
        live = self._get(user, session_id, any_owner=any_owner)
        del self._live[live.session.id]
        await self._ended([live])
        if force:
            await live.interpreter.close(force=True)
            return
        async with live.lock:
            await live.interpreter.close()

    async def workspace_names(self, user: Principal, session_id: str) -> list[str]:
        """Names of the session's objects."""
        return await self._run(self._get(user, session_id), lambda it: it.workspace_names())

    async def workspace_get(self, user: Principal, session_id: str, name: str) -> bytes:
        """One object, serialized in the worker."""
        return await self._run(self._get(user, session_id), lambda it: it.workspace_get(name))

    async def workspace_put(self, user: Principal, session_id: str, name: str, data: bytes) -> None:
        """Bind serialized bytes as an object; they are unpickled only in the worker."""
        live = self._get(user, session_id)
        await self._run(live, lambda it: it.workspace_put(name, data))

    async def workspace_delete(self, user: Principal, session_id: str, name: str) -> None:
        """Remove an object."""
        await self._run(self._get(user, session_id), lambda it: it.workspace_delete(name))

    async def file_names(self, user: Principal, session_id: str) -> list[str]:
        """Working-directory files."""
        return await self._run(self._get(user, session_id), lambda it: it.file_names())

    async def file_get(self, user: Principal, session_id: str, name: str) -> bytes:
        """One working-directory file."""
        return await self._run(self._get(user, session_id), lambda it: it.file_get(name))

    async def file_put(self, user: Principal, session_id: str, name: str, data: bytes) -> None:
        """Write a working-directory file."""
        await self._run(self._get(user, session_id), lambda it: it.file_put(name, data))

    async def file_delete(self, user: Principal, session_id: str, name: str) -> None:
        """Delete a working-directory file."""
        await self._run(self._get(user, session_id), lambda it: it.file_delete(name))

    async def snapshot(self, user: Principal, session_id: str, name: str | None) -> str:
        """Save the session's workspace and files as a new snapshot; returns its id."""
        live = self._get(user, session_id)
        archive = await self._run(live, lambda it: it.snapshot())
        saved = await asyncio.to_thread(
            self._snapshots.save, user, name, archive, session_id, live.session.environment
        )
        return saved.id

    async def load_snapshot(self, user: Principal, session_id: str, snapshot_id: str) -> None:
        """Merge one of the caller's snapshots into the session."""
        live = self._get(user, session_id)
        archive = await asyncio.to_thread(self._snapshots.content, user, snapshot_id)
        await self._run(live, lambda it: it.restore(archive))

    async def close_idle(self) -> int:
        """Close sessions unused for longer than the idle limit; returns how many."""
        limit = time.monotonic() - self._limits.idle_seconds
        idle = [
            live
            for live in self._live.values()
            if live.last_used < limit and not live.lock.locked()
        ]
        for live in idle:
            self._live.pop(live.session.id, None)
        await self._ended(idle)
        for live in idle:
            await live.interpreter.close(force=True)
        return len(idle)

    async def close_all(self) -> None:
        """Close every session (server shutdown)."""
        live_sessions = list(self._live.values())
        self._live.clear()
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
