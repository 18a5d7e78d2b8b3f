"""ServicePools without HTTP: the seed's iris SVC, one row per call, on a pool of one worker.

Measures consume throughput and p50/p99 at 1 and 16 calls in flight, the same prediction run
in-process (what the worker itself spends per call), and the latency of the first call after
publishing with and without blank workers.

Run: .venv/bin/python -m bench.consume_worker [--calls 20000] [--pin 0] [--user nobody]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import time
from datetime import UTC, datetime
from pathlib import Path

from tests.harness import traversable_tmp_dir

from o16n.domain.models import JsonValue, Parameter, ParameterType, ServiceVersion
from o16n.metrics import Metrics
from o16n.runtime.limits import WorkerLimits
from o16n.runtime.service_pools import PoolConfig, ServicePools

INIT = (
    "from sklearn import datasets, svm\n"
    "iris = datasets.load_iris()\n"
    "clf = svm.SVC().fit(iris.data, iris.target)"
)
CODE = "result = int(clf.predict(flower_data.reshape(1, -1))[0])"
ROW: dict[str, JsonValue] = {"flower_data": [7.0, 3.2, 4.7, 1.4]}


def no_blobs(blob_id: str) -> bytes:
    """The service has no snapshot."""
    raise KeyError(blob_id)


def iris(*, light: bool = False) -> ServiceVersion:
    """The seed's service: a vector in, the predicted class out (`light`: a sum, no sklearn)."""
    moment = datetime.now(UTC)
    return ServiceVersion(
        name="light" if light else "iris",
        version="v1",
        revision=1,
        code="result = int(flower_data.sum())" if light else CODE,
        init_code=None if light else INIT,
        description=None,
        operation_id=None,
        inputs=(Parameter("flower_data", ParameterType.VECTOR),),
        outputs=(Parameter("result", ParameterType.INTEGER),),
        output_file_names=(),
        runtime_type="Python",
        snapshot_id=None,
        blob_ids=(),
        publisher_id=None,
        publisher_name="bench",
        created_at=moment,
        updated_at=moment,
        source_session_id=None,
    )


def figures(latencies: list[float], elapsed: float) -> str:
    """Calls per second, p50 and p99."""
    cuts = statistics.quantiles(latencies, n=100)
    rate = len(latencies) / elapsed
    return f"{rate:8.0f} calls/s   p50 {cuts[49] * 1e6:7.1f} us   p99 {cuts[98] * 1e6:7.1f} us"


async def measure(pools: ServicePools, service: ServiceVersion, calls: int, depth: int) -> str:
    """`calls` consumes by `depth` concurrent callers."""
    latencies: list[float] = []

    async def caller(count: int) -> None:
        for _ in range(count):
            started = time.perf_counter()
            result = await pools.consume(service, ROW)
            latencies.append(time.perf_counter() - started)
            assert result.success and result.outputs == {"result": 1}, result

    started = time.perf_counter()
    await asyncio.gather(*(caller(calls // depth) for _ in range(depth)))
    return figures(latencies, time.perf_counter() - started)


def in_process(calls: int) -> str:
    """The prediction alone, in this process, one call after the other."""
    import numpy as np

    namespace: dict[str, object] = {}
    exec(INIT, namespace)
    code = compile(CODE, "<code>", "exec")
    latencies = []
    started = time.perf_counter()
    for _ in range(calls):
        begin = time.perf_counter()
        namespace["flower_data"] = np.array(ROW["flower_data"])
        exec(code, namespace)
        latencies.append(time.perf_counter() - begin)
    return figures(latencies, time.perf_counter() - started)


async def first_call(
    root: Path, user: str | None, blank: int, preload: tuple[str, ...], light: bool
) -> float:
    """Seconds from publishing to the first answer, blank workers given time to start."""
    config = PoolConfig(
        root=root, limits=WorkerLimits(user=user), blank=blank, preload=preload, max_workers=1
    )
    pools = ServicePools(config, no_blobs, Metrics())
    try:
        pools.start()
        while pools.counts().blank < blank:
            await asyncio.sleep(0.05)
        started = time.perf_counter()
        assert (await pools.consume(iris(light=light), ROW)).success
        return time.perf_counter() - started
    finally:
        await pools.close()


async def main(calls: int, user: str | None) -> None:
    """Run every measurement and print it."""
    root = traversable_tmp_dir("o16n-bench-")
    try:
        config = PoolConfig(root=root / "pool", limits=WorkerLimits(user=user), max_workers=1)
        pools = ServicePools(config, no_blobs, Metrics())
        service = iris()
        try:
            await measure(pools, service, 2000, 16)  # prepare and warm up
            for depth in (1, 16):
                print(
                    f"consume, {depth:2} in flight: {await measure(pools, service, calls, depth)}"
                )
        finally:
            await pools.close()
        print(f"in-process predict     : {in_process(calls)}")
        cases = [
            (0, ()),
            (1, ()),
            (1, ("numpy", "pandas")),
            (1, ("numpy", "pandas", "sklearn.svm")),
        ]
        for light in (True, False):
            for number, (blank, preload) in enumerate(cases):
                folder = root / f"first-{light}-{number}"
                seconds = await first_call(folder, user, blank, preload, light)
                label = f"{'numpy sum' if light else 'iris SVC'}, blank={blank} preload="
                label += ",".join(preload) or "-"
                print(f"first call after publishing, {label:48}: {seconds * 1e3:6.0f} ms")
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=20_000)
    parser.add_argument("--pin", type=int, default=None, help="run everything on this core")
    parser.add_argument("--user", default=None, help="worker account when run as root")
    options = parser.parse_args()
    if options.pin is not None:
        os.sched_setaffinity(0, {options.pin})  # workers inherit it
    asyncio.run(main(options.calls, options.user))
