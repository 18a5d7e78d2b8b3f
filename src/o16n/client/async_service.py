"""One version of a web service for asyncio: the same calls as Service, awaited."""

from __future__ import annotations

from collections.abc import Awaitable, Mapping, Sequence

from o16n.client.batch import AsyncBatch, BatchCalls
from o16n.client.connection import AsyncConnection
from o16n.client.service import ServiceCalls, ServiceInfo, ServiceResult
from o16n.client.signature import Operation, attach, operation


class AsyncService:
    """One version of a web service: await it, or its operationId method with typed inputs."""

    def __init__(
        self, connection: AsyncConnection, info: ServiceInfo, swagger: dict[str, object]
    ) -> None:
        """Bind `info`'s version; add the method its Swagger document names and types."""
        self._connection = connection
        self._calls = ServiceCalls(info.name, info.version)
        self.info = info
        self.name = info.name
        self.version = info.version
        returns = Awaitable[ServiceResult]
        self.operation: Operation | None = operation(swagger, self._calls.path, returns)
        attach(self, self.operation, self.consume)

    async def consume(self, **inputs: object) -> ServiceResult:
        """Call the service with JSON `inputs` named as its input parameters."""
        return await self._connection.run(self._calls.consume(inputs))

    async def __call__(self, **inputs: object) -> ServiceResult:
        """The same as `consume`."""
        return await self.consume(**inputs)

    async def batch(
        self, records: Sequence[Mapping[str, object]], parallel_count: int = 10
    ) -> AsyncBatch:
        """Start one call per record in the background (a batch execution)."""
        path = self._calls.path
        execution = await self._connection.run(BatchCalls.start(path, records, parallel_count))
        return AsyncBatch(self._connection, BatchCalls(path, execution))

    async def batches(self) -> list[AsyncBatch]:
        """Your batch executions of this version (an Owner's: everybody's), oldest first."""
        path = self._calls.path
        ids = await self._connection.run(BatchCalls.listed(path))
        return [AsyncBatch(self._connection, BatchCalls(path, execution)) for execution in ids]

    def batch_execution(self, execution_id: str) -> AsyncBatch:
        """An existing batch execution of this version, by id."""
        return AsyncBatch(self._connection, BatchCalls(self._calls.path, execution_id))

    async def swagger(self) -> dict[str, object]:
        """The version's Swagger 2.0 document."""
        return await self._connection.run(self._calls.swagger())

    def __repr__(self) -> str:
        """`AsyncService('name', 'version')`."""
        return f"AsyncService({self.name!r}, {self.version!r})"
