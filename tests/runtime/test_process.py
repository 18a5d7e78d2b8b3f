"""The worker process: crashes, deadlines, interrupts, limits, isolation and pipelining."""

from __future__ import annotations

import asyncio
import os
import pwd
import time
from pathlib import Path
from typing import Any

import pytest

from o16n.errors import (
    PayloadTooLarge,
    WorkerCrashed,
    WorkerError,
    WorkerProtocolError,
    WorkerTimeout,
)
from o16n.runtime.limits import WorkerLimits
from o16n.runtime.pipeline import never_started
from o16n.runtime.process import WorkerProcess
from o16n.runtime.protocol import names_reply
from tests.runtime.conftest import IS_ROOT, NOBODY_WORKS, WORKER_USER, Runner, Spawner

T = 10.0
SPIN = "while True:\n    pass"
# User code that finds the protocol socket on purpose and writes `data` into it.
HIJACK = (
    "import os, stat\n"
    "for fd in range(3, 256):\n"
    "    try:\n"
    "        if stat.S_ISSOCK(os.fstat(fd).st_mode):\n"
    "            os.write(fd, {data!r})\n"
    "    except OSError:\n"
    "        pass\n"
)


async def ready_signal(folder: Path, name: str = "ready") -> asyncio.Future[bytes]:
    """A FIFO that user code opens and writes to say it got somewhere; awaitable."""
    path = folder / name
    os.mkfifo(path)
    os.chmod(path, 0o666)
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    loop = asyncio.get_running_loop()
    future: asyncio.Future[bytes] = loop.create_future()

    def readable() -> None:
        data = os.read(fd, 64)
        if data and not future.done():
            loop.remove_reader(fd)
            os.close(fd)
            future.set_result(data)

    loop.add_reader(fd, readable)
    return future


def gone(pid: object) -> bool:
    """Whether no process runs with that pid any more (a zombie counts as gone)."""
    assert isinstance(pid, int)
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] == "Z"
    except FileNotFoundError:
        return True


def vanishes(pid: object, seconds: float = 5.0) -> bool:
    """Whether the process goes within `seconds` (a SIGKILLed one may still run for a moment)."""
    deadline = time.monotonic() + seconds
    while not gone(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def test_start_handshake_and_polite_stop(run: Runner, spawn: Spawner) -> None:
    worker = spawn()

    async def scenario() -> None:
        await worker.start()
        assert worker.alive and worker.pid is not None and worker.returncode is None
        assert await worker.call("ping", {}, T) == {}
        await worker.stop()
        assert worker.returncode == 0 and not worker.alive
        with pytest.raises(WorkerCrashed) as refused:
            await worker.call("ping", {}, T)
        assert never_started(refused.value)

    run(scenario())
    assert gone(worker.pid)


def test_os_exit_fails_every_call_in_flight_at_once(run: Runner, spawn: Spawner) -> None:
    async def scenario() -> None:
        async with spawn() as worker:
            started = time.monotonic()
            dying = asyncio.ensure_future(worker.execute("import os\nos._exit(7)", {}, [], 60))
            queued = [asyncio.ensure_future(worker.call("ping", {}, 60)) for _ in range(3)]
            with pytest.raises(WorkerCrashed, match="exited with code 7") as crash:
                await dying
            assert not never_started(crash.value)
            for call in queued:
                with pytest.raises(WorkerCrashed) as behind:
                    await call
                assert never_started(behind.value)
            assert time.monotonic() - started < 5
            assert not worker.alive and worker.returncode == 7

    run(scenario())


def test_a_fatal_signal_is_named(run: Runner, spawn: Spawner) -> None:
    async def scenario() -> None:
        async with spawn() as worker:
            with pytest.raises(WorkerCrashed, match="SIGSEGV"):
                await worker.execute("import ctypes\nctypes.string_at(0)", {}, [], T)

    run(scenario())


def test_interrupt_stops_an_endless_loop_and_the_worker_lives(run: Runner, spawn: Spawner) -> None:
    async def scenario() -> None:
        async with spawn() as worker:
            worker.interrupt()  # idle: ignored
            ready = await ready_signal(worker.working_dir)
            code = f"open('ready', 'w').write('go')\n{SPIN}"
            running = asyncio.ensure_future(worker.execute(code, {}, [], 60))
            assert await ready == b"go"
            worker.interrupt()
            result = await running
            assert not result.success
            assert "KeyboardInterrupt: execution interrupted" in result.error_message
            after = await worker.execute("x = 2", {}, ["x"], T)
            assert after.success and after.outputs == [("x", 2)]

    run(scenario())


def test_a_call_past_its_deadline_kills_the_worker(run: Runner, spawn: Spawner) -> None:
    worker = spawn()

    async def scenario() -> None:
        await worker.start()
        assert (await worker.execute("import time; time.sleep(0.2)", {}, [], 5)).success
        spinning = asyncio.ensure_future(worker.execute(SPIN, {}, [], 0.5))
        queued = asyncio.ensure_future(worker.call("ping", {}, 60))
        with pytest.raises(WorkerTimeout, match=r"0\.5 s deadline"):
            await spinning
        with pytest.raises(WorkerCrashed) as behind:
            await queued
        assert never_started(behind.value)
        await worker.stop()
        assert worker.returncode == -9

    run(scenario())
    assert gone(worker.pid)


def test_stop_escalates_to_kill_when_the_worker_ignores_requests_and_sigterm(
    run: Runner, spawn: Spawner
) -> None:
    worker = spawn()

    async def scenario() -> None:
        await worker.start()
        await worker.execute(
            "import signal\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)", {}, [], T
        )
        spinning = asyncio.ensure_future(worker.execute(SPIN, {}, [], 60))
        await worker.stop(grace=0.3)
        assert worker.returncode == -9
        with pytest.raises(WorkerCrashed):
            await spinning

    run(scenario())
    assert gone(worker.pid)


def test_a_memory_bomb_fails_cleanly_under_the_memory_limit(run: Runner, spawn: Spawner) -> None:
    limits = WorkerLimits(memory_bytes=2**30, user=WORKER_USER)

    async def scenario() -> None:
        async with spawn(limits) as worker:
            huge = await worker.execute("x = bytearray(10**10)", {}, [], T)
            assert not huge.success and huge.error_message.endswith("MemoryError")
            growing = "chunks = []\nwhile True:\n    chunks.append(bytearray(10**7))"
            try:
                result = await worker.execute(growing, {}, [], 20)
            except WorkerCrashed:
                return
            assert not result.success and "MemoryError" in result.error_message
            await worker.execute("del chunks", {}, [], T)
            assert (await worker.execute("y = 1", {}, ["y"], T)).outputs == [("y", 1)]

    run(scenario())


def test_cpu_and_open_file_limits_apply(run: Runner, spawn: Spawner) -> None:
    limits = WorkerLimits(cpu_seconds=1, open_files=64, user=WORKER_USER)

    async def scenario() -> None:
        async with spawn(limits) as worker:
            opening = "handles = [open('f%d' % i, 'w') for i in range(100)]"
            result = await worker.execute(opening, {}, [], T)
            assert not result.success and "Too many open files" in result.error_message
            await worker.execute("for h in handles: h.close()\ndel handles", {}, [], T)
            with pytest.raises(WorkerCrashed, match="SIGXCPU"):
                await worker.execute(SPIN, {}, [], 20)

    run(scenario())


def test_the_worker_environment_is_scrubbed(
    run: Runner, spawn: Spawner, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("O16N_SECRET_KEY", "do-not-leak")
    monkeypatch.setenv("O16N_DATABASE_URL", "postgresql://user:pw@db/o16n")
    code = "names = sorted(globals())\nimport os, sys\nenv = dict(os.environ)\nargv = sys.argv"

    async def scenario() -> None:
        async with spawn() as worker:
            result = await worker.execute(code, {}, ["env", "argv", "names"], T)
            values = dict(result.outputs)
            env = values["env"]
            assert isinstance(env, dict)
            assert not [name for name in env if name.startswith("O16N")]
            assert "do-not-leak" not in repr(env)
            allowed = {
                "PATH",
                "LANG",
                "LC_ALL",
                "HOME",
                "PYTHONPATH",
                "OMP_NUM_THREADS",
                "OPENBLAS_NUM_THREADS",
                "MKL_NUM_THREADS",
                "LC_CTYPE",
            }
            assert set(env) <= allowed
            assert env["HOME"] == str(worker.working_dir)
            assert values["argv"] == [""]
            assert values["names"] == [
                "__builtins__",
                "__doc__",
                "__loader__",
                "__name__",
                "__package__",
                "__spec__",
            ]

    run(scenario())


def test_the_protocol_socket_is_not_inherited_by_subprocesses(run: Runner, spawn: Spawner) -> None:
    code = (
        "import os, stat, subprocess, sys\n"
        "sockets = [fd for fd in range(3, 256) if _is_socket(fd)]\n"
        "inheritable = [os.get_inheritable(fd) for fd in sockets]\n"
        "count = 'import os; print(len(os.listdir(\"/proc/self/fd\")))'\n"
        "child = subprocess.run([sys.executable, '-c', count], capture_output=True, text=True,"
        " close_fds=False).stdout.strip()\n"
    )
    helper = (
        "import os, stat\n"
        "def _is_socket(fd):\n"
        "    try:\n        return stat.S_ISSOCK(os.fstat(fd).st_mode)\n"
        "    except OSError:\n        return False\n"
    )

    async def scenario() -> None:
        async with spawn() as worker:
            result = await worker.execute(helper + code, {}, ["sockets", "inheritable", "child"], T)
            values = dict(result.outputs)
            assert isinstance(values["sockets"], list) and len(values["sockets"]) == 1
            assert values["inheritable"] == [False]
            assert values["child"] == "4"  # stdin, stdout, stderr and the listing's own fd

    run(scenario())


def test_print_and_raw_writes_never_break_the_protocol(run: Runner, spawn: Spawner) -> None:
    code = (
        "import os, sys\n"
        "print('x' * 100000)\n"
        "os.write(1, b'\\x00\\x00\\x00\\x05garbage' * 1000)\n"
        "os.write(2, b'\\xff\\xff\\xff\\xff' * 1000)\n"
        "sys.__stdout__.write('direct')\nsys.__stdout__.flush()\n"
        "value = 42"
    )

    async def scenario() -> None:
        async with spawn() as worker:
            result = await worker.execute(code, {}, ["value"], T)
            assert result.success and result.outputs == [("value", 42)]
            assert result.console_output == "x" * 100000 + "\n"
            assert await worker.call("ping", {}, T) == {}

    run(scenario())


def test_pipelining_keeps_many_calls_in_flight_and_answers_in_order(
    run: Runner, spawn: Spawner
) -> None:
    async def scenario() -> None:
        async with spawn() as worker:
            await worker.execute("n = 0", {}, [], T)
            tasks: list[asyncio.Future[Any]] = []
            for i in range(200):
                if i % 2:
                    tasks.append(asyncio.ensure_future(worker.call("ping", {}, T)))
                else:
                    tasks.append(asyncio.ensure_future(worker.execute("n += 1", {}, ["n"], T)))
            await asyncio.sleep(0)  # let every task send its frame
            assert worker.in_flight == 200
            results = await asyncio.gather(*tasks)
            counts = [r.outputs[0][1] for r in results[::2]]
            assert counts == list(range(1, 101))
            assert results[1::2] == [{}] * 100
            assert worker.in_flight == 0

    run(scenario(), 60)


def test_processes_left_by_user_code_die_with_the_worker(run: Runner, spawn: Spawner) -> None:
    code = "import subprocess\nchild = subprocess.Popen(['sleep', '60']).pid"

    async def scenario() -> object:
        async with spawn() as worker:
            result = await worker.execute(code, {}, ["child"], T)
            assert result.success, result.error_message
            return result.outputs[0][1]

    assert vanishes(run(scenario()))


def test_a_caller_giving_up_does_not_disturb_the_others(run: Runner, spawn: Spawner) -> None:
    async def scenario() -> None:
        async with spawn() as worker:
            first = asyncio.ensure_future(worker.execute("a = 1", {}, ["a"], T))
            dropped = asyncio.ensure_future(worker.execute("b = 2", {}, ["b"], T))
            last = asyncio.ensure_future(worker.execute("c = a + b", {}, ["c"], T))
            await asyncio.sleep(0)
            dropped.cancel()
            assert (await first).outputs == [("a", 1)]
            assert (await last).outputs == [("c", 3)]

    run(scenario())


def test_requests_over_the_frame_limit_are_refused_before_sending(
    run: Runner, spawn: Spawner
) -> None:
    async def scenario() -> None:
        async with spawn(max_frame=2**16) as worker:
            with pytest.raises(PayloadTooLarge):
                await worker.workspace_put("big", bytes(2**17), T)
            with pytest.raises(PayloadTooLarge):
                await worker.execute("big = 'x' * 2**17", {}, ["big"], T)
            assert worker.alive
            assert (await worker.execute("", {}, [], T)).success

    run(scenario())


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"\xff\xff\xff\xff", "exceeds the limit"),
        (b"\x00\x00\x00\x01\xc1", "malformed frame"),
        (b"\x00\x00\x00\x01\x90", "frame must be a map"),
        (
            b"\x00\x00\x00\x1b\x84\xa2id\xcd\x03\xe7\xa2ok\xc3\xa7payload\x80\xa5error\xc0",
            "does not answer",
        ),
    ],
)
def test_frames_breaking_the_protocol_kill_the_worker(
    run: Runner, spawn: Spawner, data: bytes, reason: str
) -> None:
    worker = spawn()

    async def scenario() -> None:
        await worker.start()
        with pytest.raises(WorkerProtocolError, match=reason):
            await worker.execute(HIJACK.format(data=data), {}, [], T)
        assert not worker.alive
        await worker.stop()

    run(scenario())
    assert gone(worker.pid)


def test_workers_that_cannot_start_fail_clearly(run: Runner, spawn: Spawner) -> None:
    async def scenario() -> None:
        with pytest.raises(WorkerError, match="cannot start a worker"):
            await spawn(executable="/nonexistent/python").start()
        with pytest.raises(WorkerCrashed, match="exited with code 1"):
            await spawn(executable="/bin/false").start()
        with pytest.raises(WorkerError, match="does not exist"):
            await spawn(WorkerLimits(user="no-such-user-o16n")).start() if IS_ROOT else _raise()

    run(scenario())


def _raise() -> None:
    raise WorkerError("the worker user does not exist (only checked as root)")


def test_limits_are_validated() -> None:
    with pytest.raises(ValueError, match="memory_bytes"):
        WorkerLimits(memory_bytes=0)
    with pytest.raises(ValueError, match="threads"):
        WorkerLimits(threads=-1)


@pytest.mark.skipif(not NOBODY_WORKS, reason="needs root and an interpreter nobody can run")
def test_workers_run_as_nobody_when_the_server_is_root(run: Runner, spawn: Spawner) -> None:
    nobody = pwd.getpwnam("nobody")

    async def scenario() -> None:
        async with spawn(WorkerLimits(user="nobody")) as worker:
            code = "import os, numpy\nids = [os.getuid(), os.getgid(), os.getgroups()]"
            result = await worker.execute(code, {}, ["ids"], T)
            assert result.outputs == [("ids", [nobody.pw_uid, nobody.pw_gid, []])]
            assert os.stat(worker.working_dir).st_uid == nobody.pw_uid

    run(scenario())


@pytest.mark.skipif(not IS_ROOT or NOBODY_WORKS, reason="for root where nobody cannot run python")
def test_an_interpreter_nobody_cannot_run_is_reported(run: Runner, spawn: Spawner) -> None:
    async def scenario() -> None:
        with pytest.raises(WorkerError, match=r"as user 'nobody'.*must be readable"):
            await spawn(WorkerLimits(user="nobody")).start()

    run(scenario())


def test_worker_imports_only_the_runtime_leaf_modules(tmp_path: Path) -> None:
    import subprocess
    import sys

    probe = (
        "import sys, o16n.runtime.worker.main\n"
        "print(sorted(m for m in sys.modules if m.startswith('o16n')))\n"
        "print('asyncio' in sys.modules, 'dill' in sys.modules)"
    )
    source = str(Path(__file__).resolve().parents[2] / "src")
    out = subprocess.run(
        [sys.executable, "-c", probe],
        env={"PYTHONPATH": source},
        capture_output=True,
        text=True,
        check=True,
        cwd=tmp_path,
    ).stdout.splitlines()
    assert out[0] == str(
        sorted(
            [
                "o16n",
                "o16n.runtime",
                "o16n.runtime.worker.arrays",
                "o16n.runtime.worker.conversion",
                "o16n.runtime.worker.directory",
                "o16n.runtime.worker.failure",
                "o16n.runtime.worker.files",
                "o16n.runtime.limits",
                "o16n.runtime.worker.payload",
                "o16n.runtime.worker.pickling",
                "o16n.runtime.protocol",
                "o16n.runtime.worker.service_host",
                "o16n.runtime.worker.values",
                "o16n.runtime.worker",
                "o16n.runtime.worker.main",
            ]
        )
    )
    assert out[1] == "False False"


def test_the_runtime_package_exports_nothing() -> None:
    import o16n.runtime

    assert o16n.runtime.__all__ == []


def test_a_worker_object_is_started_once(run: Runner, spawn: Spawner) -> None:
    worker: WorkerProcess = spawn()

    async def scenario() -> None:
        async with worker:
            with pytest.raises(RuntimeError):
                await worker.start()

    run(scenario())


REPLACE_HANDLER = (
    "import gc\n"
    "session = next(o for o in gc.get_objects() if type(o).__name__ == 'Session')\n"
    "session.handlers[{kind!r}] = lambda payload: {reply!r}"
)


@pytest.mark.parametrize(
    ("kind", "reply", "reason"),
    [
        ("workspace_list", {"names": 3}, "names must be list"),
        ("workspace_dump", {"data": "text", "skipped": []}, "data must be bytes"),
        ("file_list", {"names": [], "extra": 1}, "unknown keys"),
        ("execute", {"success": True}, "missing keys"),
    ],
)
def test_a_reply_of_the_wrong_type_for_its_kind_kills_the_worker(
    run: Runner, spawn: Spawner, kind: str, reply: dict[str, object], reason: str
) -> None:
    worker = spawn()
    requests = {
        "workspace_list": lambda: worker.workspace_names(T),
        "workspace_dump": lambda: worker.workspace_dump(T),
        "file_list": lambda: worker.request("file_list", {}, T, names_reply),
        "execute": lambda: worker.execute("", {}, [], T),
    }

    async def scenario() -> None:
        await worker.start()
        replaced = await worker.execute(REPLACE_HANDLER.format(kind=kind, reply=reply), {}, [], T)
        assert replaced.success, replaced.error_message
        with pytest.raises(WorkerProtocolError, match=reason):
            await requests[kind]()
        assert not worker.alive
        await worker.stop()

    run(scenario())
    assert gone(worker.pid)
