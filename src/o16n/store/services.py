"""Web-service versions repository."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Connection, Row, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from o16n.domain.models import Batching, Parameter, ParameterType, ServiceVersion
from o16n.errors import ServiceExists
from o16n.ids import UserId
from o16n.store.environments import environment_of, environment_values
from o16n.store.tables import service_blobs, services


def _parameters(rows: list[list[str]]) -> tuple[Parameter, ...]:
    return tuple(Parameter(name, ParameterType(kind)) for name, kind in rows)


def _rows(parameters: Sequence[Parameter]) -> list[list[str]]:
    return [[parameter.name, parameter.type.value] for parameter in parameters]


def _values(service: ServiceVersion) -> dict[str, object]:
    return {
        "name": service.name,
        "version": service.version,
        "revision": service.revision,
        "code": service.code,
        "init_code": service.init_code,
        "description": service.description,
        "operation_id": service.operation_id,
        "inputs": _rows(service.inputs),
        "outputs": _rows(service.outputs),
        "output_file_names": list(service.output_file_names),
        "runtime_type": service.runtime_type,
        "snapshot_id": service.snapshot_id,
        "publisher_id": service.publisher_id,
        "publisher_name": service.publisher_name,
        "created_at": service.created_at,
        "updated_at": service.updated_at,
        "source_session_id": service.source_session_id,
        "max_batch_size": service.batching.max_rows if service.batching else None,
        "max_batch_wait_ms": service.batching.max_wait_ms if service.batching else None,
        "timeout_seconds": service.timeout_seconds,
        **environment_values(service.environment),
    }


def _batching(rows: int | None, wait_ms: float | None) -> Batching | None:
    if rows is None or wait_ms is None:
        return None
    return Batching(max_rows=rows, max_wait_ms=wait_ms)


class SqlServices:
    """The ServiceRepository port on one connection."""

    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def _service(self, row: Row[tuple[object, ...]]) -> ServiceVersion:
        mapping = row._mapping
        blobs = self._connection.execute(
            select(service_blobs.c.blob_id)
            .where(service_blobs.c.service_id == mapping["id"])
            .order_by(service_blobs.c.position)
        )
        publisher = mapping["publisher_id"]
        return ServiceVersion(
            name=mapping["name"],
            version=mapping["version"],
            revision=mapping["revision"],
            code=mapping["code"],
            init_code=mapping["init_code"],
            description=mapping["description"],
            operation_id=mapping["operation_id"],
            inputs=_parameters(mapping["inputs"]),
            outputs=_parameters(mapping["outputs"]),
            output_file_names=tuple(mapping["output_file_names"]),
            runtime_type=mapping["runtime_type"],
            snapshot_id=mapping["snapshot_id"],
            blob_ids=tuple(blob for (blob,) in blobs),
            publisher_id=UserId(publisher) if publisher else None,
            publisher_name=mapping["publisher_name"],
            created_at=mapping["created_at"],
            updated_at=mapping["updated_at"],
            source_session_id=mapping["source_session_id"],
            batching=_batching(mapping["max_batch_size"], mapping["max_batch_wait_ms"]),
            timeout_seconds=mapping["timeout_seconds"],
            environment=environment_of(mapping["environment"]),
        )

    def environment_ids(self) -> set[str]:
        """The ids of the environments that versions run on."""
        statement = select(services.c.environment_id).where(services.c.environment_id.is_not(None))
        return set(self._connection.execute(statement).scalars())

    def _id_of(self, name: str, version: str) -> int | None:
        statement = select(services.c.id).where(
            services.c.name == name, services.c.version == version
        )
        return self._connection.execute(statement).scalar()

    def _write_blobs(self, service_id: int, blob_ids: Sequence[str]) -> None:
        self._connection.execute(
            delete(service_blobs).where(service_blobs.c.service_id == service_id)
        )
        for position, blob_id in enumerate(blob_ids):
            self._connection.execute(
                insert(service_blobs).values(
                    service_id=service_id, position=position, blob_id=blob_id
                )
            )

    def add(self, service: ServiceVersion) -> None:
        """Insert a new version; ServiceExists when name and version are taken."""
        try:
            with self._connection.begin_nested():
                result = self._connection.execute(insert(services).values(_values(service)))
        except IntegrityError as error:
            raise ServiceExists(
                f"service {service.name!r} version {service.version!r} exists", field="version"
            ) from error
        (service_id,) = result.inserted_primary_key or (None,)
        assert isinstance(service_id, int)
        self._write_blobs(service_id, service.blob_ids)

    def get(self, name: str, version: str) -> ServiceVersion | None:
        """One version, or None."""
        statement = select(services).where(services.c.name == name, services.c.version == version)
        row = self._connection.execute(statement).first()
        return self._service(row) if row else None

    def versions(self, name: str) -> list[ServiceVersion]:
        """Every version of `name`, in publish order."""
        statement = select(services).where(services.c.name == name).order_by(services.c.id)
        return [self._service(row) for row in self._connection.execute(statement)]

    def all(self) -> list[ServiceVersion]:
        """Every version of every service, by name then publish order."""
        statement = select(services).order_by(services.c.name, services.c.id)
        return [self._service(row) for row in self._connection.execute(statement)]

    def replace(self, service: ServiceVersion) -> None:
        """Overwrite a version's fields and contents."""
        service_id = self._id_of(service.name, service.version)
        assert service_id is not None
        statement = update(services).where(services.c.id == service_id).values(_values(service))
        self._connection.execute(statement)
        self._write_blobs(service_id, service.blob_ids)

    def remove(self, name: str, version: str) -> None:
        """Delete a version (its content references go with it)."""
        service_id = self._id_of(name, version)
        self._connection.execute(
            delete(service_blobs).where(service_blobs.c.service_id == service_id)
        )
        self._connection.execute(delete(services).where(services.c.id == service_id))
