"""Consuming a service (the hot path) and its per-version Swagger (reference §13)."""

from __future__ import annotations

import base64

from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from o16n.api.body import read_json
from o16n.api.metered import CONSUME_ROUTE, consume_counted
from o16n.api.operation import Call, Operation
from o16n.api.responses import JSONResponse
from o16n.api.routes.services import name_and_version
from o16n.api.service_swagger import service_document
from o16n.auth.roles import Action
from o16n.domain.models import ConsumeResult


def result_body(result: ConsumeResult) -> dict[str, object]:
    """A WebServiceResult: outputs by name, output files in base64 (null when not produced)."""
    files = {
        name: base64.b64encode(data).decode() if data is not None else None
        for name, data in result.output_files.items()
    }
    return {
        "success": result.success,
        "errorMessage": result.error_message,
        "consoleOutput": result.console_output,
        "changedFiles": result.changed_files,
        "outputParameters": result.outputs,
        "outputFiles": files,
    }


async def consume(call: Call) -> Response:
    """Run the version's code on the posted inputs in a warm interpreter."""
    name, version = name_and_version(call)
    body = await read_json(call.request, call.services.limits.json_bytes)
    result = await consume_counted(call.services, name, version, body)
    return JSONResponse(result_body(result))


async def swagger(call: Call) -> Response:
    """The version's own Swagger 2.0 document."""
    name, version = name_and_version(call)
    services = call.services.services
    service = await run_in_threadpool(services.get, name, version)
    return JSONResponse(service_document(service, services.timeout_of(service)))


OPERATIONS = (
    Operation(
        "GET",
        "/api/{name}/{version}/swagger.json",
        "GetWebServiceSwagger",
        "Gets the Swagger document of a web service version",
        "Services",
        swagger,
        Action.READ_SERVICES,
        response={"type": "object"},
    ),
    Operation(
        "POST",
        CONSUME_ROUTE,
        "consumeWebService",
        "Consumes a web service",
        "Services",
        consume,
        Action.CONSUME_SERVICES,
        documented=False,
    ),
)
