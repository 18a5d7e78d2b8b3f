"""The client's multi-step requests as flows (no I/O): publish and patch with a staged snapshot."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass
from typing import TypedDict

from o16n.client import function
from o16n.client.environment import Requirements, environment_members
from o16n.client.parameter_types import definitions
from o16n.client.request import REQUEST_FAILURES, Flow, Request, T, segment
from o16n.client.service import versions_path
from o16n.client.session import SessionCalls, open_session


class Members(TypedDict, total=False):
    """The keyword arguments of publish and patch (see `Definition`)."""

    code: str
    fn: Callable[..., object]
    init: str | Callable[[], object]
    inputs: dict[str, object]
    outputs: dict[str, object]
    models: dict[str, object]
    objects: dict[str, object]
    artifacts: list[str]
    files: dict[str, bytes]
    description: str
    operation_id: str
    requirements: Requirements
    python_version: str


@dataclass(frozen=True)
class Definition:
    """What a publish or patch gives; None members are left out (a patch keeps them).

    `fn` is a function whose source becomes the code (called with the inputs, its result
    bound to the outputs); `init` initCode text or a function called once; `models` and
    `objects` become workspace globals (sent in a snapshot); `artifacts` the output files;
    `inputs` and `outputs` map names to ML Server type names or Python types (see
    `parameter_types`); `requirements` (a list of lines or the Path of a requirements.txt)
    and `python_version` declare a Python environment of the version's own.
    """

    code: str | None = None
    fn: Callable[..., object] | None = None
    init: str | Callable[[], object] | None = None
    inputs: dict[str, object] | None = None
    outputs: dict[str, object] | None = None
    models: dict[str, object] | None = None
    objects: dict[str, object] | None = None
    artifacts: list[str] | None = None
    files: dict[str, bytes] | None = None
    description: str | None = None
    operation_id: str | None = None
    requirements: Requirements | None = None
    python_version: str | None = None

    @property
    def declares_environment(self) -> bool:
        """Whether it asks for a Python environment of its own (the server builds it)."""
        return self.requirements is not None or self.python_version is not None

    def body(self) -> dict[str, object]:
        """The wire members of the request, without the omitted ones."""
        if self.code is not None and self.fn is not None:
            raise ValueError("give code or fn, not both")
        code = self.code
        if self.fn is not None:
            code = function.code_of(self.fn, self.inputs or {}, self.outputs or {})
        operation_id = self.operation_id
        if operation_id is None and self.fn is not None:
            operation_id = self.fn.__name__
        given: dict[str, object | None] = {
            "code": code,
            "initCode": function.init_of(self.init),
            "inputParameterDefinitions": definitions(self.inputs, "input"),
            "outputParameterDefinitions": definitions(self.outputs, "output"),
            "outputFileNames": self.artifacts,
            "description": self.description,
            "operationId": operation_id,
            "runtimeType": "Python",
        }
        members = {key: value for key, value in given.items() if value is not None}
        return members | environment_members(self.requirements, self.python_version)

    def workspace(self) -> dict[str, object] | None:
        """`models` and `objects` together (a name in both is an error)."""
        if not self.models:
            return self.objects
        twice = sorted(set(self.models) & set(self.objects or {}))
        if twice:
            raise ValueError(f"{twice} given both as models and as objects")
        return {**(self.objects or {}), **self.models}


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


def submit(method: str, path: str, definition: Definition) -> Flow[object]:
    """Send a publish or patch, its workspace and files staged in a snapshot first; its answer."""
    body = definition.body()

    def send(snapshot: str | None) -> Flow[object]:
        sent = body if snapshot is None else {**body, "snapshotId": snapshot}
        answer: object = (yield Request(method, path, json=sent)).json()
        return answer

    return (yield from staged(definition.workspace(), definition.files, send))


def publish(name: str, version: str | None, definition: Definition) -> Flow[str]:
    """Publish a Python web service (version generated when None); its version."""
    if definition.code is None and definition.fn is None:
        raise ValueError("publishing needs code or fn")
    answer = yield from submit("POST", versions_path(name, version), definition)
    return answer if isinstance(answer, str) else str(version)


def patch(name: str, version: str, definition: Definition) -> Flow[object]:
    """Change the given members of a version; new objects and files lie over its own."""
    return (yield from submit("PATCH", versions_path(name, version), definition))
