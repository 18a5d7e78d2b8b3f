"""Density: many versions of the seed's iris service on one machine, started as a user starts it.

Publishes `--versions` versions from one snapshot of the trained SVC, calls each once (each
first call prepares a worker; the machine-wide cap evicts the least recently used idle ones),
then reports the first-call latencies and the memory (PSS) of the whole process tree, hot and
after the versions were idle for `--idle` seconds; finally calls `--again` versions once more
(their workers evicted or scaled to zero). Bounded, to 127.0.0.1 only.

Run: .venv/bin/python -m bench.density [--versions 1000] [--idle 10] [--again 20]
"""

from __future__ import annotations

import argparse
import os
import shutil
import time
from pathlib import Path

import httpx
from tests.harness import Server, traversable_tmp_dir

from bench.cold_start import VERSICOLOR, publish_then_first_answer, snapshot_of_a_trained_model
from bench.session_execute import summary


def _children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        with (task / "children").open() as listing:
            found += [int(child) for child in listing.read().split()]
    return found


def tree_pss_mib(root: int) -> float:
    """Proportional set size of `root` and all its descendants, in MiB."""
    total_kib, pending = 0, [root]
    while pending:
        pid = pending.pop()
        try:
            rollup = Path(f"/proc/{pid}/smaps_rollup").read_text()
            pending += _children(pid)
        except OSError:  # it exited meanwhile
            continue
        total_kib += next(
            int(line.split()[1]) for line in rollup.splitlines() if line.startswith("Pss:")
        )
    return total_kib / 1024


def first_call(client: httpx.Client, name: str) -> float:
    """Seconds a call of `name` took; it must answer correctly."""
    started = time.perf_counter()
    answer = client.post(f"/api/{name}/1.0", json={"flower": VERSICOLOR}).json()
    elapsed = time.perf_counter() - started
    assert answer["outputParameters"] == {"result": 1}, answer
    return elapsed


def main() -> None:
    """Publish, call, idle, call again; print latencies and memory."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--versions", type=int, default=1000)
    parser.add_argument("--idle", type=float, default=10.0)
    parser.add_argument("--again", type=int, default=20)
    arguments = parser.parse_args()
    root = traversable_tmp_dir("o16n-density-")
    env = {"O16N_LOG_LEVEL": "warning", "O16N_POOL_IDLE_SECONDS": str(arguments.idle)}
    server = Server(root / "data", env=env, own_socket=True).start()
    assert server.process is not None
    try:
        with server.client(server.token()) as client:
            snapshot = snapshot_of_a_trained_model(client)
            publishes, firsts = [], []
            for number in range(arguments.versions):
                publish, total = publish_then_first_answer(client, snapshot, f"Dense{number}")
                publishes.append(publish)
                firsts.append(total - publish)
            hot = tree_pss_mib(server.process.pid)
            time.sleep(arguments.idle * 1.5)
            idle = tree_pss_mib(server.process.pid)
            again = [first_call(client, f"Dense{n}") for n in range(arguments.again)]
        print(f"versions {arguments.versions}, cpus {len(os.sched_getaffinity(0))}")
        print(summary("publish", publishes))
        print(summary("first call", firsts))
        print(f"{'':32} max {max(firsts) * 1e3:8.2f} ms")
        print(summary("call after idle/eviction", again))
        print(
            f"process tree PSS: hot {hot:.0f} MiB, after {arguments.idle:g} s idle {idle:.0f} MiB"
        )
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
