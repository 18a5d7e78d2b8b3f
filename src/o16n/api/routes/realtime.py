"""Realtime services: publish and patch a version holding an ONNX model (reference §10).

Multipart form fields: `model` (file part; required to publish), `description`, `operationId`,
and the adaptive-batching settings `maxBatchSize` (rows per model run; 1 turns batching off)
and `maxBatchWaitMs` (how long a short batch waits for more calls; 0: it takes only what
queued while the previous run went on).
"""

from __future__ import annotations

from http import HTTPStatus

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, UploadFile
from starlette.responses import Response

from o16n.api.operation import Call, Operation, Param
from o16n.api.responses import JSONResponse
from o16n.api.routes.services import name_and_version, rights_of
from o16n.auth.roles import Action
from o16n.domain.realtime import RealtimeRequest
from o16n.errors import InvalidInput, PayloadTooLarge, UnsupportedMediaType

_MULTIPART = "multipart/form-data"
_FORMS = (_MULTIPART, "application/x-www-form-urlencoded")  # the latter: a patch without model
_TEXT_FIELDS = ("description", "operationId", "maxBatchSize", "maxBatchWaitMs")
_STRING: dict[str, object] = {"type": "string"}


def _text(form: FormData, name: str) -> str | None:
    value = form.get(name)
    if isinstance(value, UploadFile):
        raise InvalidInput(f"{name} must be a text field, not a file", field=name)
    return value


def _number(form: FormData, name: str, kind: type[int] | type[float]) -> int | float | None:
    text = _text(form, name)
    if text is None:
        return None
    try:
        return kind(text)
    except ValueError as error:
        raise InvalidInput(f"{name} must be a {kind.__name__}, got {text!r}", field=name) from error


async def _model(form: FormData, limit: int) -> bytes | None:
    part = form.get("model")
    if part is None:
        return None
    if not isinstance(part, UploadFile):
        raise InvalidInput("model must be a file part (ONNX bytes)", field="model")
    data = await part.read(limit + 1)
    if len(data) > limit:
        raise PayloadTooLarge(f"model exceeds the upload limit of {limit} bytes")
    return data


async def _request(call: Call) -> RealtimeRequest:
    limit = call.services.limits.upload_bytes
    declared = call.request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit + call.services.limits.json_bytes:
        raise PayloadTooLarge(f"upload exceeds the limit of {limit} bytes")
    if not call.request.headers.get("content-type", "").startswith(_FORMS):
        raise UnsupportedMediaType("send multipart/form-data with the ONNX file in part 'model'")
    async with call.request.form(max_files=1, max_fields=len(_TEXT_FIELDS)) as form:
        for name in form:
            if name != "model" and name not in _TEXT_FIELDS:
                raise InvalidInput(f"unknown form field {name!r}", field=name)
        rows = _number(form, "maxBatchSize", int)
        return RealtimeRequest(
            model=await _model(form, limit),
            description=_text(form, "description"),
            operation_id=_text(form, "operationId"),
            max_batch_size=int(rows) if rows is not None else None,
            max_batch_wait_ms=_number(form, "maxBatchWaitMs", float),
        )


async def publish(call: Call) -> Response:
    """Publish a realtime version (generated when the path has none); answers the version."""
    request = await _request(call)
    name = str(call.request.path_params["name"])
    version = call.request.path_params.get("version")
    realtime = call.services.realtime
    service = await run_in_threadpool(
        realtime.publish, call.user, rights_of(call), name, version, request
    )
    return JSONResponse(service.version, status_code=HTTPStatus.CREATED)


async def patch(call: Call) -> Response:
    """Change the given members of a realtime version (a new model, settings, description)."""
    request = await _request(call)
    name, version = name_and_version(call)
    realtime = call.services.realtime
    await run_in_threadpool(realtime.patch, call.user, rights_of(call), name, version, request)
    return JSONResponse(version)


_FORM = (
    Param("description", "string", description="free text"),
    Param("operationId", "string", description="alias of the consume operation"),
    Param("maxBatchSize", "integer", description="rows per model run (1: no batching)"),
    Param("maxBatchWaitMs", "number", description="wait of a short batch for more calls"),
)
OPERATIONS = (
    Operation(
        "POST",
        "/realtime-services/{name}",
        "publishRealtimeWebService",
        "Publishes a realtime web service (an ONNX model) with a generated version",
        "Services",
        publish,
        Action.PUBLISH_SERVICES,
        success=HTTPStatus.CREATED,
        response=_STRING,
        form_files=("model",),
        form_fields=_FORM,
        consumes=_MULTIPART,
    ),
    Operation(
        "POST",
        "/realtime-services/{name}/{version}",
        "publishRealtimeWebServiceVersion",
        "Publishes a realtime web service version (an ONNX model)",
        "Services",
        publish,
        Action.PUBLISH_SERVICES,
        success=HTTPStatus.CREATED,
        response=_STRING,
        form_files=("model",),
        form_fields=_FORM,
        consumes=_MULTIPART,
    ),
    Operation(
        "PATCH",
        "/realtime-services/{name}/{version}",
        "patchRealtimeWebServiceVersion",
        "Updates a realtime web service version",
        "Services",
        patch,
        Action.MANAGE_OWN_SERVICES,
        response=_STRING,
        form_files=("model",),
        form_fields=_FORM,
        consumes=_MULTIPART,
    ),
)
