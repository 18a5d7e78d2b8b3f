"""Web services: publish, list, get, patch, delete, dedicated pools (reference §9, §11)."""

from __future__ import annotations

from http import HTTPStatus

from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from o16n.api.body import read_model
from o16n.api.operation import ArrayOf, Call, Operation
from o16n.api.responses import JSONResponse
from o16n.api.schemas import (
    CreateOrUpdateServicePoolRequest,
    EnvironmentInfo,
    ParameterDefinition,
    PublishWebServiceRequest,
    ServicePoolStatus,
    WebService,
)
from o16n.auth.authorizer import is_allowed
from o16n.auth.roles import Action
from o16n.domain.environments import declaration
from o16n.domain.models import PoolSize, ServiceVersion
from o16n.domain.scoring import service_type
from o16n.domain.services import PublishRequest, Rights
from o16n.ids import wire_timestamp

LOCAL_NODE = "http://localhost:12800/"
_STRING: dict[str, object] = {"type": "string"}


def rights_of(call: Call) -> Rights:
    """The caller's rights over services."""
    return Rights(
        manage_any=is_allowed(call.user, Action.MANAGE_ANY_SERVICE),
        see_any_code=is_allowed(call.user, Action.SEE_ANY_CODE),
    )


def name_and_version(call: Call) -> tuple[str, str]:
    """The {name} and {version} path parameters."""
    return str(call.request.path_params["name"]), str(call.request.path_params["version"])


def _pairs(definitions: list[ParameterDefinition] | None) -> tuple[tuple[str, str], ...] | None:
    if definitions is None:
        return None
    return tuple((item.name, item.type) for item in definitions)


def _request(wire: PublishWebServiceRequest) -> PublishRequest:
    return PublishRequest(
        code=wire.code,
        init_code=wire.initCode,
        snapshot_id=wire.snapshotId,
        description=wire.description,
        operation_id=wire.operationId,
        inputs=_pairs(wire.inputParameterDefinitions),
        outputs=_pairs(wire.outputParameterDefinitions),
        output_file_names=tuple(wire.outputFileNames) if wire.outputFileNames is not None else None,
        runtime_type=wire.runtimeType,
        timeout_seconds=wire.timeoutSeconds,
        environment=declaration(wire.requirements, wire.pythonVersion),
    )


def _environment(service: ServiceVersion) -> EnvironmentInfo | None:
    environment = service.environment
    if environment is None:
        return None
    return EnvironmentInfo(
        id=environment.id,
        requirements=list(environment.requirements),
        pythonVersion=environment.python_version,
        lock=environment.lock,
    )


def _wire(call: Call, rights: Rights, service: ServiceVersion) -> dict[str, object]:
    services = call.services.services
    visible = services.may_see_code(call.user, rights, service)
    writable = services.may_change(call.user, rights, service)
    state = services.environment_state(service)
    return WebService(
        name=service.name,
        version=service.version,
        versionPublishedBy=service.publisher_name,
        creationTime=wire_timestamp(service.created_at),
        updateTime=wire_timestamp(service.updated_at),
        snapshotId=service.snapshot_id or "",
        runtimeType=service.runtime_type,
        serviceType=service_type(service),
        initCode=(service.init_code or "") if visible else "",
        code=(service.code or "") if visible else "",
        description=service.description or "",
        operationId=service.operation_id or None,
        inputParameterDefinitions=[
            ParameterDefinition(name=p.name, type=p.type.value) for p in service.inputs
        ],
        outputParameterDefinitions=[
            ParameterDefinition(name=p.name, type=p.type.value) for p in service.outputs
        ],
        outputFileNames=list(service.output_file_names),
        myPermissionOnService="read/write" if writable else "read only",
        sourceSessionId=service.source_session_id,
        revision=service.revision,
        maxBatchSize=service.batching.max_rows if service.batching else None,
        maxBatchWaitMs=service.batching.max_wait_ms if service.batching else None,
        timeoutSeconds=services.timeout_of(service),
        state=state.state,
        stateMessage=state.message,
        environment=_environment(service),
    ).model_dump(exclude={"operationId"} if not service.operation_id else None)


async def publish(call: Call) -> Response:
    """Publish a version (generated when the path has none); answers the version as JSON."""
    wire = await read_model(call.request, PublishWebServiceRequest, call.services.limits.json_bytes)
    name = str(call.request.path_params["name"])
    version = call.request.path_params.get("version")
    service = await run_in_threadpool(
        call.services.services.publish, call.user, rights_of(call), name, version, _request(wire)
    )
    return JSONResponse(service.version, status_code=HTTPStatus.CREATED)


async def list_all(call: Call) -> Response:
    """Every version of every service."""
    rights = rights_of(call)
    services = await run_in_threadpool(call.services.services.all)
    return JSONResponse([_wire(call, rights, service) for service in services])


async def list_versions(call: Call) -> Response:
    """Every version of one service, in publish order."""
    rights = rights_of(call)
    name = str(call.request.path_params["name"])
    services = await run_in_threadpool(call.services.services.versions, name)
    return JSONResponse([_wire(call, rights, service) for service in services])


async def get_version(call: Call) -> Response:
    """One version, as a one-element array (the seed iterates it)."""
    name, version = name_and_version(call)
    service = await run_in_threadpool(call.services.services.get, name, version)
    return JSONResponse([_wire(call, rights_of(call), service)])


async def patch_version(call: Call) -> Response:
    """Change the given members of a version; its next call runs on the new revision."""
    wire = await read_model(call.request, PublishWebServiceRequest, call.services.limits.json_bytes)
    name, version = name_and_version(call)
    services = call.services.services
    patched = await run_in_threadpool(
        services.patch, call.user, rights_of(call), name, version, _request(wire)
    )
    services.after_patch(patched)
    return JSONResponse(version)


async def delete_version(call: Call) -> Response:
    """Delete a version, its pool, its batch executions and (when unshared) its content."""
    name, version = name_and_version(call)
    services = call.services.services
    await run_in_threadpool(services.delete, call.user, rights_of(call), name, version)
    await call.services.batches.forget_version(name, version)
    services.after_delete(name, version)
    return JSONResponse(version)


async def set_pool(call: Call) -> Response:
    """Create or resize the version's dedicated pool."""
    body = await read_model(
        call.request, CreateOrUpdateServicePoolRequest, call.services.limits.json_bytes
    )
    name, version = name_and_version(call)
    size = PoolSize(initial=body.InitialPoolSize, maximum=body.MaxPoolSize)
    await call.services.services.set_pool(call.user, rights_of(call), name, version, size)
    return JSONResponse("pool created or updated")


async def get_pool(call: Call) -> Response:
    """The dedicated pool's status on this node."""
    name, version = name_and_version(call)
    state = await run_in_threadpool(call.services.services.pool_state, name, version)
    status = ServicePoolStatus(computeNodeEndpoint=LOCAL_NODE, status=state.status)
    return JSONResponse([status.model_dump()])


async def delete_pool(call: Call) -> Response:
    """Tear the dedicated pool down."""
    name, version = name_and_version(call)
    await call.services.services.delete_pool(call.user, rights_of(call), name, version)
    return JSONResponse("pool deleted")


_READ = Action.READ_SERVICES
_PUBLISH = Action.PUBLISH_SERVICES
_MANAGE = Action.MANAGE_OWN_SERVICES
_VERSION = "/services/{name}/{version}"
_POOL = "/services/{name}/{version}/pool"
OPERATIONS = (
    Operation(
        "GET",
        "/services",
        "getAllWebServices",
        "Lists all web services",
        "Services",
        list_all,
        _READ,
        response=ArrayOf(WebService),
    ),
    Operation(
        "POST",
        "/services/{name}",
        "publishWebService",
        "Publishes a web service with a generated version",
        "Services",
        publish,
        _PUBLISH,
        success=HTTPStatus.CREATED,
        body=PublishWebServiceRequest,
        body_name="publishRequest",
        response=_STRING,
    ),
    Operation(
        "GET",
        "/services/{name}",
        "getAllWebServiceVersionsByName",
        "Lists the versions of a web service",
        "Services",
        list_versions,
        _READ,
        response=ArrayOf(WebService),
    ),
    Operation(
        "POST",
        _VERSION,
        "publishWebServiceVersion",
        "Publishes a web service version",
        "Services",
        publish,
        _PUBLISH,
        success=HTTPStatus.CREATED,
        body=PublishWebServiceRequest,
        body_name="publishRequest",
        response=_STRING,
    ),
    Operation(
        "PATCH",
        _VERSION,
        "patchWebServiceVersion",
        "Updates a web service version",
        "Services",
        patch_version,
        _MANAGE,
        body=PublishWebServiceRequest,
        body_name="patchRequest",
        response=_STRING,
    ),
    Operation(
        "GET",
        _VERSION,
        "getWebServiceVersion",
        "Gets a web service version",
        "Services",
        get_version,
        _READ,
        response=ArrayOf(WebService),
    ),
    Operation(
        "DELETE",
        _VERSION,
        "deleteWebServiceVersion",
        "Deletes a web service version",
        "Services",
        delete_version,
        _MANAGE,
        response=_STRING,
    ),
    Operation(
        "POST",
        _POOL,
        "createOrUpdateServicePool",
        "Creates or resizes a dedicated pool",
        "Services",
        set_pool,
        _MANAGE,
        body=CreateOrUpdateServicePoolRequest,
        body_name="createOrUpdateServicePoolRequest",
        response=_STRING,
    ),
    Operation(
        "GET",
        _POOL,
        "getServicePoolStatus",
        "Gets the status of a dedicated pool",
        "Services",
        get_pool,
        _READ,
        response=ArrayOf(ServicePoolStatus),
    ),
    Operation(
        "DELETE",
        _POOL,
        "deleteServicePool",
        "Deletes a dedicated pool",
        "Services",
        delete_pool,
        _MANAGE,
        response=_STRING,
    ),
)
