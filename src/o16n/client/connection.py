"""The connections that drive flows over httpx: one blocking, one for asyncio."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

import httpx

from o16n.client.request import Flow, Reply, Request, T, advance, checked, exchange
from o16n.client.tokens import Credentials


class Connection:
    """Runs flows on an httpx.Client: authenticated, refreshed, failures raised as O16nError."""

    def __init__(self, url: str, credentials: Credentials, *, timeout: float) -> None:
        """Connect to the server at `url` (no request is sent yet)."""
        self._http = httpx.Client(base_url=url.rstrip("/"), timeout=timeout)
        self.credentials = credentials

    def run(self, flow: Flow[T]) -> T:
        """Send the flow's requests one after the other; its result."""
        reply: Reply = None
        while True:
            try:
                request = advance(flow, reply)
            except StopIteration as stop:
                result: T = stop.value
                return result
            try:
                reply = self._send(request)
            except BaseException as error:
                reply = error

    def _send(self, request: Request) -> httpx.Response:
        if self.credentials.due(request):
            self.run(self.credentials.renewal())
        sent = request.build(self._http, self.credentials.headers(request))
        return checked(self._http.send(sent))

    def request(
        self,
        method: str,
        path: str,
        *,
        json: object = None,
        content: bytes | None = None,
        files: Mapping[str, tuple[str, bytes, str]] | None = None,
        headers: Mapping[str, str] | None = None,
        data: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        """Send one authenticated request (`data`: form fields); non-2xx raises its O16nError."""
        request = Request(method, path, json, content, files, dict(headers or {}), data=data)
        return self.run(exchange(request))

    def close(self) -> None:
        """Close the underlying HTTP connections."""
        self._http.close()


class AsyncConnection:
    """Runs flows on an httpx.AsyncClient; concurrent requests share one login or refresh."""

    def __init__(self, url: str, credentials: Credentials, *, timeout: float) -> None:
        """Connect to the server at `url` (no request is sent yet)."""
        self._http = httpx.AsyncClient(base_url=url.rstrip("/"), timeout=timeout)
        self.credentials = credentials
        self._renewing = asyncio.Lock()

    async def run(self, flow: Flow[T]) -> T:
        """Send the flow's requests one after the other; its result."""
        reply: Reply = None
        while True:
            try:
                request = advance(flow, reply)
            except StopIteration as stop:
                result: T = stop.value
                return result
            try:
                reply = await self._send(request)
            except BaseException as error:
                reply = error

    async def _send(self, request: Request) -> httpx.Response:
        if self.credentials.due(request):
            async with self._renewing:
                if self.credentials.due(request):
                    await self.run(self.credentials.renewal())
        sent = request.build(self._http, self.credentials.headers(request))
        return checked(await self._http.send(sent))

    async def close(self) -> None:
        """Close the underlying HTTP connections."""
        await self._http.aclose()
