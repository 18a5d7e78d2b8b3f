"""Consuming a service (the hot path, reference §13)."""

from __future__ import annotations

import base64
from dataclasses import dataclass

import orjson
from starlette.responses import Response
from starlette.types import Receive

from o16n.api.body import received_json
from o16n.api.dependencies import ApiServices
from o16n.api.metered import CONSUME_ROUTE, consume_counted
from o16n.api.operation import Call, Operation
from o16n.api.routes.services import name_and_version
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


@dataclass(frozen=True, slots=True)
class ConsumeCall:
    """A consume request as the ASGI server hands it over."""

    name: str
    version: str
    content_type: str
    content_length: str | None
    receive: Receive


async def consumed(services: ApiServices, call: ConsumeCall) -> bytes:
    """The one consume path, after the token check: read the JSON body within the limit, run
    the version on it, answer its WebServiceResult as JSON bytes."""
    limit = services.limits.json_bytes
    body = await received_json(call.receive, call.content_type, call.content_length, limit)
    result = await consume_counted(services, call.name, call.version, body)
    return orjson.dumps(result_body(result))


async def consume(call: Call) -> Response:
    """The routed consume (the consume lane of `api.consume_lane` answers most calls before
    they reach the app): with tracing on, before the app started, and so that other methods
    on the route are a 405 naming POST."""
    name, version = name_and_version(call)
    headers = call.request.headers
    content_type, length = headers.get("content-type", ""), headers.get("content-length")
    request = ConsumeCall(name, version, content_type, length, call.request.receive)
    return Response(await consumed(call.services, request), media_type="application/json")


OPERATIONS = (
    Operation(
        "POST",
        CONSUME_ROUTE,
        "consumeWebService",
        "Consumes a web service",
        "Services",
        consume,
        Action.CONSUME_SERVICES,
        body={"$ref": "#/definitions/InputParameters"},
        body_name="WebServiceParameters",
        response={"$ref": "#/definitions/WebServiceResult"},
        documented=False,
        in_service_document=True,
    ),
)
