"""Published web services: their metadata and a callable to consume one version."""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from o16n.client.connection import Connection
from o16n.client.request import Flow, Request, json_list, json_object, segment
from o16n.client.signature import Operation, attach, operation
from o16n.errors import ServiceNotFound

if TYPE_CHECKING:
    from o16n.client.batch import Batch


@dataclass(frozen=True)
class ServiceInfo:
    """One version of a web service, as the server lists it."""

    name: str
    version: str
    published_by: str
    creation_time: str
    runtime_type: str
    service_type: str
    snapshot_id: str | None
    code: str | None
    init_code: str | None
    description: str | None
    operation_id: str | None
    inputs: dict[str, str] = field(default_factory=dict)
    outputs: dict[str, str] = field(default_factory=dict)
    output_files: list[str] = field(default_factory=list)
    permission: str = ""


@dataclass(frozen=True)
class ServiceResult:
    """The outcome of one call (an exception in the service's code is `success=False`)."""

    success: bool
    error_message: str
    console_output: str
    outputs: dict[str, object] = field(default_factory=dict)
    output_files: dict[str, bytes | None] = field(default_factory=dict)


def _text(value: object) -> str | None:
    """A string member; None when the server sent nothing to show ("" or null)."""
    return value if isinstance(value, str) and value else None


def _definitions(value: object) -> dict[str, str]:
    items = value if isinstance(value, list) else []
    return {str(item["name"]): str(item["type"]) for item in items if isinstance(item, dict)}


def service_info(item: object) -> ServiceInfo:
    """A ServiceInfo from one element of GET /services."""
    wire = item if isinstance(item, dict) else {}
    files = wire.get("outputFileNames")
    return ServiceInfo(
        name=str(wire["name"]),
        version=str(wire["version"]),
        published_by=str(wire.get("versionPublishedBy", "")),
        creation_time=str(wire.get("creationTime", "")),
        runtime_type=str(wire.get("runtimeType", "")),
        service_type=str(wire.get("serviceType", "")),
        snapshot_id=_text(wire.get("snapshotId")),
        code=_text(wire.get("code")),
        init_code=_text(wire.get("initCode")),
        description=_text(wire.get("description")),
        operation_id=_text(wire.get("operationId")),
        inputs=_definitions(wire.get("inputParameterDefinitions")),
        outputs=_definitions(wire.get("outputParameterDefinitions")),
        output_files=[str(name) for name in files] if isinstance(files, list) else [],
        permission=str(wire.get("myPermissionOnService", "")),
    )


def service_result(body: object) -> ServiceResult:
    """A ServiceResult from a WebServiceResult (a consume reply or one batch result)."""
    reply = body if isinstance(body, dict) else {}
    outputs = reply.get("outputParameters")
    files = reply.get("outputFiles")
    decoded = {
        str(name): base64.b64decode(data) if isinstance(data, str) else None
        for name, data in (files.items() if isinstance(files, dict) else [])
    }
    return ServiceResult(
        success=bool(reply.get("success")),
        error_message=str(reply.get("errorMessage") or ""),
        console_output=str(reply.get("consoleOutput") or ""),
        outputs=dict(outputs) if isinstance(outputs, dict) else {},
        output_files=decoded,
    )


def versions_path(name: str, version: str | None = None) -> str:
    """/services/{name}[/{version}], quoted."""
    path = f"/services/{segment(name)}"
    return path if version is None else f"{path}/{segment(version)}"


def list_services(name: str | None) -> Flow[list[ServiceInfo]]:
    """Every service version the user may see, or the versions of `name` in publish order."""
    return (yield from _listed("/services" if name is None else versions_path(name)))


def _listed(path: str) -> Flow[list[ServiceInfo]]:
    return [service_info(item) for item in json_list((yield Request("GET", path)))]


@dataclass(frozen=True)
class ServiceCalls:
    """The requests on one service version, as flows (no I/O)."""

    name: str
    version: str

    @property
    def path(self) -> str:
        """The consume route of the version."""
        return f"/api/{segment(self.name)}/{segment(self.version)}"

    def consume(self, inputs: dict[str, object]) -> Flow[ServiceResult]:
        """Call the version with JSON `inputs`."""
        return service_result(json_object((yield Request("POST", self.path, json=inputs))))

    def swagger(self) -> Flow[dict[str, object]]:
        """The version's Swagger 2.0 document."""
        return json_object((yield Request("GET", f"{self.path}/swagger.json")))


def lookup(name: str, version: str | None) -> Flow[tuple[ServiceInfo, dict[str, object]]]:
    """One version of `name` (the latest when `version` is None) and its Swagger document."""
    found = yield from _listed(versions_path(name, version))
    if not found:
        raise ServiceNotFound(f"web service {name!r} not found")
    info = found[-1]
    document = yield from ServiceCalls(info.name, info.version).swagger()
    return info, document


class Service:
    """One version of a web service: call it, or its operationId method with typed inputs."""

    def __init__(
        self, connection: Connection, info: ServiceInfo, swagger: dict[str, object]
    ) -> None:
        """Bind `info`'s version; add the method its Swagger document names and types."""
        self._connection = connection
        self._calls = ServiceCalls(info.name, info.version)
        self.info = info
        self.name = info.name
        self.version = info.version
        self.operation: Operation | None = operation(swagger, self._calls.path, ServiceResult)
        attach(self, self.operation, self.consume)

    def consume(self, **inputs: object) -> ServiceResult:
        """Call the service with JSON `inputs` named as its input parameters."""
        return self._connection.run(self._calls.consume(inputs))

    def __call__(self, **inputs: object) -> ServiceResult:
        """The same as `consume`."""
        return self.consume(**inputs)

    def batch(self, records: Sequence[Mapping[str, object]], parallel_count: int = 10) -> Batch:
        """Start one call per record in the background (a batch execution)."""
        from o16n.client.batch import Batch, BatchCalls

        path = self._calls.path
        execution = self._connection.run(BatchCalls.start(path, records, parallel_count))
        return Batch(self._connection, BatchCalls(path, execution))

    def batches(self) -> list[Batch]:
        """Your batch executions of this version (an Owner's: everybody's), oldest first."""
        from o16n.client.batch import Batch, BatchCalls

        path = self._calls.path
        ids = self._connection.run(BatchCalls.listed(path))
        return [Batch(self._connection, BatchCalls(path, execution)) for execution in ids]

    def batch_execution(self, execution_id: str) -> Batch:
        """An existing batch execution of this version, by id."""
        from o16n.client.batch import Batch, BatchCalls

        return Batch(self._connection, BatchCalls(self._calls.path, execution_id))

    def swagger(self) -> dict[str, object]:
        """The version's Swagger 2.0 document."""
        return self._connection.run(self._calls.swagger())

    def __repr__(self) -> str:
        """`Service('name', 'version')`."""
        return f"Service({self.name!r}, {self.version!r})"
