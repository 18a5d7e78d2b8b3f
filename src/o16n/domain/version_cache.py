"""The consume path's cache of service versions: answered from memory, refreshed off the loop.

A fresh entry is returned as is. An expired one is still returned while one background task
reads the version again in a worker thread (stale-while-revalidate), so no request ever waits
for the database once a version is cached; only a version's first call waits for its read. A
change made through this process (`forget`) wins over a read that was in flight.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from o16n.domain.models import ServiceVersion
from o16n.errors import ServiceNotFound

Key = tuple[str, str]


class VersionCache:
    """(name, version) → ServiceVersion, each entry trusted for `seconds`."""

    def __init__(self, load: Callable[[str, str], ServiceVersion], seconds: float) -> None:
        self._load = load
        self._seconds = seconds
        self._entries: dict[Key, tuple[float, ServiceVersion]] = {}
        self._refreshing: dict[Key, asyncio.Task[None]] = {}
        self._changes = 0

    async def get(self, name: str, version: str) -> ServiceVersion:
        """The version, from memory when cached (refreshed in the background when stale)."""
        key = (name, version)
        entry = self._entries.get(key)
        if entry is None:
            return await self._read(key)
        expires, service = entry
        if time.monotonic() >= expires and key not in self._refreshing:
            task = asyncio.create_task(self._refresh(key))
            self._refreshing[key] = task
            task.add_done_callback(lambda _: self._refreshing.pop(key, None))
        return service

    def forget(self, name: str, version: str) -> None:
        """Drop the entry after a change: the next call reads the version again."""
        self._changes += 1
        self._entries.pop((name, version), None)

    async def _read(self, key: Key) -> ServiceVersion:
        changes = self._changes
        service = await asyncio.to_thread(self._load, *key)
        if changes == self._changes:
            self._entries[key] = (time.monotonic() + self._seconds, service)
        return service

    async def _refresh(self, key: Key) -> None:
        try:
            await self._read(key)
        except ServiceNotFound:  # deleted elsewhere (another node, the CLI)
            self._entries.pop(key, None)
        except Exception:  # a database hiccup: keep serving the entry, retry on the next call
            return
