"""Snapshots: create from a session, load into one, list, download, delete (reference §8)."""

from __future__ import annotations

from http import HTTPStatus

from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from o16n.api.body import bind, read_json
from o16n.api.operation import ArrayOf, Call, Operation
from o16n.api.responses import JSONResponse
from o16n.api.routes.sessions import session_id
from o16n.api.schemas import CreateSnapshotRequest, CreateSnapshotResponse, SnapshotInfo
from o16n.auth.roles import Action
from o16n.domain.models import Snapshot
from o16n.ids import wire_timestamp


def _info(snapshot: Snapshot) -> dict[str, object]:
    return SnapshotInfo(
        id=snapshot.id,
        name=snapshot.name or "",
        owner=snapshot.owner_name,
        creationTime=wire_timestamp(snapshot.created_at),
        contentSize=snapshot.content_size,
    ).model_dump()


async def create_snapshot(call: Call) -> Response:
    """Save the session's workspace and files; an empty body means no name."""
    has_body = call.request.headers.get("content-length", "0") != "0"
    data = await read_json(call.request, call.services.limits.json_bytes) if has_body else {}
    request = bind(CreateSnapshotRequest, data)
    snapshot_id = await call.services.sessions.snapshot(call.user, session_id(call), request.name)
    body = CreateSnapshotResponse(snapshotId=snapshot_id).model_dump()
    return JSONResponse(body, status_code=HTTPStatus.CREATED)


async def load_snapshot(call: Call) -> Response:
    """Merge one of the caller's snapshots into the session."""
    snapshot_id = str(call.request.path_params["snapshotId"])
    await call.services.sessions.load_snapshot(call.user, session_id(call), snapshot_id)
    return JSONResponse(snapshot_id)


async def list_snapshots(call: Call) -> Response:
    """The caller's snapshots."""
    snapshots = await run_in_threadpool(call.services.snapshots.owned_by, call.user)
    return JSONResponse([_info(snapshot) for snapshot in snapshots])


async def get_snapshot_content(call: Call) -> Response:
    """The snapshot as a zip archive."""
    snapshot_id = str(call.request.path_params["id"])
    data = await run_in_threadpool(call.services.snapshots.content, call.user, snapshot_id)
    return Response(data, media_type="application/zip")


async def delete_snapshot(call: Call) -> Response:
    """Delete one of the caller's snapshots."""
    snapshot_id = str(call.request.path_params["id"])
    await run_in_threadpool(call.services.snapshots.delete, call.user, snapshot_id)
    return JSONResponse(snapshot_id)


_USE = Action.USE_SNAPSHOTS
OPERATIONS = (
    Operation(
        "POST",
        "/sessions/{id}/snapshot",
        "CreateSnapshot",
        "Creates a snapshot of a session",
        "Snapshots",
        create_snapshot,
        _USE,
        success=HTTPStatus.CREATED,
        body=CreateSnapshotRequest,
        body_name="createSnapshotRequest",
        response=CreateSnapshotResponse,
    ),
    Operation(
        "POST",
        "/sessions/{id}/loadsnapshot/{snapshotId}",
        "LoadSnapshot",
        "Loads a snapshot into a session",
        "Snapshots",
        load_snapshot,
        _USE,
    ),
    Operation(
        "GET",
        "/snapshots",
        "ListSnapshots",
        "Lists snapshots",
        "Snapshots",
        list_snapshots,
        _USE,
        response=ArrayOf(SnapshotInfo),
    ),
    Operation(
        "GET",
        "/snapshots/{id}",
        "GetSnapshotContent",
        "Downloads a snapshot",
        "Snapshots",
        get_snapshot_content,
        _USE,
        response={"type": "file"},
        produces="application/zip",
    ),
    Operation(
        "DELETE",
        "/snapshots/{id}",
        "DeleteSnapshot",
        "Deletes a snapshot",
        "Snapshots",
        delete_snapshot,
        _USE,
        response={"type": "string"},
    ),
)
