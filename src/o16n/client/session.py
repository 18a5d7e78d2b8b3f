"""A remote Python session: execute code, move objects and files, take snapshots."""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import suppress
from dataclasses import dataclass, field
from types import TracebackType

from o16n.client.connection import Connection
from o16n.client.request import REQUEST_FAILURES, Flow, Request, json_list, json_object, segment

_OCTETS = "application/octet-stream"


@dataclass(frozen=True)
class ExecuteResult:
    """The outcome of one execution (a failure in the code is `success=False`)."""

    success: bool
    console_output: str
    error_message: str
    outputs: dict[str, object] = field(default_factory=dict)
    changed_files: list[str] = field(default_factory=list)


def _names(body: object) -> list[str]:
    return [str(item) for item in body] if isinstance(body, list) else []


def _result(reply: dict[str, object]) -> ExecuteResult:
    outputs = reply.get("outputParameters")
    items = outputs if isinstance(outputs, list) else []
    return ExecuteResult(
        success=bool(reply.get("success")),
        console_output=str(reply.get("consoleOutput") or ""),
        error_message=str(reply.get("errorMessage") or ""),
        outputs={str(item["name"]): item.get("value") for item in items},
        changed_files=_names(reply.get("changedFiles")),
    )


def open_session(
    name: str | None, snapshot: str | None, environment: Mapping[str, object] | None = None
) -> Flow[str]:
    """Open a Python session (from a snapshot, on an environment of its own); its id."""
    body = {"name": name, "runtimeType": "Python", "snapshotId": snapshot, **(environment or {})}
    response = yield Request("POST", "/sessions", json=body)
    return str(json_object(response)["sessionId"])


@dataclass(frozen=True)
class SessionCalls:
    """The requests on one session, as flows (no I/O)."""

    id: str

    def _path(self, *parts: str) -> str:
        return "/sessions/" + "/".join(segment(part) for part in (self.id, *parts))

    def execute(
        self, code: str, inputs: dict[str, object] | None, outputs: list[str] | None
    ) -> Flow[ExecuteResult]:
        """Run `code` with `inputs` bound as globals; the named `outputs`."""
        body = {
            "code": code,
            "inputParameters": [{"name": k, "value": v} for k, v in (inputs or {}).items()],
            "outputParameters": list(outputs or []),
        }
        response = yield Request("POST", self._path("execute"), json=body)
        return _result(json_object(response))

    def put_object(self, name: str, value: object) -> Flow[None]:
        """Bind `value` (serialized with dill) as the global `name`."""
        import dill

        data: bytes = dill.dumps(value)
        headers = {"Content-Type": _OCTETS}
        yield Request("POST", self._path("workspace", name), content=data, headers=headers)

    def get_object(self, name: str) -> Flow[object]:
        """The global `name`, deserialized with dill on this side."""
        import dill

        response = yield Request("GET", self._path("workspace", name))
        value: object = dill.loads(response.content)
        return value

    def objects(self) -> Flow[list[str]]:
        """Names of the workspace objects."""
        return _names(json_list((yield Request("GET", self._path("workspace")))))

    def upload(self, name: str, data: bytes) -> Flow[None]:
        """Store `data` as the file `name` in the working directory."""
        files = {"file": (name, data, _OCTETS)}
        yield Request("POST", self._path("files"), files=files)

    def download(self, name: str) -> Flow[bytes]:
        """The bytes of the working-directory file `name`."""
        return (yield Request("GET", self._path("files", name))).content

    def files(self) -> Flow[list[str]]:
        """Names of the working-directory files."""
        return _names(json_list((yield Request("GET", self._path("files")))))

    def snapshot(self, name: str | None) -> Flow[str]:
        """Save the workspace and files as a snapshot; its id."""
        response = yield Request("POST", self._path("snapshot"), json={"name": name})
        return str(json_object(response)["snapshotId"])

    def close(self) -> Flow[None]:
        """Close the session on the server."""
        yield Request("DELETE", self._path())


class Session:
    """One open session on the server; closes on `close()` or when its `with` block ends."""

    def __init__(self, connection: Connection, session_id: str) -> None:
        """Wrap the open session `session_id`."""
        self._connection = connection
        self._calls = SessionCalls(session_id)
        self.id = session_id
        self.closed = False

    def execute(
        self,
        code: str,
        inputs: dict[str, object] | None = None,
        outputs: list[str] | None = None,
    ) -> ExecuteResult:
        """Run `code` with JSON `inputs` bound as globals and return the named `outputs`."""
        return self._connection.run(self._calls.execute(code, inputs, outputs))

    def put_object(self, name: str, value: object) -> None:
        """Bind `value` (serialized with dill) as the global `name` in the session."""
        self._connection.run(self._calls.put_object(name, value))

    def get_object(self, name: str) -> object:
        """The session's global `name`, deserialized with dill on this side."""
        return self._connection.run(self._calls.get_object(name))

    def objects(self) -> list[str]:
        """Names of the session's workspace objects."""
        return self._connection.run(self._calls.objects())

    def upload(self, name: str, data: bytes) -> None:
        """Store `data` as the file `name` in the session's working directory."""
        self._connection.run(self._calls.upload(name, data))

    def download(self, name: str) -> bytes:
        """The bytes of the working-directory file `name`."""
        return self._connection.run(self._calls.download(name))

    def files(self) -> list[str]:
        """Names of the working-directory files."""
        return self._connection.run(self._calls.files())

    def snapshot(self, name: str | None = None) -> str:
        """Save the workspace and files as a snapshot; its id."""
        return self._connection.run(self._calls.snapshot(name))

    def close(self) -> None:
        """Close the session on the server (again: no effect)."""
        if not self.closed:
            self._connection.run(self._calls.close())
            self.closed = True

    def __enter__(self) -> Session:
        """The session itself."""
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        """Close the session; while an error propagates, a failing close does not mask it."""
        if error is None:
            self.close()
            return
        with suppress(*REQUEST_FAILURES):
            self.close()
