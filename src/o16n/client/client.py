"""The o16n client: log in, open sessions, publish, manage and consume web services."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, suppress
from types import TracebackType
from urllib.parse import quote

import httpx

from o16n.client.connection import Connection
from o16n.client.realtime import ONNX_MEDIA_TYPE, onnx_model, realtime_form
from o16n.client.service import Service, ServiceInfo, service_info
from o16n.client.session import Session
from o16n.errors import O16nError, ServiceNotFound


def _definitions(types: dict[str, str] | None) -> list[dict[str, str]] | None:
    if types is None:
        return None
    return [{"name": name, "type": kind} for name, kind in types.items()]


def _members(
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
    members: dict[str, object | None] = {
        "code": code,
        "initCode": init,
        "inputParameterDefinitions": _definitions(inputs),
        "outputParameterDefinitions": _definitions(outputs),
        "outputFileNames": output_files,
        "description": description,
        "operationId": operation_id,
    }
    return {key: value for key, value in members.items() if value is not None}


def _segment(text: str) -> str:
    return quote(text, safe="")


class Client:
    """A connection to an o16n server, authenticated by password (auto-refreshed) or token."""

    def __init__(
        self,
        url: str,
        *,
        username: str | None = None,
        password: str | None = None,
        token: str | None = None,
        timeout: float = 60.0,
    ) -> None:
        """Log in with `username`/`password`, or use the access `token`."""
        self._connection = Connection(url, timeout=timeout)
        try:
            if username is not None and password is not None:
                self._connection.login(username, password)
            elif token is not None:
                self._connection.use_token(token)
            else:
                raise ValueError("give a username and password, or a token")
        except BaseException:
            self._connection.close()
            raise

    @property
    def access_token(self) -> str:
        """The current access token."""
        tokens = self._connection.tokens
        return tokens.access_token if tokens is not None else ""

    def refresh(self) -> None:
        """Rotate the token pair now (it also happens automatically before expiry)."""
        self._connection.refresh()

    def session(self, name: str | None = None, *, snapshot: str | None = None) -> Session:
        """Open a Python session (from a snapshot); use it in `with` to close it at the end."""
        body = {"name": name, "runtimeType": "Python", "snapshotId": snapshot}
        response = self._connection.request("POST", "/sessions", json=body)
        return Session(self._connection, str(response.json()["sessionId"]))

    def delete_snapshot(self, snapshot_id: str) -> None:
        """Delete one of your snapshots."""
        self._connection.request("DELETE", f"/snapshots/{_segment(snapshot_id)}")

    @contextmanager
    def _staged(
        self, objects: dict[str, object] | None, files: dict[str, bytes] | None
    ) -> Iterator[str | None]:
        """A snapshot holding `objects` and `files`, deleted with its session afterwards."""
        if not objects and not files:
            yield None
            return
        session = self.session("o16n client staging")
        snapshot: str | None = None
        try:
            for name, value in (objects or {}).items():
                session.put_object(name, value)
            for name, data in (files or {}).items():
                session.upload(name, data)
            snapshot = session.snapshot()
            yield snapshot
        except BaseException:
            with suppress(O16nError, httpx.HTTPError):
                self._discard(session, snapshot)
            raise
        self._discard(session, snapshot)

    def _discard(self, session: Session, snapshot: str | None) -> None:
        try:
            session.close()
        finally:
            if snapshot is not None:
                self.delete_snapshot(snapshot)

    def publish(
        self,
        name: str,
        version: str | None = None,
        *,
        code: str,
        init: str | None = None,
        inputs: dict[str, str] | None = None,
        outputs: dict[str, str] | None = None,
        objects: dict[str, object] | None = None,
        files: dict[str, bytes] | None = None,
        output_files: list[str] | None = None,
        description: str | None = None,
        operation_id: str | None = None,
    ) -> str:
        """Publish a Python web service, `objects` and `files` in its snapshot; its version."""
        body = _members(
            code=code,
            init=init,
            inputs=inputs,
            outputs=outputs,
            output_files=output_files,
            description=description,
            operation_id=operation_id,
        )
        body["runtimeType"] = "Python"
        path = f"/services/{_segment(name)}"
        if version is not None:
            path += f"/{_segment(version)}"
        answer = self._submit("POST", path, body, objects, files)
        return answer if isinstance(answer, str) else str(version)

    def patch(
        self,
        name: str,
        version: str,
        *,
        code: str | None = None,
        init: str | None = None,
        inputs: dict[str, str] | None = None,
        outputs: dict[str, str] | None = None,
        objects: dict[str, object] | None = None,
        files: dict[str, bytes] | None = None,
        output_files: list[str] | None = None,
        description: str | None = None,
        operation_id: str | None = None,
    ) -> None:
        """Change the given members of a version; new `objects`/`files` are laid over its own."""
        body = _members(
            code=code,
            init=init,
            inputs=inputs,
            outputs=outputs,
            output_files=output_files,
            description=description,
            operation_id=operation_id,
        )
        path = f"/services/{_segment(name)}/{_segment(version)}"
        self._submit("PATCH", path, body, objects, files)

    def _submit(
        self,
        method: str,
        path: str,
        body: dict[str, object],
        objects: dict[str, object] | None,
        files: dict[str, bytes] | None,
    ) -> object:
        """Send a publish or patch, with `objects`/`files` staged in a snapshot first."""
        with self._staged(objects, files) as snapshot:
            if snapshot is not None:
                body["snapshotId"] = snapshot
            answer: object = self._connection.request(method, path, json=body).json()
        return answer

    def publish_realtime(
        self,
        name: str,
        version: str | None = None,
        *,
        model: object,
        n_features: int | None = None,
        description: str | None = None,
        operation_id: str | None = None,
        max_batch_size: int | None = None,
        max_batch_wait_ms: float | None = None,
    ) -> str:
        """Publish a realtime service from ONNX bytes or a fitted scikit-learn estimator (converted
        with skl2onnx); its version. PATCH the same way with `patch_realtime`."""
        return self._realtime(
            "POST",
            name,
            version,
            onnx_model(model, n_features),
            realtime_form(
                description=description,
                operation_id=operation_id,
                max_batch_size=max_batch_size,
                max_batch_wait_ms=max_batch_wait_ms,
            ),
        )

    def patch_realtime(
        self,
        name: str,
        version: str,
        *,
        model: object | None = None,
        n_features: int | None = None,
        description: str | None = None,
        max_batch_size: int | None = None,
        max_batch_wait_ms: float | None = None,
    ) -> None:
        """Change a realtime version: a new model, description or batching settings."""
        self._realtime(
            "PATCH",
            name,
            version,
            None if model is None else onnx_model(model, n_features),
            realtime_form(
                description=description,
                operation_id=None,
                max_batch_size=max_batch_size,
                max_batch_wait_ms=max_batch_wait_ms,
            ),
        )

    def _realtime(
        self, method: str, name: str, version: str | None, model: bytes | None, form: dict[str, str]
    ) -> str:
        path = f"/realtime-services/{_segment(name)}"
        if version is not None:
            path += f"/{_segment(version)}"
        files = {"model": ("model.onnx", model, ONNX_MEDIA_TYPE)} if model is not None else None
        answer: object = self._connection.request(method, path, files=files, data=form).json()
        return answer if isinstance(answer, str) else str(version)

    def services(self, name: str | None = None) -> list[ServiceInfo]:
        """Every service version you may see, or the versions of `name` in publish order."""
        path = "/services" if name is None else f"/services/{_segment(name)}"
        body: object = self._connection.request("GET", path).json()
        return [service_info(item) for item in body] if isinstance(body, list) else []

    def service(self, name: str, version: str | None = None) -> Service:
        """A callable for one version of `name` (the latest when `version` is None)."""
        path = f"/services/{_segment(name)}"
        if version is not None:
            path += f"/{_segment(version)}"
        body: object = self._connection.request("GET", path).json()
        if not isinstance(body, list) or not body:
            raise ServiceNotFound(f"web service {name!r} not found")
        return Service(self._connection, service_info(body[-1]))

    def delete(self, name: str, version: str) -> None:
        """Delete one version of a web service."""
        self._connection.request("DELETE", f"/services/{_segment(name)}/{_segment(version)}")

    def close(self) -> None:
        """Close the HTTP connections."""
        self._connection.close()

    def __enter__(self) -> Client:
        """The client itself."""
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        """Close the client."""
        self.close()
