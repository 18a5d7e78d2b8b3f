"""Published web services: their metadata and a callable to consume one version."""

from __future__ import annotations

import base64
import keyword
from dataclasses import dataclass, field
from urllib.parse import quote

from o16n.client.connection import Connection


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


def _result(body: object) -> ServiceResult:
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
        return _result(self._connection.request("POST", self._path(), json=inputs).json())

    def __call__(self, **inputs: object) -> ServiceResult:
        """The same as `consume`."""
        return self.consume(**inputs)

    def swagger(self) -> dict[str, object]:
        """The version's Swagger 2.0 document."""
        body: object = self._connection.request("GET", f"{self._path()}/swagger.json").json()
        return dict(body) if isinstance(body, dict) else {}

    def __repr__(self) -> str:
        """`Service('name', 'version')`."""
        return f"Service({self.name!r}, {self.version!r})"
