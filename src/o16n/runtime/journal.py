"""What every web node must know of a session besides its workspace: the code it ran, the
console output of its last execution and when it was last used."""

from __future__ import annotations

import time
from dataclasses import dataclass, field


@dataclass
class SessionJournal:
    """A session's history, last console output and last use (kept where its worker is)."""

    history: list[str] = field(default_factory=list)
    console_output: str = ""
    last_used: float = field(default_factory=time.monotonic)

    def used(self) -> None:
        """The session is in use now."""
        self.last_used = time.monotonic()

    def began(self, code: str) -> None:
        """An execution of `code` starts."""
        self.history.append(code)
        self.used()

    def ended(self, console_output: str) -> None:
        """The last execution finished with this console output (empty when it crashed)."""
        self.console_output = console_output
        self.used()

    def idle_seconds(self) -> float:
        """Seconds since the last use."""
        return time.monotonic() - self.last_used
