"""Asynchronous batch consumption (reference §14): start, list, follow, cancel, files."""

from __future__ import annotations

from http import HTTPStatus

from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from o16n.api.body import read_json
from o16n.api.operation import Call, Operation, Param
from o16n.api.responses import JSONResponse
from o16n.api.routes.consume import result_body
from o16n.api.routes.services import name_and_version
from o16n.auth.authorizer import is_allowed
from o16n.auth.roles import Action
from o16n.domain.batches import BatchTarget
from o16n.errors import InvalidInput, NotFound

_TRUE = {"true", "1", "yes"}
_FALSE = {"false", "0", "no"}
_BATCH = "/api/{name}/{version}/batch"
_EXECUTION = _BATCH + "/{executionId}"
_FILES = _EXECUTION + "/{index}/files"


def _see_all(call: Call) -> bool:
    return is_allowed(call.user, Action.MANAGE_ANY_BATCH)


def _parallel_count(call: Call) -> int | None:
    text = call.request.query_params.get("parallelCount")
    if text is None or text == "":
        return None
    try:
        return int(text)
    except ValueError as error:
        message = f"parallelCount {text!r} is not an integer"
        raise InvalidInput(message, field="parallelCount") from error


def _show_partial(call: Call) -> bool:
    """showPartialResult (the SDK's spelling) or showPartialResults (the swagger's); true."""
    for key, value in call.request.query_params.items():
        if key.lower() in ("showpartialresult", "showpartialresults"):
            if value.lower() in _TRUE:
                return True
            if value.lower() in _FALSE:
                return False
            raise InvalidInput(f"{key} must be true or false", field=key)
    return True


def _target(call: Call) -> BatchTarget:
    name, version = name_and_version(call)
    execution_id = str(call.request.path_params["executionId"])
    return BatchTarget(call.user, _see_all(call), name, version, execution_id)


def _index(call: Call) -> int:
    text = str(call.request.path_params["index"])
    if not text.isdigit():
        raise NotFound(f"no record {text!r}: records are numbered from 0", field="index")
    return int(text)


async def start(call: Call) -> Response:
    """Store the records and start running them; 202 with the execution id."""
    name, version = name_and_version(call)
    count = _parallel_count(call)
    body = await read_json(call.request, call.services.limits.json_bytes)
    execution = await call.services.batches.start(call.user, name, version, body, count)
    reply = {"batchExecutionId": execution.id, "BatchExecutionId": execution.id}
    return JSONResponse(reply, status_code=HTTPStatus.ACCEPTED)


async def list_ids(call: Call) -> Response:
    """The caller's execution ids of the version (an Owner's: everybody's)."""
    name, version = name_and_version(call)
    batches = call.services.batches
    ids = await run_in_threadpool(batches.ids, call.user, _see_all(call), name, version)
    return JSONResponse(ids)


async def status(call: Call) -> Response:
    """State, counts and the results in input order (null where not done yet)."""
    target, partial = _target(call), _show_partial(call)
    batches = call.services.batches
    found = await run_in_threadpool(lambda: batches.status(target, partial=partial))
    execution = found.execution
    return JSONResponse(
        {
            "state": execution.state.value,
            "completedItemCount": execution.done_count,
            "totalItemCount": execution.total_count,
            "batchExecutionResults": [
                result_body(result) if result is not None else None for result in found.results
            ],
        }
    )


async def cancel(call: Call) -> Response:
    """Cancel the execution and delete it with its files; answers [executionId]."""
    target = _target(call)
    await call.services.batches.cancel(target)
    return JSONResponse([target.execution_id])


async def file_names(call: Call) -> Response:
    """Names of the files one record produced."""
    target, index = _target(call), _index(call)
    names = await run_in_threadpool(call.services.batches.file_names, target, index)
    return JSONResponse(names)


async def file(call: Call) -> Response:
    """One file a record produced, as raw bytes."""
    target, index = _target(call), _index(call)
    file_name = str(call.request.path_params["fileName"])
    content = await run_in_threadpool(call.services.batches.file, target, index, file_name)
    return Response(content, media_type="application/octet-stream")


_CONSUME = Action.CONSUME_SERVICES
# Batch routes belong to each version's own document (reference §14, Microsoft's
# operationIds), whose definitions hold the version's InputParameters and results.
_STRINGS: dict[str, object] = {"type": "array", "items": {"type": "string"}}
_INDEX = (Param("index", "integer"),)
OPERATIONS = (
    Operation(
        "POST",
        _BATCH,
        "StartBatchExecution",
        "Starts a batch execution: one consume per record",
        "Services",
        start,
        _CONSUME,
        success=HTTPStatus.ACCEPTED,
        body={"type": "array", "items": {"$ref": "#/definitions/InputParameters"}},
        body_name="BatchWebServiceParameters",
        query=(Param("parallelCount", "integer"),),
        response={"$ref": "#/definitions/StartBatchExecutionResponse"},
        documented=False,
        in_service_document=True,
    ),
    Operation(
        "GET",
        _BATCH,
        "GetBatchExecutions",
        "Lists batch executions",
        "Services",
        list_ids,
        _CONSUME,
        response=_STRINGS,
        documented=False,
        in_service_document=True,
    ),
    Operation(
        "GET",
        _EXECUTION,
        "GetBatchExecutionStatus",
        "Gets the state and results of a batch execution",
        "Services",
        status,
        _CONSUME,
        query=(Param("showPartialResults", "boolean"),),
        response={"$ref": "#/definitions/BatchWebServiceResult"},
        documented=False,
        in_service_document=True,
    ),
    Operation(
        "DELETE",
        _EXECUTION,
        "CancelAndDeleteBatchExecution",
        "Cancels a batch execution and deletes it with its files",
        "Services",
        cancel,
        _CONSUME,
        response=_STRINGS,
        documented=False,
        in_service_document=True,
    ),
    Operation(
        "GET",
        _FILES,
        "GetBatchExecutionFiles",
        "Lists the files one record produced",
        "Services",
        file_names,
        _CONSUME,
        response=_STRINGS,
        path_params=_INDEX,
        documented=False,
        in_service_document=True,
    ),
    Operation(
        "GET",
        _FILES + "/{fileName:path}",
        "GetBatchExecutionFile",
        "Gets one file one record produced",
        "Services",
        file,
        _CONSUME,
        produces="application/octet-stream",
        response={"type": "file"},
        path_params=_INDEX,
        documented=False,
        in_service_document=True,
    ),
)
