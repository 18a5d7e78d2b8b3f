"""A remote Python session: execute code, move objects and files, take snapshots."""

from __future__ import annotations

from contextlib import suppress
from dataclasses import dataclass, field
from types import TracebackType
from urllib.parse import quote

import httpx

from o16n.client.connection import Connection
from o16n.errors import O16nError

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


def _result(body: object) -> ExecuteResult:
    reply = body if isinstance(body, dict) else {}
    outputs = reply.get("outputParameters") or []
    return ExecuteResult(
        success=bool(reply.get("success")),
        console_output=str(reply.get("consoleOutput") or ""),
        error_message=str(reply.get("errorMessage") or ""),
        outputs={str(item["name"]): item.get("value") for item in outputs},
        changed_files=_names(reply.get("changedFiles")),
    )


class Session:
    """One open session on the server; closes on `close()` or when its `with` block ends."""

    def __init__(self, connection: Connection, session_id: str) -> None:
        """Wrap the open session `session_id`."""
        self._connection = connection
        self.id = session_id
        self.closed = False

    def _path(self, *parts: str) -> str:
        segments = [quote(self.id, safe=""), *(quote(part, safe="") for part in parts)]
        return "/sessions/" + "/".join(segments)

    def execute(
        self,
        code: str,
        inputs: dict[str, object] | None = None,
        outputs: list[str] | None = None,
    ) -> ExecuteResult:
        """Run `code` with JSON `inputs` bound as globals and return the named `outputs`."""
        body = {
            "code": code,
            "inputParameters": [{"name": k, "value": v} for k, v in (inputs or {}).items()],
            "outputParameters": list(outputs or []),
        }
        return _result(self._connection.request("POST", self._path("execute"), json=body).json())

    def put_object(self, name: str, value: object) -> None:
        """Bind `value` (serialized with dill) as the global `name` in the session."""
        import dill

        data: bytes = dill.dumps(value)
        headers = {"Content-Type": _OCTETS}
        self._connection.request(
            "POST", self._path("workspace", name), content=data, headers=headers
        )

    def get_object(self, name: str) -> object:
        """The session's global `name`, deserialized with dill on this side."""
        import dill

        data = self._connection.request("GET", self._path("workspace", name)).content
        value: object = dill.loads(data)
        return value

    def objects(self) -> list[str]:
        """Names of the session's workspace objects."""
        return _names(self._connection.request("GET", self._path("workspace")).json())

    def upload(self, name: str, data: bytes) -> None:
        """Store `data` as the file `name` in the session's working directory."""
        files = {"file": (name, data, _OCTETS)}
        self._connection.request("POST", self._path("files"), files=files)

    def download(self, name: str) -> bytes:
        """The bytes of the working-directory file `name`."""
        return self._connection.request("GET", self._path("files", name)).content

    def files(self) -> list[str]:
        """Names of the working-directory files."""
        return _names(self._connection.request("GET", self._path("files")).json())

    def snapshot(self, name: str | None = None) -> str:
        """Save the workspace and files as a snapshot; its id."""
        response = self._connection.request("POST", self._path("snapshot"), json={"name": name})
        return str(response.json()["snapshotId"])

    def close(self) -> None:
        """Close the session on the server (again: no effect)."""
        if not self.closed:
            self._connection.request("DELETE", self._path())
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
        with suppress(O16nError, httpx.HTTPError):
            self.close()
