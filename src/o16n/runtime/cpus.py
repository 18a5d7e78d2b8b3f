"""How many CPUs this process may really use: its affinity mask, capped by a cgroup CPU quota.

`os.cpu_count()` counts the machine's cores; a server pinned with `taskset` or run in a container
with a CPU limit would then start more workers than it can run at once.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

_CGROUP_ROOT = Path("/sys/fs/cgroup")


def usable_cpus() -> int:
    """CPUs this process may run on at once (at least 1)."""
    allowed = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
    count = allowed or os.cpu_count() or 1
    quota = cgroup_quota_cpus(_CGROUP_ROOT, Path("/proc/self/cgroup"))
    return max(1, min(count, math.ceil(quota))) if quota is not None else count


def cgroup_quota_cpus(root: Path, membership: Path) -> float | None:
    """The CPU quota of the process's cgroup in CPUs (v2 `cpu.max`, v1 `cpu.cfs_quota_us`),
    or None when there is none or it cannot be read."""
    try:
        lines = membership.read_text().splitlines()
    except OSError:
        return None
    for line in lines:
        _, controllers, path = line.split(":", 2)
        relative = path.lstrip("/")
        if controllers == "":
            quota = _read_pair(root / relative / "cpu.max", None)
        elif "cpu" in controllers.split(","):
            quota = _read_pair(
                root / "cpu" / relative / "cpu.cfs_quota_us",
                root / "cpu" / relative / "cpu.cfs_period_us",
            )
        else:
            continue
        if quota is not None:
            return quota
    return None


def _read_pair(quota_file: Path, period_file: Path | None) -> float | None:
    """quota/period from v2's one file ("max 100000" or "150000 100000") or v1's two files."""
    try:
        if period_file is None:
            quota, period = quota_file.read_text().split()
        else:
            quota, period = quota_file.read_text().strip(), period_file.read_text().strip()
    except (OSError, ValueError):
        return None
    if quota in {"max", "-1"} or float(period) <= 0:
        return None
    return float(quota) / float(period)
