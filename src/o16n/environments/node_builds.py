"""Environments built on a compute node other than the web node (a Ray node), from the lock
the web node resolved: what such a node needs to know, and one build at a time per node.

The web node sends a `NodeBuilds` with each worker that needs an environment; the worker's
host (o16n's code, never user code) builds the environment under `root` on its own node
unless it is there already, with the same uv steps and checks as the web node (hashes
required, wheels only unless source builds are allowed), then starts the worker on it. The
index options travel with it (they may hold credentials: the host passes them to uv only,
never to a worker).
"""

from __future__ import annotations

import fcntl
import math
from dataclasses import dataclass
from pathlib import Path

from o16n.domain.models import Environment
from o16n.environments.builder import UvEnvironments
from o16n.environments.uv import IndexOptions, Uv, cache_folder

_GUARD_FILE = ".o16n-builds.lock"


@dataclass(frozen=True)
class NodeBuilds:
    """Where a compute node keeps environments and uv's cache, where packages come from, and
    how long a build may take."""

    root: str
    cache: str
    options: IndexOptions
    build_seconds: float

    def interpreter(self, environment: Environment) -> str:
        """The Python of `environment` on this node, built first unless it is (blocking; the
        node's builds run one at a time, under a file lock); EnvironmentFailed on failure."""
        root = Path(self.root)
        root.mkdir(parents=True, exist_ok=True)
        with (root / _GUARD_FILE).open("a") as guard:
            fcntl.flock(guard, fcntl.LOCK_EX)  # released when the file closes
            uv = Uv(cache_folder(Path(self.cache)), self.options, self.build_seconds)
            builder = UvEnvironments(
                root, uv, max_builds=1, grace_seconds=math.inf, resolution_seconds=0.0
            )
            try:
                return builder.built(environment)
            finally:
                builder.close()
