"""Working-directory files of a session (reference §7)."""

from __future__ import annotations

from http import HTTPStatus

from starlette.datastructures import UploadFile
from starlette.responses import PlainTextResponse, Response

from o16n.api.operation import Call, Operation
from o16n.api.responses import JSONResponse
from o16n.api.routes.sessions import session_id
from o16n.auth.roles import Action
from o16n.domain.names import file_name
from o16n.errors import InvalidInput, PayloadTooLarge, UnsupportedMediaType

_OCTETS = "application/octet-stream"
_MULTIPART = "multipart/form-data"


def _path_file(call: Call) -> str:
    return file_name(str(call.request.path_params["fileName"]), "fileName")


async def _uploaded(call: Call) -> tuple[str, bytes]:
    limit = call.services.limits.upload_bytes
    declared = call.request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"upload exceeds the limit of {limit} bytes")
    if not call.request.headers.get("content-type", "").startswith(_MULTIPART):
        raise UnsupportedMediaType("upload a file as multipart/form-data in a part named 'file'")
    async with call.request.form(max_files=1, max_fields=8) as form:
        part = form.get("file")
        if not isinstance(part, UploadFile):
            raise InvalidInput("multipart part 'file' with a filename is required", field="file")
        name = file_name(part.filename or "", "fileName")
        data = await part.read(limit + 1)
    if len(data) > limit:
        raise PayloadTooLarge(f"upload exceeds the limit of {limit} bytes")
    return name, data


async def upload_file(call: Call) -> Response:
    """Store an uploaded file in the working directory (overwrites a same-named one)."""
    name, data = await _uploaded(call)
    await call.services.sessions.file_put(call.user, session_id(call), name, data)
    return PlainTextResponse(name, status_code=HTTPStatus.CREATED)


async def list_files(call: Call) -> Response:
    """Names of the working-directory files."""
    return JSONResponse(await call.services.sessions.file_names(call.user, session_id(call)))


async def get_file(call: Call) -> Response:
    """One file's bytes."""
    data = await call.services.sessions.file_get(call.user, session_id(call), _path_file(call))
    return Response(data, media_type=_OCTETS)


async def delete_file(call: Call) -> Response:
    """Delete one file."""
    name = _path_file(call)
    await call.services.sessions.file_delete(call.user, session_id(call), name)
    return JSONResponse(name)


_USE = Action.USE_SESSIONS
_PATH = "/sessions/{id}/files/{fileName}"
OPERATIONS = (
    Operation(
        "POST",
        "/sessions/{id}/files",
        "uploadSessionFile",
        "Uploads a file",
        "Files",
        upload_file,
        _USE,
        success=HTTPStatus.CREATED,
        form_files=("file",),
        consumes=_MULTIPART,
        produces="text/plain",
    ),
    Operation(
        "GET",
        "/sessions/{id}/files",
        "listSessionFiles",
        "Lists files",
        "Files",
        list_files,
        _USE,
        response={"type": "array", "items": {"type": "string"}},
    ),
    Operation(
        "GET",
        _PATH,
        "getSessionFile",
        "Downloads a file",
        "Files",
        get_file,
        _USE,
        response={"type": "file"},
        produces=_OCTETS,
    ),
    Operation(
        "DELETE",
        _PATH,
        "deleteSessionFile",
        "Deletes a file",
        "Files",
        delete_file,
        _USE,
    ),
)
