"""Faults through a real server: deadlines, versions stopped under a call, killed workers and a
killed server. Every loop is bounded in count and time and targets 127.0.0.1."""

from __future__ import annotations

import os
import random
import shutil
import signal
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from tests.harness import Server, assert_error, traversable_tmp_dir
from tests.services.publishing import metadata, outputs, params, published, service_name

# `hang` spins in pure Python (no sleep that a signal could cut short); every worker prepared
# for the version leaves a file named after its pid in `marks` (MARKS), and `spin-<pid>` when
# it starts spinning.
SPINNER = (
    "import os\n"
    "if hang:\n    open(os.path.join(MARKS, f'spin-{os.getpid()}'), 'w').close()\n"
    "while hang:\n    pass\n"
    "y = x * 3\npid = os.getpid()"
)
SPINNER_IO = {
    "inputParameterDefinitions": params(x="integer", hang="logical"),
    "outputParameterDefinitions": params(y="integer", pid="integer"),
}
ADD_ONE_IO = {
    "inputParameterDefinitions": params(x="integer"),
    "outputParameterDefinitions": params(y="integer"),
}
KILLS_SECONDS = 10.0
CALLERS = 16


def marking(marks: Path) -> str:
    """initCode that records the worker's pid in `marks` (its MARKS)."""
    mark = "open(os.path.join(MARKS, str(os.getpid())), 'w').close()"
    return f"import os\nMARKS = {str(marks)!r}\n{mark}"


@pytest.fixture
def marks() -> Iterator[Path]:
    """A folder every worker account may write its pid mark to."""
    folder = traversable_tmp_dir("o16n-marks-")
    folder.chmod(0o777)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def running(pid: int) -> bool:
    """Whether `pid` is a process that has not exited (a zombie has)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in {"Z", "X"}


def worker_children(server: Server) -> set[int]:
    """Live children of the server process that run a worker."""
    assert server.process is not None
    found: set[int] = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            command = (entry / "cmdline").read_bytes()
        except (OSError, IndexError, ValueError):
            continue
        worker = parent == server.process.pid and b"o16n.runtime.worker" in command
        if worker and running(int(entry.name)):
            found.add(int(entry.name))
    return found


def version_workers(server: Server, marks: Path) -> set[int]:
    """The server's live workers that were prepared for the version marking `marks`."""
    return {int(mark.name) for mark in marks.glob("[0-9]*")} & worker_children(server)


def publish_spinner(client: httpx.Client, marks: Path, init: str = "", **members: object) -> str:
    """A new spinner version `<name>/1` (running `init` after its mark); its name."""
    name = service_name("Spin")
    init_code = f"{marking(marks)}\n{init}"
    published(client, name, "1", SPINNER, initCode=init_code, **SPINNER_IO, **members)
    return name


def call(client: httpx.Client, name: str, *, hang: bool = False) -> httpx.Response:
    """POST /api/{name}/1."""
    return client.post(f"/api/{name}/1", json={"x": 2, "hang": hang})


def within(seconds: float, condition: Callable[[], bool]) -> bool:
    """Whether `condition` holds within `seconds` (polled)."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def hung_call(server: Server, token: str, name: str) -> tuple[threading.Thread, list[object]]:
    """A call that spins, in a thread; its response (or exception) lands in the list."""
    answers: list[object] = []

    def send() -> None:
        with server.client(token) as own:
            try:
                answers.append(call(own, name, hang=True))
            except httpx.HTTPError as exc:
                answers.append(exc)

    thread = threading.Thread(target=send)
    thread.start()
    return thread, answers


def wait_until_spinning(marks: Path) -> int:
    """The pid of the worker running the hung call, once it runs."""

    def spinning() -> list[int]:
        return [int(mark.name.removeprefix("spin-")) for mark in marks.glob("spin-*")]

    assert within(10, lambda: bool(spinning())), "the hung call never started"
    (pid,) = spinning()
    return pid


def test_a_call_past_its_version_timeout_answers_504_in_time_and_its_worker_is_replaced(
    server: Server, admin_token: str, marks: Path
) -> None:
    with server.client(admin_token) as client:
        name = publish_spinner(client, marks, timeoutSeconds=1)
        assert metadata(client, name, "1")["timeoutSeconds"] == 1
        swagger = client.get(f"/api/{name}/1/swagger.json").json()
        assert "1 s" in swagger["paths"][f"/api/{name}/1"]["post"]["description"]
        first = outputs(client, name, "1", {"x": 2, "hang": False})
        started = time.monotonic()
        response = call(client, name, hang=True)
        elapsed = time.monotonic() - started
        assert_error(response, 504)
        assert response.json()["errorCode"] == "worker_timeout"
        assert elapsed < 2.0, elapsed
        assert within(1, lambda: not version_workers(server, marks) & {first["pid"]})
        assert outputs(client, name, "1", {"x": 2, "hang": False})["y"] == 6


def test_a_caller_that_hangs_up_does_not_keep_the_worker_past_the_timeout(
    server: Server, admin_token: str, marks: Path
) -> None:
    with server.client(admin_token) as client:
        name = publish_spinner(client, marks, timeoutSeconds=1)
        with pytest.raises(httpx.ReadTimeout):
            client.post(f"/api/{name}/1", json={"x": 2, "hang": True}, timeout=0.3)
        spinner = wait_until_spinning(marks)
        assert within(2, lambda: not running(spinner)), "the abandoned call kept its worker"


@pytest.mark.parametrize("seconds", [0, -1, 0.01, 86401, "soon"])
def test_a_timeout_out_of_range_is_refused_naming_the_field(
    server: Server, admin_token: str, marks: Path, seconds: object
) -> None:
    with server.client(admin_token) as client:
        name = service_name("Spin")
        body = {"code": SPINNER, **SPINNER_IO, "timeoutSeconds": seconds}
        assert_error(client.post(f"/services/{name}/1", json=body), 400, "timeoutSeconds")
        name = publish_spinner(client, marks, timeoutSeconds=5)
        patch = {"timeoutSeconds": seconds}
        assert_error(client.patch(f"/services/{name}/1", json=patch), 400, "timeoutSeconds")
        assert client.patch(f"/services/{name}/1", json={"timeoutSeconds": 2.5}).status_code == 200
        assert metadata(client, name, "1")["timeoutSeconds"] == 2.5


@pytest.mark.parametrize("change", ["delete", "code", "initCode"])
def test_deleting_or_recoding_a_version_stops_its_hung_call_at_once(
    server: Server, admin_token: str, marks: Path, change: str
) -> None:
    with server.client(admin_token) as client:
        name = publish_spinner(client, marks)  # the default deadline: 60 s
        thread, answers = hung_call(server, admin_token, name)
        wait_until_spinning(marks)
        workers = version_workers(server, marks)
        started = time.monotonic()
        if change == "delete":
            response = client.delete(f"/services/{name}/1", timeout=5)
        elif change == "code":
            response = client.patch(
                f"/services/{name}/1", json={"code": "y = x\npid = 0"}, timeout=5
            )
        else:
            response = client.patch(f"/services/{name}/1", json={"initCode": "z = 1"}, timeout=5)
        assert response.status_code == 200, response.text
        assert time.monotonic() - started < 1.0
        thread.join(timeout=5)
        assert not thread.is_alive(), "the hung call was not stopped"
        (answer,) = answers
        assert isinstance(answer, httpx.Response), answer
        assert_error(answer, 503)
        assert answer.json()["errorCode"] == "worker_stopped"
        assert name in answer.json()["message"]
        time.sleep(2)
        assert not {pid for pid in workers if running(pid)}, "a stopped worker is still alive"
        if change == "code":
            assert outputs(client, name, "1", {"x": 2, "hang": False}) == {"y": 2, "pid": 0}


def test_a_killed_worker_costs_only_its_own_calls(
    server: Server, admin_token: str, marks: Path
) -> None:
    with server.client(admin_token) as client:
        # preparing takes a while, so that kills also hit workers being prepared
        name = publish_spinner(client, marks, "import time\ntime.sleep(0.3)")
        pool = {"InitialPoolSize": 3, "MaxPoolSize": 3}
        assert client.post(f"/services/{name}/1/pool", json=pool).status_code == 200
        outputs(client, name, "1", {"x": 2, "hang": False})
    stop = time.monotonic() + KILLS_SECONDS
    lock = threading.Lock()
    successes: list[float] = []
    failures: list[httpx.Response] = []

    def caller() -> None:
        with server.client(admin_token) as own:
            while time.monotonic() < stop:
                response = call(own, name)
                with lock:
                    if (
                        response.status_code == 200
                        and response.json()["outputParameters"]["y"] == 6
                    ):
                        successes.append(time.monotonic())
                    else:
                        failures.append(response)

    threads = [threading.Thread(target=caller) for _ in range(CALLERS)]
    for thread in threads:
        thread.start()
    kills: list[float] = []

    def kill(pid: int) -> None:
        os.kill(pid, signal.SIGKILL)
        kills.append(time.monotonic())

    ticks = int(KILLS_SECONDS) - 2  # one a second, the last one 1.5 s before the callers stop
    try:
        for tick in range(ticks):
            time.sleep(max(0.0, stop - KILLS_SECONDS + 0.5 + tick - time.monotonic()))
            if victims := sorted(version_workers(server, marks)):
                kill(random.choice(victims))
            if tick % 2:  # and every other second its replacement, while it is being prepared
                time.sleep(0.15)
                newest = int(max(marks.glob("[0-9]*"), key=lambda m: m.stat().st_mtime).name)
                if newest in version_workers(server, marks):
                    kill(newest)
    finally:
        for thread in threads:
            thread.join(timeout=60)
    assert len(kills) >= ticks - 1, kills
    assert len(failures) <= len(kills), [f.text for f in failures]
    for response in failures:
        assert 500 <= response.status_code < 600, response.text
        assert_error(response, response.status_code)
    for moment in kills:
        assert any(moment < done <= moment + 1.0 for done in successes), "no answer after a kill"


def test_every_publish_that_got_201_survives_a_killed_server(
    start_server: Callable[..., Server], open_tmp_path: Path
) -> None:
    data = open_tmp_path / "kept"
    first = start_server(data_dir=data)
    token = first.token()
    accepted: list[tuple[str, str]] = []
    lock = threading.Lock()

    def publisher(index: int) -> None:
        with first.client(token) as client:
            for number in range(25):
                version = f"{index}-{number}"
                try:
                    response = client.post(
                        f"/services/Kept/{version}",
                        json={"code": "y = x + 1", **ADD_ONE_IO},
                        timeout=10,
                    )
                except httpx.TransportError:
                    return
                if response.status_code == 201:
                    with lock:
                        accepted.append(("Kept", version))

    threads = [threading.Thread(target=publisher, args=(index,)) for index in range(4)]
    for thread in threads:
        thread.start()
    assert within(20, lambda: len(accepted) >= 8)
    first.kill()
    for thread in threads:
        thread.join(timeout=30)
    assert accepted
    second = start_server(data_dir=data)
    with second.client(second.token()) as client:
        for name, version in accepted:
            assert outputs(client, name, version, {"x": 1}) == {"y": 2}, version
