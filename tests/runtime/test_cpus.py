"""Pools are sized by the CPUs the server may use, not by the machine's core count."""

from __future__ import annotations

import os
import shutil
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from o16n.runtime.cpus import cgroup_quota_cpus
from tests.harness import Server, traversable_tmp_dir
from tests.services.publishing import service_name


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def test_a_cgroup_v2_quota_counts_in_cpus(tmp_path: Path) -> None:
    _write(tmp_path / "proc", "0::/box\n")
    _write(tmp_path / "fs/box/cpu.max", "150000 100000\n")
    assert cgroup_quota_cpus(tmp_path / "fs", tmp_path / "proc") == 1.5
    _write(tmp_path / "fs/box/cpu.max", "max 100000\n")
    assert cgroup_quota_cpus(tmp_path / "fs", tmp_path / "proc") is None


def test_a_cgroup_v1_quota_counts_in_cpus(tmp_path: Path) -> None:
    _write(tmp_path / "proc", "5:memory:/m\n2:cpu,cpuacct:/box\n")
    _write(tmp_path / "fs/cpu/box/cpu.cfs_quota_us", "200000\n")
    _write(tmp_path / "fs/cpu/box/cpu.cfs_period_us", "100000\n")
    assert cgroup_quota_cpus(tmp_path / "fs", tmp_path / "proc") == 2.0
    _write(tmp_path / "fs/cpu/box/cpu.cfs_quota_us", "-1\n")
    assert cgroup_quota_cpus(tmp_path / "fs", tmp_path / "proc") is None


@pytest.mark.skipif(
    not shutil.which("taskset") or len(os.sched_getaffinity(0)) < 2, reason="needs 2 CPUs"
)
def test_a_server_pinned_to_one_cpu_starts_one_worker_per_version() -> None:
    root = traversable_tmp_dir("o16n-cpus-")
    server = Server(root / "data", own_socket=True, launcher=["taskset", "-c", "0"]).start()
    try:
        name = service_name("pinned")
        with server.client(server.token()) as client:
            published = client.post(
                f"/services/{name}/1.0",
                json={
                    "code": "import time\ntime.sleep(0.2)\ny = 1",
                    "outputParameterDefinitions": [{"name": "y", "type": "integer"}],
                },
            )
            assert published.status_code == 201, published.text
            with ThreadPoolExecutor(24) as callers:  # three times the pipeline depth of 8
                replies = list(
                    callers.map(lambda _: client.post(f"/api/{name}/1.0", json={}), range(24))
                )
            assert all(reply.json()["success"] for reply in replies)
            details = client.get("/status").json()["components"]["backends"]["components"]["local"][
                "details"
            ]
        assert details["serviceWorkers"] == 1
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)
