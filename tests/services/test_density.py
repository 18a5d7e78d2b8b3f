"""Many versions on one machine: a cap on live workers evicts the least recently used idle
ones, and idle versions scale to zero."""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx

from tests.harness import Server
from tests.services.publishing import service_name

PID_OUTPUT = {"outputParameterDefinitions": [{"name": "pid", "type": "integer"}]}


def _pid(client: httpx.Client, name: str) -> int:
    reply = client.post(f"/api/{name}/1.0", json={})
    assert reply.status_code == 200, reply.text
    assert reply.json()["success"], reply.text
    return int(reply.json()["outputParameters"]["pid"])


def _service_workers(client: httpx.Client) -> int:
    status = client.get("/status").json()
    return int(status["components"]["backends"]["components"]["local"]["details"]["serviceWorkers"])


def test_the_least_recently_used_idle_worker_makes_room_and_idle_versions_scale_to_zero(
    start_server: Callable[..., Server],
) -> None:
    server = start_server(O16N_POOL_MAX_LIVE_WORKERS="2", O16N_POOL_IDLE_SECONDS="2")
    names = [service_name("dense") for _ in range(3)]
    with server.client(server.token()) as client:
        for name in names:
            code = {"code": "import os\npid = os.getpid()", **PID_OUTPUT}
            assert client.post(f"/services/{name}/1.0", json=code).status_code == 201
        first, second = _pid(client, names[0]), _pid(client, names[1])
        assert _service_workers(client) == 2
        third = _pid(client, names[2])  # evicts the worker of names[0], the least recent
        assert len({first, second, third}) == 3
        assert _service_workers(client) == 2
        assert _pid(client, names[1]) == second
        assert _pid(client, names[0]) not in {first, second, third}
        assert _service_workers(client) == 2
        deadline = time.monotonic() + 10
        while _service_workers(client) > 0:
            assert time.monotonic() < deadline, "idle versions kept their workers"
            time.sleep(0.2)
