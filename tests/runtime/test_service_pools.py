"""Service pools: pipelining, queueing, growth, crashes, deadlines, revisions, sizing, idling."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest

from o16n.domain.models import ConsumeResult, PoolSize, ServiceVersion
from o16n.errors import CapacityExceeded, WorkerCrashed, WorkerStopped, WorkerTimeout
from o16n.metrics import Metrics
from o16n.runtime.service_pools import ServicePools
from tests.runtime.conftest import (
    PUBLISHED,
    ConfigMaker,
    Runner,
    Spawner,
    make_service,
    no_blobs,
    open_pools,
)
from tests.runtime.test_process import gone

PID = ("pid", "integer")


def echo(**options: object) -> ServiceVersion:
    """y = x * 3, with the worker's pid; `crash` exits the worker, `hang` spins, `pause` sleeps."""
    code = (
        "if crash:\n    os._exit(3)\n"
        "while hang:\n    pass\n"
        "time.sleep(pause)\n"
        "y = x * 3\npid = os.getpid()"
    )
    inputs = [("x", "integer"), ("crash", "logical"), ("hang", "logical"), ("pause", "numeric")]
    defaults: dict[str, object] = {
        "init": "import os, time",
        "inputs": inputs,
        "outputs": [("y", "integer"), PID],
    }
    return make_service(code, **(defaults | options))  # type: ignore[arg-type]


def args(x: int = 1, *, crash: bool = False, hang: bool = False, pause: float = 0.0) -> dict:  # type: ignore[type-arg]
    """Inputs of `echo`."""
    return {"x": x, "crash": crash, "hang": hang, "pause": pause}


async def until(condition: Callable[[], bool], seconds: float = 10.0) -> None:
    """Wait (polling) until `condition` holds."""
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "condition never held"
        await asyncio.sleep(0.02)


def pid_of(result: ConsumeResult) -> int:
    """The worker pid a call of `echo` reported."""
    assert result.success, result.error_message
    pid = result.outputs["pid"]
    assert isinstance(pid, int)
    return pid


@pytest.fixture
def log_dir(open_tmp_path: Path) -> Path:
    """A folder any worker account may write to, for user code to leave traces in."""
    folder = open_tmp_path / "log"
    folder.mkdir()
    folder.chmod(0o777)
    return folder


def test_64_concurrent_calls_pipeline_on_one_worker(run: Runner, pool_config: ConfigMaker) -> None:
    async def scenario() -> None:
        async with open_pools(pool_config(max_workers=1)) as pools:
            service = echo()
            results = await asyncio.gather(*(pools.consume(service, args(i)) for i in range(64)))
            assert [r.outputs["y"] for r in results] == [3 * i for i in range(64)]
            assert len({pid_of(r) for r in results}) == 1
            assert pools.counts().workers == 1

    run(scenario())


def test_a_busy_version_grows_up_to_its_maximum(run: Runner, pool_config: ConfigMaker) -> None:
    async def scenario() -> None:
        async with open_pools(pool_config(max_workers=2, depth=1)) as pools:
            service = echo()
            calls = (pools.consume(service, args(i, pause=0.2)) for i in range(8))
            results = await asyncio.gather(*calls)
            assert [r.outputs["y"] for r in results] == [3 * i for i in range(8)]
            assert len({pid_of(r) for r in results}) == 2

    run(scenario())


@pytest.mark.parametrize("full_depth", [1, 3])
def test_calls_beyond_the_full_pipes_and_the_queue_are_capacity_exceeded(
    run: Runner, pool_config: ConfigMaker, full_depth: int
) -> None:
    """A pool at its largest size pipelines `full_depth` calls per worker, then queues."""

    async def scenario() -> None:
        config = pool_config(max_workers=1, depth=1, full_depth=full_depth, max_queue=2)
        async with open_pools(config) as pools:
            service = echo()
            await pools.consume(service, args())
            accepted = [asyncio.ensure_future(pools.consume(service, args(pause=0.3)))]
            await asyncio.sleep(0)
            more = range(2, 2 + full_depth - 1 + 2)  # the rest of the pipe, then the queue
            accepted += [asyncio.ensure_future(pools.consume(service, args(i))) for i in more]
            await asyncio.sleep(0)
            with pytest.raises(CapacityExceeded, match="svc/v1 already has 2 calls waiting"):
                await pools.consume(service, args())
            results = await asyncio.gather(*accepted)
            assert [r.outputs["y"] for r in results] == [3 * i for i in range(1, more.stop)]

    run(scenario())


def test_a_crash_fails_that_call_and_the_calls_behind_it_are_redispatched(
    run: Runner, pool_config: ConfigMaker
) -> None:
    async def scenario() -> None:
        async with open_pools(pool_config(max_workers=1)) as pools:
            service = echo()
            first = pid_of(await pools.consume(service, args()))
            crash = asyncio.ensure_future(pools.consume(service, args(crash=True)))
            behind = [asyncio.ensure_future(pools.consume(service, args(i))) for i in range(5)]
            with pytest.raises(WorkerCrashed, match="exited with code 3"):
                await crash
            results = await asyncio.gather(*behind)
            assert [r.outputs["y"] for r in results] == [3 * i for i in range(5)]
            assert {pid_of(r) for r in results} != {first}
            await until(lambda: gone(first))
            assert pid_of(await pools.consume(service, args())) != first

    run(scenario())


def test_a_hanging_call_passes_its_deadline_and_the_next_call_works(
    run: Runner, pool_config: ConfigMaker
) -> None:
    async def scenario() -> None:
        async with open_pools(pool_config(call_seconds=1.0)) as pools:
            service = echo()
            first = pid_of(await pools.consume(service, args()))
            started = time.monotonic()
            with pytest.raises(WorkerTimeout, match="1 s deadline"):
                await pools.consume(service, args(hang=True))
            assert time.monotonic() - started < 5
            assert pid_of(await pools.consume(service, args(7))) != first

    run(scenario())


def test_a_version_s_own_timeout_overrides_the_default(
    run: Runner, pool_config: ConfigMaker
) -> None:
    async def scenario() -> None:
        async with open_pools(pool_config(call_seconds=30.0)) as pools:
            service = replace(echo(), timeout_seconds=0.5)
            started = time.monotonic()
            with pytest.raises(WorkerTimeout, match=r"0\.5 s deadline"):
                await pools.consume(service, args(hang=True))
            assert time.monotonic() - started < 1.5

    run(scenario())


def test_a_worker_killed_while_being_prepared_is_replaced_for_the_waiting_call(
    run: Runner, pool_config: ConfigMaker, log_dir: Path
) -> None:
    async def scenario() -> None:
        async with open_pools(pool_config(max_workers=1)) as pools:
            mark = f"open(os.path.join({str(log_dir)!r}, str(os.getpid())), 'w').close()"
            service = echo(init=f"import os, time\n{mark}\ntime.sleep(0.5)")
            waiting = asyncio.ensure_future(pools.consume(service, args(2)))
            await until(lambda: any(log_dir.iterdir()))
            (victim,) = [int(path.name) for path in log_dir.iterdir()]
            os.kill(victim, signal.SIGKILL)
            result = await waiting
            assert result.outputs["y"] == 6 and pid_of(result) != victim

    run(scenario())


def test_a_call_waits_for_a_worker_no_longer_than_its_version_s_timeout(
    run: Runner, pool_config: ConfigMaker
) -> None:
    async def scenario() -> None:
        async with open_pools(pool_config()) as pools:
            service = replace(echo(init="import os, time\ntime.sleep(5)"), timeout_seconds=0.5)
            started = time.monotonic()
            with pytest.raises(CapacityExceeded, match=r"within 0\.5 s"):
                await pools.consume(service, args())
            assert time.monotonic() - started < 1.5

    run(scenario())


def test_a_stopped_version_fails_its_calls_at_once_and_starts_no_worker_again(
    run: Runner, pool_config: ConfigMaker
) -> None:
    async def scenario() -> None:
        async with open_pools(pool_config(max_workers=1)) as pools:
            service = echo()
            first = pid_of(await pools.consume(service, args()))
            hung = asyncio.ensure_future(pools.consume(service, args(hang=True)))
            behind = asyncio.ensure_future(pools.consume(service, args()))
            await asyncio.sleep(0.2)
            pools.stop("svc", "v1")
            for call in (hung, behind):
                with pytest.raises(WorkerStopped, match="svc/v1 was deleted"):
                    await call
            await until(lambda: gone(first), 2.0)
            with pytest.raises(WorkerStopped):
                await pools.consume(service, args())
            assert pools.counts().workers == 0
            again = replace(service, created_at=PUBLISHED + timedelta(seconds=1))
            assert pid_of(await pools.consume(again, args())) != first

    run(scenario())


def test_other_versions_keep_answering_while_one_crashes(
    run: Runner, pool_config: ConfigMaker
) -> None:
    async def scenario() -> None:
        async with open_pools(pool_config(max_workers=1)) as pools:
            crashing, steady = echo(name="crashing"), echo(name="steady")

            async def crash() -> None:
                with pytest.raises(WorkerCrashed):
                    await pools.consume(crashing, args(crash=True))

            async def answer(x: int) -> int:
                result = await pools.consume(steady, args(x))
                assert result.outputs["y"] == 3 * x
                return pid_of(result)

            results = await asyncio.gather(*(crash() for _ in range(3)), *map(answer, range(30)))
            assert len({pid for pid in results if pid is not None}) == 1

    run(scenario())


def test_a_new_revision_drains_the_old_workers_and_prepares_again(
    run: Runner, pool_config: ConfigMaker
) -> None:
    async def scenario() -> None:
        async with open_pools(pool_config()) as pools:
            old = pid_of(await pools.consume(echo(), args()))
            in_flight = asyncio.ensure_future(pools.consume(echo(), args(2, pause=0.5)))
            await asyncio.sleep(0.1)
            patched = echo(revision=2, outputs=[("y", "integer"), PID, ("x", "integer")])
            result = await pools.consume(patched, args(5))
            assert result.outputs["x"] == 5 and pid_of(result) != old
            assert (await in_flight).outputs == {"y": 6, "pid": old}
            await until(lambda: gone(old))
            stale = await pools.consume(echo(), args(1))  # an older revision gets the newer one
            assert stale.outputs["x"] == 1

    run(scenario())


def test_a_dedicated_pool_warms_its_initial_workers(
    run: Runner, pool_config: ConfigMaker, log_dir: Path
) -> None:
    init = f"import os\nopen({str(log_dir / 'init')!r}, 'a').write(f'{{os.getpid()}}\\n')"
    service = make_service("pid = os.getpid()", init=init, outputs=[PID])

    async def scenario() -> None:
        async with open_pools(pool_config()) as pools:
            assert pools.pool_state(service).status == "NotFound"
            await pools.set_pool(service, PoolSize(2, 3))
            assert pools.pool_state(service).status == "Pending"
            await until(lambda: pools.pool_state(service).status == "Success")
            assert pools.pool_state(service).workers == 2
            pids = {
                pid_of(r)
                for r in await asyncio.gather(*(pools.consume(service, {}) for _ in range(20)))
            }
            started = [int(line) for line in (log_dir / "init").read_text().split()]
            assert sorted(started) == sorted(pids) and len(started) == 2  # initCode ran once each
            await pools.drop(service.name, service.version)
            assert pools.pool_state(service).status == "NotFound"
            assert all(gone(pid) for pid in pids)

    run(scenario())


def test_drop_lets_calls_in_flight_finish_then_stops_the_workers(
    run: Runner, pool_config: ConfigMaker
) -> None:
    async def scenario() -> None:
        async with open_pools(pool_config()) as pools:
            service = echo()
            first = pid_of(await pools.consume(service, args()))
            in_flight = asyncio.ensure_future(pools.consume(service, args(4, pause=0.3)))
            await asyncio.sleep(0.05)
            await pools.drop(service.name, service.version)
            assert (await in_flight).outputs["y"] == 12
            assert gone(first) and pools.counts().workers == 0
            assert pid_of(await pools.consume(service, args())) != first

    run(scenario())


def test_idle_versions_release_their_workers_down_to_the_dedicated_size(
    run: Runner, pool_config: ConfigMaker
) -> None:
    async def scenario() -> None:
        async with open_pools(pool_config(idle_seconds=0.3)) as pools:
            on_demand, dedicated = echo(name="ondemand"), echo(name="dedicated")
            await pools.set_pool(dedicated, PoolSize(1, 2))
            released = pid_of(await pools.consume(on_demand, args()))
            calls = (pools.consume(dedicated, args(pause=0.2)) for _ in range(16))
            kept = {pid_of(r) for r in await asyncio.gather(*calls)}
            assert len(kept) == 2
            await until(lambda: gone(released) and sum(map(gone, kept)) == 1)
            assert pools.counts().workers == 1
            assert pools.pool_state(dedicated).status == "Success"

    run(scenario())


def test_blank_workers_are_taken_first_and_replenished(
    run: Runner, pool_config: ConfigMaker
) -> None:
    code = "loaded = 'colorsys' in sys.modules"
    service = make_service(code, init="import sys", outputs=[("loaded", "logical")])

    async def scenario() -> None:
        async with open_pools(pool_config(blank=1, preload=("colorsys",))) as pools:
            pools.start()
            await until(lambda: pools.counts().blank == 1)
            assert (await pools.consume(service, {})).outputs == {"loaded": True}
            await until(lambda: pools.counts().blank == 1)

    run(scenario())


def test_a_version_that_cannot_prepare_answers_with_its_failure_and_is_retried_later(
    run: Runner, pool_config: ConfigMaker, log_dir: Path
) -> None:
    init = f"open({str(log_dir / 'tries')!r}, 'a').write('x')\n1 / 0"
    service = make_service("y = 1", init=init, outputs=[("y", "integer")])

    def tries() -> int:
        return len((log_dir / "tries").read_text())

    async def scenario() -> None:
        async with open_pools(pool_config(retry_seconds=0.5)) as pools:
            for _ in range(3):
                result = await pools.consume(service, {})
                assert not result.success and result.outputs == {"y": None}
                assert "svc/v1 could not be prepared: its initCode failed" in result.error_message
                assert result.error_message.endswith("ZeroDivisionError: division by zero")
            assert tries() == 1
            await asyncio.sleep(0.6)
            assert not (await pools.consume(service, {})).success
            assert tries() == 2

    run(scenario())


def test_the_snapshot_is_read_once_per_pool(
    run: Runner, spawn: Spawner, pool_config: ConfigMaker
) -> None:
    reads: list[str] = []

    async def scenario() -> None:
        async with spawn() as session:
            await session.execute("factor = 5", {}, [], 10)
            archive = (await session.call("snapshot_save", {}, 10))["data"]
        assert isinstance(archive, bytes)

        def load(blob_id: str) -> bytes:
            reads.append(blob_id)
            return {"blob": archive}[blob_id]

        service = make_service(
            "y = x * factor", inputs=[("x", "integer")], outputs=[("y", "integer")], blobs=["blob"]
        )
        pools = ServicePools(pool_config(), load, Metrics())
        try:
            await pools.set_pool(service, PoolSize(2, 2))
            await until(lambda: pools.pool_state(service).status == "Success")
            assert (await pools.consume(service, {"x": 2})).outputs == {"y": 10}
        finally:
            await pools.close()
        assert reads == ["blob"]

    run(scenario())


def test_close_stops_every_worker_and_removes_their_folders(
    run: Runner, pool_config: ConfigMaker
) -> None:
    config = pool_config(blank=1)

    async def scenario() -> None:
        pools = ServicePools(config, no_blobs, Metrics())
        pid = pid_of(await pools.consume(echo(), args()))
        await pools.set_pool(echo(name="other"), PoolSize(1, 1))
        await until(lambda: pools.counts() == pools.counts().__class__(2, 0, 1))
        await pools.close()
        assert gone(pid)
        assert list(config.root.iterdir()) == []
        with pytest.raises(CapacityExceeded, match="shutting down"):
            await pools.consume(echo(), args())

    run(scenario())


def test_a_version_published_again_gets_a_new_pool(run: Runner, pool_config: ConfigMaker) -> None:
    async def scenario() -> None:
        async with open_pools(pool_config()) as pools:
            first = pid_of(await pools.consume(echo(), args()))
            republished = replace(echo(), created_at=PUBLISHED + timedelta(days=1))
            assert pid_of(await pools.consume(republished, args())) != first

    run(scenario())


def test_a_caller_giving_up_in_the_queue_leaves_no_slot_taken(
    run: Runner, pool_config: ConfigMaker
) -> None:
    async def scenario() -> None:
        async with open_pools(pool_config(max_workers=1, depth=1, full_depth=1)) as pools:
            service = echo()
            await pools.consume(service, args())
            running = asyncio.ensure_future(pools.consume(service, args(pause=0.2)))
            await asyncio.sleep(0)
            given_up = asyncio.ensure_future(pools.consume(service, args()))
            await asyncio.sleep(0.05)
            given_up.cancel()
            assert (await running).success
            results = await asyncio.gather(*(pools.consume(service, args(i)) for i in range(4)))
            assert [r.outputs["y"] for r in results] == [0, 3, 6, 9]
            assert pools.counts().busy == 0

    run(scenario())


def test_a_broken_snapshot_is_an_unsuccessful_result(run: Runner, pool_config: ConfigMaker) -> None:
    service = make_service("y = 1", outputs=[("y", "integer")], files=["a.csv"], blobs=["b"])

    async def scenario() -> None:
        async with open_pools(pool_config(), {"b": b"not a zip"}) as pools:
            result = await pools.consume(service, {})
            assert not result.success
            assert "svc/v1 could not be prepared: not a snapshot archive" in result.error_message
            assert result.outputs == {"y": None} and result.output_files == {"a.csv": None}

    run(scenario())
