"""The example script publishes the seed's Iris service and prints one species per row."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.harness import ADMIN_PASSWORD, Server

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "publish_iris.py"


def test_publish_iris_example_runs(server: Server) -> None:
    for _ in range(2):  # the second run replaces the version the first one published
        done = subprocess.run(
            [sys.executable, str(EXAMPLE), server.url, "admin", ADMIN_PASSWORD],
            capture_output=True,
            text=True,
            timeout=180,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        species = [line.rsplit(" ", 1)[1] for line in done.stdout.splitlines()]
        assert species == ["versicolor", "setosa", "virginica"]
