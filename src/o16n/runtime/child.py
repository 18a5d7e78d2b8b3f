"""A child process whose exit the event loop learns through a pidfd, on any event loop.

asyncio's subprocess API depends on the loop: uvloop's refuses `user`, `group`, `extra_groups`
and `umask`, which a worker's launch needs. `subprocess.Popen` starts the child on every loop;
its pidfd becomes readable when it exits, and the loop then reaps it.
"""

from __future__ import annotations

import asyncio
import os
import subprocess


class Child:
    """A started `subprocess.Popen`, watched by the running loop until it exits."""

    def __init__(self, popen: subprocess.Popen[bytes]) -> None:
        self._popen = popen
        self._loop = asyncio.get_running_loop()
        self._exited: asyncio.Future[int] = self._loop.create_future()
        self._pidfd = os.pidfd_open(popen.pid)
        self._loop.add_reader(self._pidfd, self._on_exit)

    @property
    def pid(self) -> int:
        """The child's process id."""
        return self._popen.pid

    @property
    def returncode(self) -> int | None:
        """None while running (or not yet reaped); the exit code, or -signal when killed."""
        return self._popen.returncode

    async def wait(self) -> int:
        """The return code, once the child has exited and been reaped."""
        return await asyncio.shield(self._exited)

    def _on_exit(self) -> None:
        returncode = self._popen.poll()
        if returncode is None:
            return
        self._loop.remove_reader(self._pidfd)
        os.close(self._pidfd)
        if not self._exited.done():
            self._exited.set_result(returncode)
