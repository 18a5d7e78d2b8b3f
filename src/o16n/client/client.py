"""The o16n client: log in, open sessions, publish, manage and consume web services."""

from __future__ import annotations

import time
from types import TracebackType
from typing import Unpack

from o16n.client import calls
from o16n.client.connection import Connection
from o16n.client.environment import (
    BUILD_TIMEOUT,
    Requirements,
    building_display,
    environment_members,
    readiness,
)
from o16n.client.polls import Polls
from o16n.client.realtime import onnx_model, realtime_form, submit_realtime
from o16n.client.service import Service, ServiceInfo, list_services, lookup
from o16n.client.session import Session, open_session
from o16n.client.tokens import Credentials


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
        credentials = Credentials(username=username, password=password, token=token)
        self._connection = Connection(url, credentials, timeout=timeout)
        try:
            if credentials.tokens is None:
                self._connection.run(credentials.login())
        except BaseException:
            self._connection.close()
            raise

    @property
    def access_token(self) -> str:
        """The current access token."""
        return self._connection.credentials.access_token

    def refresh(self) -> None:
        """Rotate the token pair now (it also happens automatically before expiry)."""
        self._connection.run(self._connection.credentials.refresh())

    def session(
        self,
        name: str | None = None,
        *,
        snapshot: str | None = None,
        requirements: Requirements | None = None,
        python_version: str | None = None,
    ) -> Session:
        """Open a Python session (from a snapshot; on an environment of its own with
        `requirements` and `python_version`); use it in `with` to close it at the end."""
        environment = environment_members(requirements, python_version)
        opened = self._connection.run(open_session(name, snapshot, environment))
        return Session(self._connection, opened)

    def delete_snapshot(self, snapshot_id: str) -> None:
        """Delete one of your snapshots."""
        self._connection.run(calls.delete_snapshot(snapshot_id))

    def publish(
        self,
        name: str,
        version: str | None = None,
        *,
        progress: bool = False,
        **members: Unpack[calls.Members],
    ) -> str:
        """Publish a Python web service; its version (generated when `version` is None).

        Members: `code` (text) or `fn` (a function: its source, called with the inputs, its
        result bound to the outputs), `init` (text or a function run once), `inputs` and
        `outputs` (name -> an ML type name or a Python type: int, float, str, bool, list,
        numpy.ndarray, numpy.matrix, pandas.DataFrame), `models`/`objects` (workspace
        globals, sent in a snapshot that is deleted afterwards), `artifacts` (output file
        names), `files` (working directory), `description`, `operation_id`, `requirements`
        (a list of requirement lines or the Path of a requirements.txt) and `python_version`
        (an environment of its own: this returns once the server built it, with a spinner
        on standard error when `progress`; EnvironmentFailed when the build fails).
        """
        definition = calls.Definition(**members)
        published = self._connection.run(calls.publish(name, version, definition))
        if definition.declares_environment:
            self.wait_built(name, published, progress=progress)
        return published

    def wait_built(
        self, name: str, version: str, *, progress: bool = False, timeout: float = BUILD_TIMEOUT
    ) -> None:
        """Return once the version's environment is built (TimeoutError after `timeout`
        seconds, EnvironmentFailed when the build fails)."""
        polls = Polls(f"the environment of {name}/{version}", timeout)
        with building_display(name, version, progress):
            while (self._connection.run(readiness(name, version))) == "building":
                time.sleep(polls.pause("building"))

    def patch(
        self, name: str, version: str, *, progress: bool = False, **members: Unpack[calls.Members]
    ) -> None:
        """Change the given members of a version; new objects and files lie over its own
        (new requirements: returns once their environment is built, as `publish`)."""
        definition = calls.Definition(**members)
        self._connection.run(calls.patch(name, version, definition))
        if definition.declares_environment:
            self.wait_built(name, version, progress=progress)

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
        form = realtime_form(
            description=description,
            operation_id=operation_id,
            max_batch_size=max_batch_size,
            max_batch_wait_ms=max_batch_wait_ms,
        )
        flow = submit_realtime("POST", name, version, onnx_model(model, n_features), form)
        return self._connection.run(flow)

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
        form = realtime_form(
            description=description,
            operation_id=None,
            max_batch_size=max_batch_size,
            max_batch_wait_ms=max_batch_wait_ms,
        )
        content = None if model is None else onnx_model(model, n_features)
        self._connection.run(submit_realtime("PATCH", name, version, content, form))

    def services(self, name: str | None = None) -> list[ServiceInfo]:
        """Every service version you may see, or the versions of `name` in publish order."""
        return self._connection.run(list_services(name))

    def service(self, name: str, version: str | None = None) -> Service:
        """A callable for one version of `name` (the latest when `version` is None)."""
        info, swagger = self._connection.run(lookup(name, version))
        return Service(self._connection, info, swagger)

    def delete(self, name: str, version: str) -> None:
        """Delete one version of a web service."""
        self._connection.run(calls.delete_service(name, version))

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
