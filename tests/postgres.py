"""A throwaway PostgreSQL cluster for the tests: initdb in a temporary folder, one server.

PostgreSQL refuses to run as root, so under root the cluster belongs to `postgres`. The
binaries come from Debian's `postgresql` package (`.ci/run` installs it when missing).
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from tests.harness import free_port

START_SECONDS = 60


def _binaries() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not found:
        raise RuntimeError("PostgreSQL server binaries are missing: apt-get install postgresql")
    return Path(found[-1]).parent


def _as_owner() -> list[str]:
    """The prefix that runs a command as the cluster's owner."""
    if os.geteuid() != 0:
        return []
    return ["runuser", "-u", "postgres", "--"]


@dataclass
class Postgres:
    """A running cluster open to its owner over 127.0.0.1, without authentication."""

    root: Path
    port: int
    user: str

    @classmethod
    def start(cls) -> Postgres:
        """initdb and start; stop() removes everything."""
        root = Path(tempfile.mkdtemp(prefix="o16n-pg-", dir="/tmp"))
        user = "postgres" if os.geteuid() == 0 else pwd.getpwuid(os.geteuid()).pw_name
        if os.geteuid() == 0:
            shutil.chown(root, "postgres", "postgres")
        cluster = cls(root, free_port(), user)
        cluster._run("initdb", "-D", str(root / "data"), "-A", "trust", "-U", user, "-E", "UTF8")
        cluster._run(
            "pg_ctl",
            "-D",
            str(root / "data"),
            "-l",
            str(root / "server.log"),
            "-w",
            "-t",
            str(START_SECONDS),
            "-o",
            f"-c listen_addresses=127.0.0.1 -p {cluster.port} -k {root} -c fsync=off",
            "start",
        )
        return cluster

    def _run(self, program: str, *args: str) -> None:
        subprocess.run(
            [*_as_owner(), str(_binaries() / program), *args],
            check=True,
            capture_output=True,
            timeout=START_SECONDS,
        )

    def database(self, name: str) -> str:
        """Create an empty database; its SQLAlchemy URL."""
        self._run("createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", self.user, name)
        return f"postgresql+psycopg://{self.user}@127.0.0.1:{self.port}/{name}"

    def stop(self) -> None:
        """Stop the server at once and remove the cluster."""
        self._run("pg_ctl", "-D", str(self.root / "data"), "-m", "immediate", "-w", "stop")
        shutil.rmtree(self.root, ignore_errors=True)
