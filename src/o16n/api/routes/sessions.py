"""Sessions: create, list, execute, console output, history, cancel, close (reference §5)."""

from __future__ import annotations

from http import HTTPStatus

from starlette.responses import Response

from o16n.api.body import read_model
from o16n.api.operation import ArrayOf, Call, Operation
from o16n.api.responses import JSONResponse
from o16n.api.schemas import (
    MAX_OBJECT_NAME,
    ConsoleOutputResponse,
    CreateSessionRequest,
    CreateSessionResponse,
    ExecuteRequest,
    ExecuteResponse,
    SessionInfo,
    WorkspaceObject,
)
from o16n.auth.authorizer import is_allowed
from o16n.auth.roles import Action
from o16n.domain.environments import declaration
from o16n.domain.models import Session
from o16n.domain.names import identifier
from o16n.errors import InvalidInput
from o16n.ids import wire_timestamp

_STRINGS: dict[str, object] = {"type": "array", "items": {"type": "string"}}
_STRING: dict[str, object] = {"type": "string"}


def session_id(call: Call) -> str:
    """The {id} path parameter."""
    return str(call.request.path_params["id"])


def _info(session: Session) -> dict[str, object]:
    return SessionInfo(
        id=session.id,
        name=session.name,
        owner=session.owner_name,
        runtimeType=session.runtime_type,
        creationTime=wire_timestamp(session.created_at),
    ).model_dump()


async def create_session(call: Call) -> Response:
    """Start a Python interpreter for the caller."""
    request = await read_model(call.request, CreateSessionRequest, call.services.limits.json_bytes)
    environment = declaration(request.requirements, request.pythonVersion)
    session = await call.services.sessions.create(
        call.user, request.name, request.runtimeType, request.snapshotId, environment
    )
    body = CreateSessionResponse(sessionId=session.id).model_dump()
    return JSONResponse(body, status_code=HTTPStatus.CREATED)


async def list_sessions(call: Call) -> Response:
    """The caller's sessions (an Owner sees everybody's)."""
    everybody = is_allowed(call.user, Action.MANAGE_ANY_SESSION)
    sessions = await call.services.sessions.visible_to(call.user, all_users=everybody)
    return JSONResponse([_info(session) for session in sessions])


def _object_name(name: str, field: str) -> str:
    """An output's name: a Python identifier no longer than a WorkspaceObject's name."""
    if len(name) > MAX_OBJECT_NAME:
        raise InvalidInput(f"{field} is longer than {MAX_OBJECT_NAME} characters", field=field)
    return identifier(name, field)


async def execute_code(call: Call) -> Response:
    """Run code with named inputs and outputs; failures come back as success: false."""
    request = await read_model(call.request, ExecuteRequest, call.services.limits.json_bytes)
    inputs = {
        identifier(item.name, f"inputParameters[{index}].name"): item.value
        for index, item in enumerate(request.inputParameters)
    }
    outputs = [
        _object_name(name, f"outputParameters[{index}]")
        for index, name in enumerate(request.outputParameters)
    ]
    result = await call.services.sessions.execute(
        call.user, session_id(call), request.code, inputs, outputs
    )
    response = ExecuteResponse(
        success=result.success,
        errorMessage=result.error_message,
        consoleOutput=result.console_output,
        changedFiles=result.changed_files,
        outputParameters=[WorkspaceObject(name=n, value=v) for n, v in result.outputs],
    )
    return JSONResponse(response.model_dump())


async def console_output(call: Call) -> Response:
    """Console output of the last execution."""
    text = await call.services.sessions.console_output(call.user, session_id(call))
    return JSONResponse(ConsoleOutputResponse(consoleOutput=text).model_dump())


async def history(call: Call) -> Response:
    """Code executed in the session, oldest first."""
    return JSONResponse(await call.services.sessions.history(call.user, session_id(call)))


async def cancel(call: Call) -> Response:
    """Interrupt the running execution (best effort)."""
    await call.services.sessions.cancel(call.user, session_id(call))
    return JSONResponse("cancelled")


async def _close(call: Call, *, force: bool) -> Response:
    everybody = is_allowed(call.user, Action.MANAGE_ANY_SESSION)
    await call.services.sessions.close(
        call.user, session_id(call), force=force, any_owner=everybody
    )
    return JSONResponse("closed")


async def close_session(call: Call) -> Response:
    """Close the session and free its interpreter."""
    return await _close(call, force=False)


async def close_session_by_force(call: Call) -> Response:
    """Kill the session's interpreter at once."""
    return await _close(call, force=True)


_USE = Action.USE_SESSIONS
OPERATIONS = (
    Operation(
        "POST",
        "/sessions",
        "createSession",
        "Creates a session",
        "Sessions",
        create_session,
        _USE,
        success=HTTPStatus.CREATED,
        body=CreateSessionRequest,
        body_name="createSessionRequest",
        response=CreateSessionResponse,
    ),
    Operation(
        "GET",
        "/sessions",
        "listSessions",
        "Lists sessions",
        "Sessions",
        list_sessions,
        _USE,
        response=ArrayOf(SessionInfo),
    ),
    Operation(
        "POST",
        "/sessions/{id}/execute",
        "executeCode",
        "Executes code in a session",
        "Sessions",
        execute_code,
        _USE,
        body=ExecuteRequest,
        body_name="executeRequest",
        response=ExecuteResponse,
    ),
    Operation(
        "GET",
        "/sessions/{id}/console-output",
        "getSessionConsoleOutput",
        "Gets the console output of the last execution",
        "Sessions",
        console_output,
        _USE,
        response=ConsoleOutputResponse,
    ),
    Operation(
        "GET",
        "/sessions/{id}/history",
        "listSessionHistory",
        "Lists executed code",
        "Sessions",
        history,
        _USE,
        response=_STRINGS,
    ),
    Operation(
        "POST",
        "/sessions/{id}/cancel",
        "cancelSession",
        "Interrupts the running execution",
        "Sessions",
        cancel,
        _USE,
        response=_STRING,
    ),
    Operation(
        "DELETE",
        "/sessions/{id}",
        "closeSession",
        "Closes a session",
        "Sessions",
        close_session,
        _USE,
        response=_STRING,
    ),
    Operation(
        "DELETE",
        "/sessions/{id}/force",
        "closeSessionByForce",
        "Kills a session",
        "Sessions",
        close_session_by_force,
        _USE,
        response=_STRING,
    ),
)
