"""Round trips to one worker process: latency of a trivial execute, pipelined ping throughput.

Run: PYTHONPATH=src .venv/bin/python bench/worker_roundtrip.py [--calls 20000] [--depth 16]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time

from o16n.runtime.limits import WorkerLimits
from o16n.runtime.process import WorkerProcess


def percentiles(samples: list[float]) -> str:
    """p50 and p99 in microseconds."""
    cuts = statistics.quantiles(samples, n=100)
    return f"p50 {cuts[49] * 1e6:7.1f} us   p99 {cuts[98] * 1e6:7.1f} us"


async def sequential(worker: WorkerProcess, kind: str, calls: int) -> list[float]:
    """Latency of `calls` trivial requests, one at a time."""
    latencies = []
    payload: dict[str, object] = {} if kind == "ping" else {"code": "x = 1"}
    for _ in range(calls):
        started = time.perf_counter()
        await worker.call(kind, payload, 10.0)
        latencies.append(time.perf_counter() - started)
    return latencies


async def pipelined(worker: WorkerProcess, kind: str, calls: int, depth: int) -> list[float]:
    """Latencies of `calls` requests issued by `depth` concurrent callers."""
    latencies: list[float] = []
    payload: dict[str, object] = {} if kind == "ping" else {"code": "x = 1", "outputs": ["x"]}

    async def caller(count: int) -> None:
        for _ in range(count):
            started = time.perf_counter()
            await worker.call(kind, payload, 10.0)
            latencies.append(time.perf_counter() - started)

    await asyncio.gather(*(caller(calls // depth) for _ in range(depth)))
    return latencies


async def main(calls: int, depth: int, user: str | None) -> None:
    """Start a worker, warm it up, measure, stop it."""
    with tempfile.TemporaryDirectory() as folder:
        async with WorkerProcess(folder, WorkerLimits(user=user)) as worker:
            await sequential(worker, "execute", 500)
            for kind in ("ping", "execute"):
                latencies = await sequential(worker, kind, 5000)
                rate = len(latencies) / sum(latencies)
                print(
                    f"{kind:7} x{len(latencies)}, 1 in flight : "
                    f"{rate:9.0f} calls/s   {percentiles(latencies)}"
                )
            for kind in ("ping", "execute"):
                started = time.perf_counter()
                latencies = await pipelined(worker, kind, calls, depth)
                rate = len(latencies) / (time.perf_counter() - started)
                print(
                    f"{kind:7} x{len(latencies)}, {depth} in flight: "
                    f"{rate:9.0f} calls/s   {percentiles(latencies)}"
                )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=20_000)
    parser.add_argument("--depth", type=int, default=16)
    parser.add_argument("--user", default=None, help="worker account when run as root")
    options = parser.parse_args()
    asyncio.run(main(options.calls, options.depth, options.user))
