"""The asyncio client against a real server: every method, refresh across expiry, errors."""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

import pytest

from o16n.client import (
    AsyncBatch,
    AsyncClient,
    AsyncService,
    AsyncSession,
    ExecuteResult,
    ServiceResult,
)
from o16n.errors import (
    Forbidden,
    InvalidCredentials,
    InvalidInput,
    NotFound,
    ServiceExists,
    ServiceNotFound,
    Unauthenticated,
)
from tests.client.test_auth import WAIT_SECONDS, rejected
from tests.client.test_services import IRIS_CODE
from tests.harness import ADMIN_PASSWORD, Server, unique_name


def run(scenario: Callable[[], Coroutine[Any, Any, None]]) -> None:
    """Run an async test body to its end."""
    asyncio.run(scenario())


def admin(server: Server) -> AsyncClient:
    """An Owner's async client (logs in on `async with`)."""
    return AsyncClient(server.url, username="admin", password=ADMIN_PASSWORD)


def test_sessions_execute_objects_files_and_snapshots(server: Server) -> None:
    async def scenario() -> None:
        async with admin(server) as client, client.session("async test") as session:
            assert isinstance(session, AsyncSession)
            result = await session.execute(
                "y = x * 2\nprint('hi')", inputs={"x": 21}, outputs=["y"]
            )
            assert result == ExecuteResult(True, "hi\n", "", {"y": 42})
            assert "ZeroDivisionError" in (await session.execute("1 / 0")).error_message
            await session.put_object("table", {"a": [1, 2]})
            assert await session.get_object("table") == {"a": [1, 2]}
            assert sorted(await session.objects()) == ["table", "x", "y"]
            await session.upload("data.txt", b"hello")
            await session.execute("open('out.txt', 'w').write(open('data.txt').read().upper())")
            assert await session.download("out.txt") == b"HELLO"
            assert sorted(await session.files()) == ["data.txt", "out.txt"]
            snapshot = await session.snapshot("async snapshot")
        assert session.closed
        async with admin(server) as client:
            async with client.session(snapshot=snapshot) as restored:
                assert await restored.get_object("table") == {"a": [1, 2]}
            await client.delete_snapshot(snapshot)
            with pytest.raises(NotFound):
                await client.delete_snapshot(snapshot)

    run(scenario)


def test_a_session_closes_when_its_block_fails(server: Server) -> None:
    async def scenario() -> None:
        async with admin(server) as client:
            with pytest.raises(RuntimeError):
                async with client.session() as session:
                    raise RuntimeError("boom")
            assert session.closed
            with pytest.raises(NotFound):
                await session.files()

    run(scenario)


def test_publish_consume_typed_method_patch_and_delete(
    server: Server, classifier: object, new_name: Callable[[str], str], leftovers: None
) -> None:
    name = new_name("AsyncIris")

    async def scenario() -> None:
        async with admin(server) as client:
            version = await client.publish(
                name,
                code=IRIS_CODE,
                inputs={"flower_data": "vector"},
                outputs={"result": "character"},
                objects={"clf": classifier},
                operation_id="classify",
                description="iris",
            )
            service = await client.service(name)
            assert isinstance(service, AsyncService)
            assert service.version == version
            assert (await service(flower_data=[7, 3.2, 4.7, 1.4])).outputs == {
                "result": "versicolor"
            }
            classify: Callable[..., Awaitable[ServiceResult]] = service.classify  # type: ignore[attr-defined]
            signature = inspect.signature(classify)
            assert str(signature).startswith("(*, flower_data: list[object]) -> ")
            assert signature.return_annotation == Awaitable[ServiceResult]
            replies = await asyncio.gather(
                *(classify(flower_data=[5.1, 3.5, 1.4, 0.2]) for _ in range(8))
            )
            assert {reply.outputs["result"] for reply in replies} == {"setosa"}
            with pytest.raises(TypeError):
                classify(flowers=[1])
            assert (await service.swagger())["swagger"] == "2.0"
            infos = await client.services(name)
            assert [info.version for info in infos] == [version]
            assert name in {info.name for info in await client.services()}
            await client.publish(
                name, "v2", code="y = k", outputs={"y": "integer"}, objects={"k": 1}
            )
            assert (await client.service(name)).version == "v2"
            await client.patch(name, "v2", description="patched", objects={"k": 10})
            assert (await client.services(name))[-1].description == "patched"
            assert (await (await client.service(name, "v2")).consume()).outputs == {"y": 10}
            await client.delete(name, "v2")
            await client.delete(name, version)
            with pytest.raises(ServiceNotFound):
                await client.service(name)

    run(scenario)


def test_a_failed_publish_cleans_up(
    server: Server, new_name: Callable[[str], str], leftovers: None
) -> None:
    name = new_name("AsyncAgain")

    async def scenario() -> None:
        async with admin(server) as client:
            assert await client.publish(name, "v1", code="pass") == "v1"
            with pytest.raises(ServiceExists):
                await client.publish(name, "v1", code="pass", objects={"x": 1}, files={"f": b"f"})

    run(scenario)


def test_errors_are_typed(server: Server, new_name: Callable[[str], str]) -> None:
    reader = unique_name("reader")
    added = server.cli("users", "add", reader, "--role", "Reader", "--password", "Reader-Pass-1")
    assert added.returncode == 0, added.stderr
    name = new_name("AsyncErrors")

    async def scenario() -> None:
        with pytest.raises(InvalidCredentials):
            async with AsyncClient(server.url, username="admin", password="wrong"):
                pass
        async with AsyncClient(server.url, token="not-a-token") as anonymous:
            with pytest.raises(Unauthenticated):
                await anonymous.services()
        async with AsyncClient(server.url, username=reader, password="Reader-Pass-1") as client:
            with pytest.raises(Forbidden):
                await client.publish(name, "v1", code="pass")
        async with admin(server) as client:
            await client.publish(name, "v1", code="y = x", inputs={"x": "numeric"})
            with pytest.raises(InvalidInput) as caught:
                await (await client.service(name))(z=1)
            assert caught.value.field == "z"
            with pytest.raises(ServiceNotFound):
                await client.service("No_Such_Service_Here", "v1")

    run(scenario)
    with pytest.raises(ValueError, match="username and password"):
        AsyncClient(server.url, username="admin")


def test_the_token_is_refreshed_once_across_expiry(start_server: Callable[..., Server]) -> None:
    server = start_server(O16N_ACCESS_TOKEN_SECONDS="2", O16N_AUTH_CACHE_SECONDS="0")

    async def scenario() -> None:
        client = admin(server)
        assert client.access_token == ""
        assert await client.services() == []
        first = client.access_token
        deadline = time.monotonic() + WAIT_SECONDS
        while not rejected(server, first):
            assert time.monotonic() < deadline, "the access token never expired"
            await asyncio.sleep(0.2)
        assert await asyncio.gather(*(client.services() for _ in range(6))) == [[]] * 6
        second = client.access_token
        assert second != first
        await client.refresh()
        assert client.access_token not in {first, second}
        assert await client.services() == []
        await client.close()

    run(scenario)


def test_a_given_token_is_used_as_is(server: Server) -> None:
    token = server.token()

    async def scenario() -> None:
        async with AsyncClient(server.url, token=token) as client:
            await client.services()
            assert client.access_token == token

    run(scenario)


def test_a_batch_from_the_async_client(server: Server, new_name: Callable[[str], str]) -> None:
    async def scenario() -> None:
        async with AsyncClient(server.url, username="admin", password=ADMIN_PASSWORD) as client:
            name = new_name("AsyncBatch")
            await client.publish(
                name, "v1", code="y = x * 2", inputs={"x": "integer"}, outputs={"y": "integer"}
            )
            service = await client.service(name, "v1")
            batch = await service.batch([{"x": x} for x in range(5)], parallel_count=2)
            assert isinstance(batch, AsyncBatch)
            status = await batch.wait(timeout=60)
            assert (status.state, status.completed, status.total) == ("Complete", 5, 5)
            assert [r.outputs["y"] for r in await batch.results() if r is not None] == [
                0, 2, 4, 6, 8
            ]  # fmt: skip
            assert list((await batch.frame())["y"]) == [0, 2, 4, 6, 8]
            assert batch.id in [listed.id for listed in await service.batches()]
            await batch.cancel()
            with pytest.raises(NotFound):
                await service.batch_execution(batch.id).status()

    asyncio.run(scenario())
