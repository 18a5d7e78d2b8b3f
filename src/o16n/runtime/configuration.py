"""How the service pools are sized and timed (built by the composition root from Settings)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from o16n.runtime.cpus import usable_cpus
from o16n.runtime.limits import WorkerLimits
from o16n.runtime.sandbox import Identities


def default_live_workers(cpus: int) -> int:
    """Prepared workers kept alive per machine by default: 4 per usable CPU, at least 8."""
    return max(8, 4 * cpus)


@dataclass(frozen=True)
class PoolConfig:
    """Where service workers live, their limits and deadlines, and how pools grow and shrink.

    `depth` is the number of calls pipelined to one worker while its pool may grow,
    `full_depth` once the pool has its largest size; `max_workers` the size of a
    version's pool without a dedicated size; `max_live` the workers prepared for versions that
    may live on this machine at once (the least recently used idle ones are evicted to make room;
    a version with none always gets one); `max_queue` the calls that may wait per version;
    `idle_seconds` how long a version stays unused before its surplus workers go; `blank` the
    started interpreters kept ready for any version (generic pool), each having imported
    `preload`; `identities` who workers run as (None: `limits.user`); `retry_seconds` how
    long a version that failed to prepare answers with that failure before it is tried again
    (and how long no blank worker is started after one failed to start).
    """

    root: Path
    limits: WorkerLimits = field(default_factory=WorkerLimits)
    identities: Identities | None = None
    start_seconds: float = 30.0
    call_seconds: float = 600.0
    prepare_seconds: float = 600.0
    depth: int = 8
    full_depth: int = 64
    max_workers: int = field(default_factory=usable_cpus)
    max_live: int = field(default_factory=lambda: default_live_workers(usable_cpus()))
    max_queue: int = 1000
    idle_seconds: float = 300.0
    blank: int = 2
    preload: tuple[str, ...] = ("numpy", "pandas", "sklearn")
    retry_seconds: float = 5.0

    def __post_init__(self) -> None:
        """Refuse sizes and times that cannot work."""
        for name in ("depth", "full_depth", "max_workers", "max_live", "max_queue"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1")
        if self.blank < 0:
            raise ValueError("blank must not be negative")
        for name in ("start_seconds", "call_seconds", "prepare_seconds", "idle_seconds"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be positive")
        if self.retry_seconds < 0:
            raise ValueError("retry_seconds must not be negative")
