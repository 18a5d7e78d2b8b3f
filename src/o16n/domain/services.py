"""Web services: publish, list, get, patch, delete, consume and dedicated pools."""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass, replace
from typing import TypeVar

from o16n.domain import parameters
from o16n.domain.blob_references import Claim
from o16n.domain.environments import (
    NOTHING_DECLARED,
    Declaration,
    check_ready,
    declared,
    state_of,
)
from o16n.domain.models import (
    Batching,
    ConsumeResult,
    EnvironmentState,
    JsonValue,
    Parameter,
    PoolSize,
    PoolState,
    Principal,
    ServiceVersion,
    Snapshot,
)
from o16n.domain.names import file_name
from o16n.domain.ports import EnvironmentBuilder, MetadataStore, ModelScorer, ServiceRuntime
from o16n.domain.scoring import REALTIME, score
from o16n.domain.sessions import runtime_type_of
from o16n.domain.snapshots import Snapshots
from o16n.domain.version_cache import VersionCache
from o16n.errors import Forbidden, InvalidInput, ServiceNotFound, WrongServiceKind
from o16n.ids import new_guid, now

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
_OPERATION_ID = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")
MIN_TIMEOUT_SECONDS = 0.1
MAX_TIMEOUT_SECONDS = 24 * 3600.0


@dataclass(frozen=True)
class PublishRequest:
    """What a publish or a patch asks for; None means "not given"."""

    code: str | None = None
    init_code: str | None = None
    snapshot_id: str | None = None
    description: str | None = None
    operation_id: str | None = None
    inputs: tuple[tuple[str, str], ...] | None = None
    outputs: tuple[tuple[str, str], ...] | None = None
    output_file_names: tuple[str, ...] | None = None
    runtime_type: str | None = None
    timeout_seconds: float | None = None
    environment: Declaration = NOTHING_DECLARED


@dataclass(frozen=True)
class Rights:
    """What the caller may do to services, decided by the authorizer in the web layer."""

    manage_any: bool
    see_any_code: bool


def checked_name(text: str, field: str) -> str:
    """A service name or version: letters, digits, `.`, `_`, `-` (it is a URL segment)."""
    if not _NAME.match(text):
        raise InvalidInput(
            f"{text!r} must be 1-128 letters, digits, '.', '_' or '-', starting with a "
            "letter or digit",
            field=field,
        )
    return text


def checked_operation_id(text: str | None) -> str | None:
    """An operationId alias: an identifier, or None."""
    if text is not None and not _OPERATION_ID.match(text):
        raise InvalidInput(f"operationId {text!r} must be an identifier", field="operationId")
    return text


def checked_timeout(seconds: float | None) -> float | None:
    """A version's call deadline in seconds (MIN_TIMEOUT_SECONDS..MAX_TIMEOUT_SECONDS), or None."""
    if seconds is not None and not MIN_TIMEOUT_SECONDS <= seconds <= MAX_TIMEOUT_SECONDS:
        raise InvalidInput(
            f"timeoutSeconds must be from {MIN_TIMEOUT_SECONDS:g} to {MAX_TIMEOUT_SECONDS:g}",
            field="timeoutSeconds",
        )
    return seconds


def _file_names(names: tuple[str, ...]) -> tuple[str, ...]:
    for index, name in enumerate(names):
        file_name(name, f"outputFileNames[{index}]")
    return names


T = TypeVar("T")


def new_version(
    user: Principal,
    name: str,
    version: str,
    *,
    runtime_type: str,
    code: str = "",
    init_code: str | None = None,
    description: str | None = None,
    operation_id: str | None = None,
    inputs: tuple[Parameter, ...] = (),
    outputs: tuple[Parameter, ...] = (),
    output_file_names: tuple[str, ...] = (),
    blob_ids: tuple[str, ...] = (),
    batching: Batching | None = None,
    timeout_seconds: float | None = None,
) -> ServiceVersion:
    """Revision 1 of a version published now by `user` (the one factory of a new version;
    the snapshot, when there is one, is laid on afterwards)."""
    moment = now()
    return ServiceVersion(
        name=name,
        version=version,
        revision=1,
        code=code,
        init_code=init_code,
        description=description,
        operation_id=operation_id,
        inputs=inputs,
        outputs=outputs,
        output_file_names=output_file_names,
        runtime_type=runtime_type,
        snapshot_id=None,
        blob_ids=blob_ids,
        publisher_id=user.user_id,
        publisher_name=user.username,
        created_at=moment,
        updated_at=moment,
        source_session_id=None,
        batching=batching,
        timeout_seconds=timeout_seconds,
    )


def given(new: T | None, old: T) -> T:
    """A patch member: the new value when given, else the stored one."""
    return old if new is None else new


def _with_snapshot(
    service: ServiceVersion, snapshot: Snapshot | None, claim: Claim, *, overlay: bool
) -> ServiceVersion:
    """`service` with the snapshot's content (laid over its own with `overlay`), the blob held
    by `claim` until the version's row is committed."""
    if snapshot is None:
        return service
    claim.hold(snapshot.blob_id)
    blob_ids = (*service.blob_ids, snapshot.blob_id) if overlay else (snapshot.blob_id,)
    return replace(
        service,
        snapshot_id=snapshot.id,
        blob_ids=blob_ids,
        source_session_id=snapshot.session_id,
    )


class Services:
    """Use cases of web services; versions are cached for the consume path.

    A call of a version without a `timeout_seconds` of its own has `default_timeout` seconds.
    """

    def __init__(
        self,
        store: MetadataStore,
        snapshots: Snapshots,
        runtime: ServiceRuntime,
        cache_seconds: float,
        scorer: ModelScorer,
        *,
        environments: EnvironmentBuilder,
        default_timeout: float,
        max_pool_size: int,
    ) -> None:
        self._store = store
        self._environments = environments
        self._default_timeout = default_timeout
        self._max_pool_size = max_pool_size
        self._snapshots = snapshots
        self._runtime = runtime
        self._scorer = scorer
        self._cache = VersionCache(self.get, cache_seconds)

    def publish(
        self,
        user: Principal,
        rights: Rights,
        name: str,
        version: str | None,
        request: PublishRequest,
    ) -> ServiceVersion:
        """Publish a new version (a GUID when `version` is None); 409 when it exists."""
        checked_name(name, "name")
        version = checked_name(version, "version") if version is not None else new_guid()
        if not request.code:
            raise InvalidInput("code is required", field="code")
        runtime = runtime_type_of(request.runtime_type)
        service = new_version(
            user,
            name,
            version,
            runtime_type=runtime,
            code=request.code,
            init_code=request.init_code,
            description=request.description,
            operation_id=checked_operation_id(request.operation_id),
            inputs=parameters.definitions(request.inputs or (), "inputParameterDefinitions"),
            outputs=parameters.definitions(request.outputs or (), "outputParameterDefinitions"),
            output_file_names=_file_names(request.output_file_names or ()),
            timeout_seconds=checked_timeout(request.timeout_seconds),
        )
        snapshot = self._snapshot(user, request.snapshot_id)
        base = snapshot.environment if snapshot is not None else None
        service = replace(
            service, environment=declared(self._environments, request.environment, base)
        )
        with self._snapshots.referencing() as claim:
            service = _with_snapshot(service, snapshot, claim, overlay=False)
            self.add(user, rights, service)
        self._build(service)
        return service

    def _snapshot(self, user: Principal, snapshot_id: str | None) -> Snapshot | None:
        """The caller's snapshot a publish or patch names, if any."""
        return None if snapshot_id is None else self._snapshots.get(user, snapshot_id)

    def _build(self, service: ServiceVersion) -> None:
        """Start building the version's environment in the background."""
        if service.environment is not None:
            self._environments.build(service.environment)

    def environment_state(self, service: ServiceVersion) -> EnvironmentState:
        """Whether what the version runs on is ready on this node."""
        return state_of(self._environments, service.environment)

    def add(self, user: Principal, rights: Rights, service: ServiceVersion) -> None:
        """Store a new version; 403 when another user publishes under that name."""
        with self._store.unit_of_work() as uow:
            others = {v.publisher_id for v in uow.services.versions(service.name)}
            if others - {user.user_id} and not rights.manage_any:
                raise Forbidden(f"service {service.name!r} belongs to another user", field="name")
            uow.services.add(service)

    def all(self) -> list[ServiceVersion]:
        """Every version of every service."""
        with self._store.unit_of_work() as uow:
            return uow.services.all()

    def versions(self, name: str) -> list[ServiceVersion]:
        """Every version of `name` in publish order (the last one is the latest)."""
        with self._store.unit_of_work() as uow:
            return uow.services.versions(name)

    def get(self, name: str, version: str) -> ServiceVersion:
        """One version; ServiceNotFound otherwise."""
        with self._store.unit_of_work() as uow:
            service = uow.services.get(name, version)
        if service is None:
            raise ServiceNotFound(f"no service {name!r} version {version!r}")
        return service

    def patch(
        self, user: Principal, rights: Rights, name: str, version: str, request: PublishRequest
    ) -> ServiceVersion:
        """Change the given members of a version; a new snapshot is laid over the stored one."""
        current = self._owned(user, rights, name, version)
        if current.runtime_type == REALTIME:
            raise WrongServiceKind(
                f"{name}/{version} is a realtime service: PATCH /realtime-services/{name}/{version}"
            )
        if request.code is not None and not request.code:
            raise InvalidInput("code must not be empty", field="code")
        inputs, outputs = request.inputs, request.outputs
        snapshot = self._snapshot(user, request.snapshot_id)
        base = (snapshot.environment if snapshot else None) or current.environment
        patched = replace(
            current,
            code=given(request.code, current.code),
            init_code=given(request.init_code, current.init_code),
            description=given(request.description, current.description),
            operation_id=checked_operation_id(given(request.operation_id, current.operation_id)),
            inputs=current.inputs
            if inputs is None
            else parameters.definitions(inputs, "inputParameterDefinitions"),
            outputs=current.outputs
            if outputs is None
            else parameters.definitions(outputs, "outputParameterDefinitions"),
            output_file_names=_file_names(
                given(request.output_file_names, current.output_file_names)
            ),
            runtime_type=runtime_type_of(given(request.runtime_type, current.runtime_type)),
            timeout_seconds=checked_timeout(
                given(request.timeout_seconds, current.timeout_seconds)
            ),
            environment=declared(self._environments, request.environment, base),
            revision=current.revision + 1,
            updated_at=now(),
        )
        with self._snapshots.referencing() as claim:
            patched = _with_snapshot(patched, snapshot, claim, overlay=True)
            self.save(patched)
        self._build(patched)
        return patched

    def save(self, service: ServiceVersion) -> None:
        """Store a changed version and forget what was cached or loaded for it."""
        with self._store.unit_of_work() as uow:
            uow.services.replace(service)
        self._cache.forget(service.name, service.version)
        self._scorer.drop(service.name, service.version)

    def timeout_of(self, service: ServiceVersion) -> float:
        """How long one call of the version may run, in seconds."""
        own = service.timeout_seconds
        return self._default_timeout if own is None else own

    def after_patch(self, service: ServiceVersion) -> None:
        """Stop at once the interpreters running the code, initCode or snapshot that a patch
        replaced (for other changes the runtime drains them on the next call)."""
        self._runtime.replaced(service)

    def after_delete(self, name: str, version: str) -> None:
        """Stop a deleted version's interpreters at once (their calls fail)."""
        self._runtime.stop(name, version)
        self._scorer.drop(name, version)

    def delete(self, user: Principal, rights: Rights, name: str, version: str) -> None:
        """Delete a version; its content goes when nothing else refers to it."""
        current = self._owned(user, rights, name, version)
        with self._store.unit_of_work() as uow:
            uow.services.remove(name, version)
        self._cache.forget(name, version)
        self._snapshots.release(current.blob_ids)

    def owned(self, user: Principal, rights: Rights, name: str, version: str) -> ServiceVersion:
        """A version the caller may change (its publisher or an Owner); Forbidden otherwise."""
        return self._owned(user, rights, name, version)

    def _owned(self, user: Principal, rights: Rights, name: str, version: str) -> ServiceVersion:
        service = self.get(name, version)
        if service.publisher_id != user.user_id and not rights.manage_any:
            raise Forbidden(f"only the publisher of {name}/{version} or an Owner may change it")
        return service

    def may_change(self, user: Principal, rights: Rights, service: ServiceVersion) -> bool:
        """Whether the caller may patch or delete this version."""
        return rights.manage_any or service.publisher_id == user.user_id

    def may_see_code(self, user: Principal, rights: Rights, service: ServiceVersion) -> bool:
        """Whether the caller may read this version's code and init code."""
        return rights.see_any_code or service.publisher_id == user.user_id

    async def consume(self, name: str, version: str, body: object) -> ConsumeResult:
        """Call a version with a request body of inputs."""
        service = await self._cache.get(name, version)
        if service.runtime_type == REALTIME:
            return await score(self._scorer, service, body)
        checked: dict[str, JsonValue] = parameters.inputs(service.inputs, body)
        if service.environment is not None:
            check_ready(self._environments, service.environment, f"{name}/{version}")
        return await self._runtime.consume(service, checked)

    async def set_pool(
        self, user: Principal, rights: Rights, name: str, version: str, size: PoolSize
    ) -> None:
        """Create or resize a version's dedicated pool (publisher or Owner), of at most
        `max_pool_size` workers (each one a process: a size past the machine's is refused)."""
        if not 0 <= size.maximum <= self._max_pool_size:
            raise InvalidInput(
                f"MaxPoolSize must be between 0 and {self._max_pool_size} (O16N_POOL_MAX_SIZE)",
                field="MaxPoolSize",
            )
        if not 0 <= size.initial <= size.maximum:
            raise InvalidInput("need 0 <= InitialPoolSize <= MaxPoolSize", field="InitialPoolSize")
        service = await asyncio.to_thread(self._owned, user, rights, name, version)
        if service.runtime_type == REALTIME:
            raise WrongServiceKind(f"{name}/{version} is realtime: it is scored in the web process")
        await self._runtime.set_pool(service, size)

    def pool_state(self, name: str, version: str) -> PoolState:
        """The version's dedicated pool."""
        return self._runtime.pool_state(self.get(name, version))

    async def delete_pool(self, user: Principal, rights: Rights, name: str, version: str) -> None:
        """Tear a version's dedicated pool down (publisher or Owner)."""
        await asyncio.to_thread(self._owned, user, rights, name, version)
        await self._runtime.drop(name, version)
