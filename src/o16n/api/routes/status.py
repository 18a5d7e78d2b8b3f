"""Server health: GET /status (authenticated) and GET /health (liveness, anonymous)."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from o16n.api.operation import Call, Operation
from o16n.api.responses import JSONResponse
from o16n.api.schemas import StatusResponse
from o16n.auth.roles import Action
from o16n.domain.status import Health


def _wire(health: Health) -> StatusResponse:
    components = {name: _wire(part) for name, part in (health.components or {}).items()}
    return StatusResponse(statusCode=health.state, components=components, details=health.details)


async def status(call: Call) -> Response:
    """The health tree of the server and its components."""
    report = await run_in_threadpool(call.services.status.report)
    return JSONResponse(_wire(report).model_dump())


async def health(call: Call) -> Response:
    """Liveness only: the process answers HTTP."""
    return JSONResponse({"statusCode": "pass"})


OPERATIONS = (
    Operation(
        "GET",
        "/status",
        "status",
        "Gets the health of the server",
        "Status",
        status,
        action=Action.READ_STATUS,
        response=StatusResponse,
    ),
    Operation(
        "GET",
        "/health",
        "health",
        "Liveness probe",
        "Status",
        health,
        action=None,
        response={"type": "object", "properties": {"statusCode": {"type": "string"}}},
        documented=False,
    ),
)
