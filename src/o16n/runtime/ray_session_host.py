"""The Ray actor that keeps one session for every web node: its worker, and what the web
nodes must share of it (its record, history, last console output and last use).

It is a detached actor named after the session (`ray_sessions`), so it outlives the web node
that started it. Like `ray_host.WorkerHost`, whose relay it uses, it runs o16n's code only: user
code runs in its worker. A worker that crashed or passed its deadline is replaced here by a
fresh one (an empty workspace), and the session keeps its name and journal.
"""

from __future__ import annotations

import asyncio

import msgpack

import ray
from o16n.domain.models import Session
from o16n.runtime.journal import SessionJournal
from o16n.runtime.ray_host import Relayed, WorkerHost

_KILLED_GRACE = 1.0  # seconds a killed worker is given to be reaped
_DYING_SECONDS = 2.0  # how long a worker that failed may take to exit


def _console_output(relayed: Relayed) -> str:
    """The console output of a relayed execute reply (empty for an error or a reply
    without one: the web side rejects that reply)."""
    if relayed[0] != "reply":
        return ""
    answer = msgpack.unpackb(relayed[1], raw=False)
    text = answer.get("consoleOutput") if isinstance(answer, dict) else None
    return text if isinstance(text, str) else ""


class SessionHost:
    """One session's worker on this node and its journal (an asyncio actor)."""

    def __init__(self, session: Session, host_arguments: tuple[object, ...]) -> None:
        self._session = session
        self._arguments = host_arguments
        self._host = WorkerHost(*host_arguments)  # type: ignore[arg-type]
        self._journal = SessionJournal()
        self._restarting = asyncio.Lock()

    def described(self) -> tuple[Session, str]:
        """The session's record and the id of the Ray node this actor runs on."""
        return self._session, ray.get_runtime_context().get_node_id()

    async def start(self) -> Relayed:
        """Start the worker and complete its handshake."""
        self._journal.used()
        return await self._host.start()

    async def call(self, kind: str, payload: dict[str, object], timeout: float) -> Relayed:
        """One request to the worker; its reply. The session is in use meanwhile; an
        execution joins the history and leaves its console output (empty when it failed)."""
        executing = kind == "execute"
        if executing:
            self._journal.began(str(payload.get("code", "")))
        self._journal.used()
        try:
            relayed = await self._host.call(kind, payload, timeout)
        finally:
            self._journal.used()
        if executing:
            self._journal.ended(_console_output(relayed))
        return relayed

    async def call_many(self, calls: list[tuple[str, dict[str, object], float]]) -> list[Relayed]:
        """Several requests sent together, as WorkerHost.call_many (one each, in order)."""
        return [await self.call(*call) for call in calls]

    async def restart(self) -> Relayed:
        """Replace the worker that failed (it is dead, or dies now) by a fresh one in an
        emptied folder; a worker that runs on was replaced already, for another web node
        that saw the same failure, and is kept."""
        async with self._restarting:
            try:
                await asyncio.wait_for(self._host.watch(), _DYING_SECONDS)
            except TimeoutError:
                return ("reply", b"")
            await self._host.stop(_KILLED_GRACE)
            self._host = WorkerHost(*self._arguments)  # type: ignore[arg-type]
            return await self.start()

    def history(self) -> list[str]:
        """The code executed, oldest first."""
        self._journal.used()
        return list(self._journal.history)

    def console_output(self) -> str:
        """The last execution's console output."""
        self._journal.used()
        return self._journal.console_output

    def idle_seconds(self) -> float:
        """Seconds since the last use by any web node (0 while a call runs)."""
        return 0.0 if self._host.in_flight() else self._journal.idle_seconds()

    def in_flight(self) -> int:
        """Calls sent to the worker and not yet answered."""
        return self._host.in_flight()

    def interrupt(self) -> None:
        """KeyboardInterrupt in the worker's running call, if one runs (whichever web node
        sent it: the actor serves this while a call is in flight)."""
        self._journal.used()
        if self._host.in_flight():
            self._host.interrupt()

    def kill(self) -> None:
        """Kill the worker now."""
        self._host.kill()

    async def stop(self, grace: float) -> None:
        """Stop the worker and remove its folder (the session closes)."""
        await self._host.stop(grace)

    async def watch(self) -> int | None:
        """Return when the current worker has exited (its return code)."""
        return await self._host.watch()
