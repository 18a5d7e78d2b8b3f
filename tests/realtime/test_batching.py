"""Adaptive batching: concurrent calls share model runs, and each gets exactly its rows."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import httpx

from tests.harness import Server
from tests.realtime.conftest import Iris
from tests.realtime.test_realtime import publish

CALLERS = 64


def _counts(server: Server, token: str) -> tuple[int, int]:
    with server.client(token) as client:
        body = client.get("/status").json()
    details = body["components"]["backends"]["components"]["local"]["details"]
    return int(details["realtimeCalls"]), int(details["realtimeRuns"])


def _rows_of(caller: int) -> list[int]:
    """Caller i scores 1 to 3 rows of its own."""
    return [(caller + step * CALLERS) % 150 for step in range(1 + caller % 3)]


async def _call_all(server: Server, token: str, name: str, iris: Iris) -> list[httpx.Response]:
    limits = httpx.Limits(max_connections=CALLERS)
    headers = {"Authorization": f"Bearer {token}"}
    gate = asyncio.Semaphore(CALLERS)
    async with httpx.AsyncClient(
        base_url=server.url, headers=headers, limits=limits, timeout=60
    ) as client:

        async def call(caller: int) -> httpx.Response:
            frame: dict[str, object] = iris.frame(_rows_of(caller))
            if caller % 16 == 5:
                frame["sepal_width"] = ["bad"] * len(_rows_of(caller))
            async with gate:
                return await client.post(f"/api/{name}/1", json={"inputData": frame})

        return await asyncio.gather(*(call(caller) for caller in range(CALLERS)))


def test_concurrent_callers_get_their_own_rows(
    server: Server, admin_token: str, iris: Iris, new_name: Callable[[str], str]
) -> None:
    name = new_name("IrisBatch")
    with server.client(admin_token) as client:
        created = publish(client, name, "1", iris.onnx, maxBatchSize="64", maxBatchWaitMs="20")
        assert created.status_code == 201, created.text
    calls_before, runs_before = _counts(server, admin_token)
    answers = asyncio.run(_call_all(server, admin_token, name, iris))
    calls_after, runs_after = _counts(server, admin_token)
    for caller, answer in enumerate(answers):
        if caller % 16 == 5:
            assert answer.status_code == 400, answer.text
            assert answer.json()["field"] == "inputData.sepal_width"
            continue
        assert answer.status_code == 200, answer.text
        labels = answer.json()["outputParameters"]["outputData"]["label"]
        assert labels == [iris.expected[row] for row in _rows_of(caller)], caller
    good = CALLERS - CALLERS // 16
    assert calls_after - calls_before == good
    assert runs_after - runs_before < good  # calls were merged into fewer runs


def test_batch_size_one_turns_batching_off(
    server: Server, admin_token: str, iris: Iris, new_name: Callable[[str], str]
) -> None:
    name = new_name("IrisSingle")
    with server.client(admin_token) as client:
        created = publish(client, name, "1", iris.onnx, maxBatchSize="1", maxBatchWaitMs="20")
        assert created.status_code == 201, created.text
    calls_before, runs_before = _counts(server, admin_token)
    answers = asyncio.run(_call_all(server, admin_token, name, iris))
    calls_after, runs_after = _counts(server, admin_token)
    assert sum(answer.status_code == 200 for answer in answers) == CALLERS - CALLERS // 16
    assert calls_after - calls_before == runs_after - runs_before
