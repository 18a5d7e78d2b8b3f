"""What a killed server left in the workers' folders is cleared when the next one starts."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from tests.harness import Server


def _plant(root: Path) -> Path:
    leftover = root / "stale-worker"
    (leftover / "nested").mkdir(parents=True)
    (leftover / "nested" / "model.bin").write_bytes(b"x" * 10)
    return leftover


def test_a_restart_removes_worker_folders_left_by_a_killed_server(
    start_server: Callable[..., Server], open_tmp_path: Path
) -> None:
    data = open_tmp_path / "data"
    first = start_server(data)
    first.kill()
    sessions, services = _plant(data / "workers"), _plant(data / "services")
    second = start_server(data)
    with second.client(second.token()) as client:
        assert client.get("/status").status_code == 200
    assert not sessions.exists()
    assert not services.exists()
