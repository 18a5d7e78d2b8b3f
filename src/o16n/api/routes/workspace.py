"""Workspace objects of a session: dill bytes that only the worker unpickles (reference §6)."""

from __future__ import annotations

from starlette.responses import Response

from o16n.api.body import BODY, read_bytes
from o16n.api.operation import Call, Operation
from o16n.api.responses import JSONResponse
from o16n.api.routes.sessions import session_id
from o16n.auth.roles import Action
from o16n.domain.names import identifier
from o16n.errors import InvalidInput

_OCTETS = "application/octet-stream"


def _object(call: Call) -> str:
    return identifier(str(call.request.path_params["objectName"]), "objectName")


async def list_objects(call: Call) -> Response:
    """Names of the session's objects."""
    names = await call.services.sessions.workspace_names(call.user, session_id(call))
    return JSONResponse(names)


async def set_object(call: Call) -> Response:
    """Bind posted dill/cloudpickle bytes as a global (unpickled inside the worker)."""
    name = _object(call)
    data = await read_bytes(call.request, call.services.limits.upload_bytes)
    try:
        await call.services.sessions.workspace_put(call.user, session_id(call), name, data)
    except InvalidInput as error:  # the worker could not unpickle the bytes
        raise InvalidInput(error.message, field=error.field or BODY) from error
    return JSONResponse(name)


async def get_object(call: Call) -> Response:
    """One object, serialized with dill by the worker."""
    data = await call.services.sessions.workspace_get(call.user, session_id(call), _object(call))
    return Response(data, media_type=_OCTETS)


async def delete_object(call: Call) -> Response:
    """Remove an object from the session."""
    name = _object(call)
    await call.services.sessions.workspace_delete(call.user, session_id(call), name)
    return JSONResponse(name)


_USE = Action.USE_SESSIONS
_PATH = "/sessions/{id}/workspace/{objectName}"
OPERATIONS = (
    Operation(
        "GET",
        "/sessions/{id}/workspace",
        "listWorkspaceObjects",
        "Lists workspace objects",
        "Workspace",
        list_objects,
        _USE,
        response={"type": "array", "items": {"type": "string"}},
    ),
    Operation(
        "POST",
        _PATH,
        "setWorkspaceObject",
        "Uploads a serialized object",
        "Workspace",
        set_object,
        _USE,
        body={"type": "string", "format": "binary"},
        body_name="serializedObject",
        consumes=_OCTETS,
    ),
    Operation(
        "GET",
        _PATH,
        "getWorkspaceObject",
        "Downloads a serialized object",
        "Workspace",
        get_object,
        _USE,
        response={"type": "file"},
        produces=_OCTETS,
    ),
    Operation(
        "DELETE",
        _PATH,
        "deleteWorkspaceObject",
        "Deletes an object",
        "Workspace",
        delete_object,
        _USE,
    ),
)
