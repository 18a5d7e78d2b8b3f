"""The client's multi-step requests as flows (no I/O): publish and patch with a staged snapshot."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import suppress

from o16n.client.request import REQUEST_FAILURES, Flow, Request, T, segment
from o16n.client.service import versions_path
from o16n.client.session import SessionCalls, open_session


def _definitions(types: dict[str, str] | None) -> list[dict[str, str]] | None:
    if types is None:
        return None
    return [{"name": name, "type": kind} for name, kind in types.items()]


def members(
    *,
    code: str | None,
    init: str | None,
    inputs: dict[str, str] | None,
    outputs: dict[str, str] | None,
    output_files: list[str] | None,
    description: str | None,
    operation_id: str | None,
) -> dict[str, object]:
    """The wire members of a publish or patch request, without the omitted ones."""
    given: dict[str, object | None] = {
        "code": code,
        "initCode": init,
        "inputParameterDefinitions": _definitions(inputs),
        "outputParameterDefinitions": _definitions(outputs),
        "outputFileNames": output_files,
        "description": description,
        "operationId": operation_id,
    }
    return {key: value for key, value in given.items() if value is not None}


def delete_snapshot(snapshot_id: str) -> Flow[None]:
    """Delete one of the user's snapshots."""
    yield Request("DELETE", f"/snapshots/{segment(snapshot_id)}")


def delete_service(name: str, version: str) -> Flow[None]:
    """Delete one version of a web service."""
    yield Request("DELETE", versions_path(name, version))


def _discard(session: SessionCalls, snapshot: str | None) -> Flow[None]:
    try:
        yield from session.close()
    finally:
        if snapshot is not None:
            yield from delete_snapshot(snapshot)


def staged(
    objects: dict[str, object] | None,
    files: dict[str, bytes] | None,
    then: Callable[[str | None], Flow[T]],
) -> Flow[T]:
    """`then` with a snapshot of `objects` and `files`, deleted with its session afterwards."""
    if not objects and not files:
        return (yield from then(None))
    session = SessionCalls((yield from open_session("o16n client staging", None)))
    snapshot: str | None = None
    try:
        for name, value in (objects or {}).items():
            yield from session.put_object(name, value)
        for name, data in (files or {}).items():
            yield from session.upload(name, data)
        snapshot = yield from session.snapshot(None)
        result = yield from then(snapshot)
    except BaseException:
        with suppress(*REQUEST_FAILURES):
            yield from _discard(session, snapshot)
        raise
    yield from _discard(session, snapshot)
    return result


def submit(
    method: str,
    path: str,
    body: dict[str, object],
    objects: dict[str, object] | None,
    files: dict[str, bytes] | None,
) -> Flow[object]:
    """Send a publish or patch, with `objects`/`files` staged in a snapshot first; its answer."""

    def send(snapshot: str | None) -> Flow[object]:
        sent = body if snapshot is None else {**body, "snapshotId": snapshot}
        answer: object = (yield Request(method, path, json=sent)).json()
        return answer

    return (yield from staged(objects, files, send))


def publish(
    name: str,
    version: str | None,
    body: dict[str, object],
    objects: dict[str, object] | None,
    files: dict[str, bytes] | None,
) -> Flow[str]:
    """Publish a Python web service (version generated when None); its version."""
    path = versions_path(name, version)
    answer = yield from submit("POST", path, {**body, "runtimeType": "Python"}, objects, files)
    return answer if isinstance(answer, str) else str(version)
