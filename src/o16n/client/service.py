"""Published web services: their metadata and a callable to consume one version."""

from __future__ import annotations

import base64
import keyword
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from urllib.parse import quote

from o16n.client.connection import Connection

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
    return value if isinstance(value, str) else None


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


class Service:
    """One version of a web service: call it, or by its operationId, with keyword inputs."""

    def __init__(self, connection: Connection, info: ServiceInfo) -> None:
        """Bind `info`'s version; add a method named after its operationId when one is set."""
        self._connection = connection
        self.info = info
        self.name = info.name
        self.version = info.version
        operation = info.operation_id
        if (
            operation
            and operation.isidentifier()
            and not keyword.iskeyword(operation)
            and not hasattr(self, operation)
        ):
            setattr(self, operation, self.consume)

    def _path(self) -> str:
        return f"/api/{quote(self.name, safe='')}/{quote(self.version, safe='')}"

    def consume(self, **inputs: object) -> ServiceResult:
        """Call the service with JSON `inputs` named as its input parameters."""
        return service_result(self._connection.request("POST", self._path(), json=inputs).json())

    def __call__(self, **inputs: object) -> ServiceResult:
        """The same as `consume`."""
        return self.consume(**inputs)

    def batch(self, records: Sequence[Mapping[str, object]], parallel_count: int = 10) -> Batch:
        """Start one call per record in the background (a batch execution)."""
        from o16n.client.batch import Batch

        return Batch.start(self._connection, self._path(), records, parallel_count)

    def batches(self) -> list[Batch]:
        """Your batch executions of this version (an Owner's: everybody's), oldest first."""
        from o16n.client.batch import Batch

        return Batch.listed(self._connection, self._path())

    def batch_execution(self, execution_id: str) -> Batch:
        """An existing batch execution of this version, by id."""
        from o16n.client.batch import Batch

        return Batch(self._connection, self._path(), execution_id)

    def swagger(self) -> dict[str, object]:
        """The version's Swagger 2.0 document."""
        body: object = self._connection.request("GET", f"{self._path()}/swagger.json").json()
        return dict(body) if isinstance(body, dict) else {}

    def __repr__(self) -> str:
        """`Service('name', 'version')`."""
        return f"Service({self.name!r}, {self.version!r})"
