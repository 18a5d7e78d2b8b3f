"""Pauses between polls of something the server does in the background."""

from __future__ import annotations

import time

_FIRST_POLL = 0.1
_LONGEST_POLL = 2.0


class Polls:
    """A bounded backoff, and TimeoutError past the deadline (None: no deadline)."""

    def __init__(self, label: str, timeout: float | None) -> None:
        self._label = label
        self._deadline = None if timeout is None else time.monotonic() + timeout
        self._pause = _FIRST_POLL

    def pause(self, state: str) -> float:
        """How long to sleep before the next poll; TimeoutError naming `state` when the
        deadline would pass."""
        pause, self._pause = self._pause, min(self._pause * 1.5, _LONGEST_POLL)
        if self._deadline is not None and time.monotonic() + pause > self._deadline:
            raise TimeoutError(f"{self._label} is still {state}")
        return pause
