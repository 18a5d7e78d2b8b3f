"""Resource limits of a worker: what the web process asks for, and how the worker applies them.

Standalone (the worker imports it): it imports nothing from o16n.
"""

from __future__ import annotations

import resource
from dataclasses import dataclass
from types import MappingProxyType

CPU_GRACE_SECONDS = 2
_RESOURCES = MappingProxyType(
    {
        "memory_bytes": resource.RLIMIT_AS,
        "cpu_seconds": resource.RLIMIT_CPU,
        "open_files": resource.RLIMIT_NOFILE,
    }
)
LIMIT_KEYS = frozenset(_RESOURCES)


@dataclass(frozen=True, slots=True)
class WorkerLimits:
    """Limits and identity of a worker process; None leaves a limit as the server has it.

    `user` is the account workers run as when the server runs as root (ignored otherwise;
    None keeps the server's own identity). `cpu_seconds` counts over the worker's whole life.
    `threads` caps the native thread pools (OpenMP, OpenBLAS, MKL) of each worker.
    """

    memory_bytes: int | None = None
    cpu_seconds: int | None = None
    open_files: int | None = None
    user: str | None = "nobody"
    threads: int | None = 1

    def __post_init__(self) -> None:
        """Refuse non-positive limits early, in the web process."""
        for key in (*sorted(LIMIT_KEYS), "threads"):
            value = getattr(self, key)
            if value is not None and (type(value) is not int or value <= 0):
                raise ValueError(f"{key} must be a positive integer or None")

    def to_payload(self) -> dict[str, object]:
        """The limits as `hello` payload members."""
        return {key: getattr(self, key) for key in sorted(LIMIT_KEYS)}


def apply_limits(payload: dict[str, object]) -> None:
    """setrlimit for each limit present in `payload` (never above the current hard limit).

    Soft and hard are set alike, so user code cannot raise them again; the CPU hard limit
    is a little higher so that SIGXCPU comes before SIGKILL. Raises ValueError.
    """
    for key, which in _RESOURCES.items():
        value = payload.get(key)
        if value is None:
            continue
        if type(value) is not int or value <= 0:
            raise ValueError(f"{key} must be a positive integer")
        ceiling = value + CPU_GRACE_SECONDS if which == resource.RLIMIT_CPU else value
        hard = resource.getrlimit(which)[1]
        if hard != resource.RLIM_INFINITY:
            value, ceiling = min(value, hard), min(ceiling, hard)
        try:
            resource.setrlimit(which, (value, ceiling))
        except OSError as exc:
            raise ValueError(f"cannot set {key}: {exc}") from exc
