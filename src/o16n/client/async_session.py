"""A remote Python session for asyncio: the same calls as Session, awaited."""

from __future__ import annotations

from contextlib import suppress
from types import TracebackType

from o16n.client.connection import AsyncConnection
from o16n.client.request import REQUEST_FAILURES
from o16n.client.session import ExecuteResult, SessionCalls


class AsyncSession:
    """One open session on the server; closes on `close()` or when its `async with` ends."""

    def __init__(self, connection: AsyncConnection, session_id: str) -> None:
        """Wrap the open session `session_id`."""
        self._connection = connection
        self._calls = SessionCalls(session_id)
        self.id = session_id
        self.closed = False

    async def execute(
        self,
        code: str,
        inputs: dict[str, object] | None = None,
        outputs: list[str] | None = None,
    ) -> ExecuteResult:
        """Run `code` with JSON `inputs` bound as globals and return the named `outputs`."""
        return await self._connection.run(self._calls.execute(code, inputs, outputs))

    async def put_object(self, name: str, value: object) -> None:
        """Bind `value` (serialized with dill) as the global `name` in the session."""
        await self._connection.run(self._calls.put_object(name, value))

    async def get_object(self, name: str) -> object:
        """The session's global `name`, deserialized with dill on this side."""
        return await self._connection.run(self._calls.get_object(name))

    async def objects(self) -> list[str]:
        """Names of the session's workspace objects."""
        return await self._connection.run(self._calls.objects())

    async def upload(self, name: str, data: bytes) -> None:
        """Store `data` as the file `name` in the session's working directory."""
        await self._connection.run(self._calls.upload(name, data))

    async def download(self, name: str) -> bytes:
        """The bytes of the working-directory file `name`."""
        return await self._connection.run(self._calls.download(name))

    async def files(self) -> list[str]:
        """Names of the working-directory files."""
        return await self._connection.run(self._calls.files())

    async def snapshot(self, name: str | None = None) -> str:
        """Save the workspace and files as a snapshot; its id."""
        return await self._connection.run(self._calls.snapshot(name))

    async def close(self) -> None:
        """Close the session on the server (again: no effect)."""
        if not self.closed:
            await self._connection.run(self._calls.close())
            self.closed = True

    async def __aenter__(self) -> AsyncSession:
        """The session itself."""
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        """Close the session; while an error propagates, a failing close does not mask it."""
        if error is None:
            await self.close()
            return
        with suppress(*REQUEST_FAILURES):
            await self.close()
