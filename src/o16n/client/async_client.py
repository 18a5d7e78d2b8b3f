"""The o16n client for asyncio (httpx.AsyncClient): the same surface as Client, awaited."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from types import TracebackType
from typing import Unpack

from o16n.client import calls
from o16n.client.async_service import AsyncService
from o16n.client.async_session import AsyncSession
from o16n.client.connection import AsyncConnection
from o16n.client.environment import (
    BUILD_TIMEOUT,
    Requirements,
    building_display,
    environment_members,
    readiness,
)
from o16n.client.polls import Polls
from o16n.client.service import ServiceInfo, list_services, lookup
from o16n.client.session import open_session
from o16n.client.tokens import Credentials


class AsyncClient:
    """An o16n server for asyncio code; logs in on `async with` (or on the first request)."""

    def __init__(
        self,
        url: str,
        *,
        username: str | None = None,
        password: str | None = None,
        token: str | None = None,
        timeout: float = 60.0,
    ) -> None:
        """Log in with `username`/`password`, or use the access `token`; nothing is sent yet."""
        credentials = Credentials(username=username, password=password, token=token)
        self._connection = AsyncConnection(url, credentials, timeout=timeout)

    @property
    def access_token(self) -> str:
        """The current access token ("" before the first login)."""
        return self._connection.credentials.access_token

    async def login(self) -> None:
        """Log in now with the username and password, unless already logged in."""
        credentials = self._connection.credentials
        if credentials.tokens is None:
            await self._connection.run(credentials.login())

    async def refresh(self) -> None:
        """Rotate the token pair now (it also happens automatically before expiry)."""
        await self._connection.run(self._connection.credentials.refresh())

    @asynccontextmanager
    async def session(
        self,
        name: str | None = None,
        *,
        snapshot: str | None = None,
        requirements: Requirements | None = None,
        python_version: str | None = None,
    ) -> AsyncIterator[AsyncSession]:
        """`async with` a Python session (from a snapshot; on an environment of its own with
        `requirements` and `python_version`), closed when the block ends."""
        environment = environment_members(requirements, python_version)
        opened = await self._connection.run(open_session(name, snapshot, environment))
        async with AsyncSession(self._connection, opened) as session:
            yield session

    async def delete_snapshot(self, snapshot_id: str) -> None:
        """Delete one of your snapshots."""
        await self._connection.run(calls.delete_snapshot(snapshot_id))

    async def publish(
        self,
        name: str,
        version: str | None = None,
        *,
        progress: bool = False,
        **members: Unpack[calls.Members],
    ) -> str:
        """Publish a Python web service; its version (generated when `version` is None).

        Members: `code` (text) or `fn` (a function: its source, called with the inputs, its
        result bound to the outputs), `init` (text or a function run once), `inputs` and
        `outputs` (name -> an ML type name or a Python type: int, float, str, bool, list,
        numpy.ndarray, numpy.matrix, pandas.DataFrame), `models`/`objects` (workspace
        globals, sent in a snapshot that is deleted afterwards), `artifacts` (output file
        names), `files` (working directory), `description`, `operation_id`, `requirements`
        (a list of requirement lines or the Path of a requirements.txt) and `python_version`
        (an environment of its own: this returns once the server built it, with a spinner
        on standard error when `progress`; EnvironmentFailed when the build fails).
        """
        definition = calls.Definition(**members)
        published = await self._connection.run(calls.publish(name, version, definition))
        if definition.declares_environment:
            await self.wait_built(name, published, progress=progress)
        return published

    async def wait_built(
        self, name: str, version: str, *, progress: bool = False, timeout: float = BUILD_TIMEOUT
    ) -> None:
        """Return once the version's environment is built (TimeoutError after `timeout`
        seconds, EnvironmentFailed when the build fails)."""
        polls = Polls(f"the environment of {name}/{version}", timeout)
        with building_display(name, version, progress):
            while (await self._connection.run(readiness(name, version))) == "building":
                await asyncio.sleep(polls.pause("building"))

    async def patch(
        self, name: str, version: str, *, progress: bool = False, **members: Unpack[calls.Members]
    ) -> None:
        """Change the given members of a version; new objects and files lie over its own
        (new requirements: returns once their environment is built, as `publish`)."""
        definition = calls.Definition(**members)
        await self._connection.run(calls.patch(name, version, definition))
        if definition.declares_environment:
            await self.wait_built(name, version, progress=progress)

    async def services(self, name: str | None = None) -> list[ServiceInfo]:
        """Every service version you may see, or the versions of `name` in publish order."""
        return await self._connection.run(list_services(name))

    async def service(self, name: str, version: str | None = None) -> AsyncService:
        """An awaitable callable for one version of `name` (the latest when `version` is None)."""
        info, swagger = await self._connection.run(lookup(name, version))
        return AsyncService(self._connection, info, swagger)

    async def delete(self, name: str, version: str) -> None:
        """Delete one version of a web service."""
        await self._connection.run(calls.delete_service(name, version))

    async def close(self) -> None:
        """Close the HTTP connections."""
        await self._connection.close()

    async def __aenter__(self) -> AsyncClient:
        """The client, logged in (a wrong password raises here)."""
        try:
            await self.login()
        except BaseException:
            await self.close()
            raise
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        """Close the client."""
        await self.close()
