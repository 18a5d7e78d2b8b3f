"""The O16nError tree: every failure the server reports, with a stable code and HTTP status.

This module imports nothing from o16n, so every layer (and the client) can use it.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import ClassVar


class O16nError(Exception):
    """Base of every expected failure: `code` is stable, `status` is the HTTP answer."""

    code: ClassVar[str] = "error"
    status: ClassVar[HTTPStatus] = HTTPStatus.BAD_REQUEST

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class InvalidInput(O16nError):
    """A request member is missing, malformed or out of range."""

    code = "invalid_input"


class UnsupportedMediaType(O16nError):
    """The body is not in a media type the route accepts."""

    code = "unsupported_media_type"
    status = HTTPStatus.UNSUPPORTED_MEDIA_TYPE


class PayloadTooLarge(O16nError):
    """The body exceeds the configured size limit."""

    code = "payload_too_large"
    status = HTTPStatus.REQUEST_ENTITY_TOO_LARGE


class MethodNotAllowed(O16nError):
    """The path exists but not with this HTTP method."""

    code = "method_not_allowed"
    status = HTTPStatus.METHOD_NOT_ALLOWED

    def __init__(self, message: str, *, allowed: list[str]) -> None:
        super().__init__(message)
        self.allowed = allowed


class Unauthenticated(O16nError):
    """No token, a bad token or an expired token."""

    code = "unauthenticated"
    status = HTTPStatus.UNAUTHORIZED


class InvalidCredentials(Unauthenticated):
    """Wrong username or password."""

    code = "invalid_credentials"


class InvalidRefreshToken(Unauthenticated):
    """A refresh token that is unknown, expired, revoked or already used."""

    code = "invalid_refresh_token"


class TooManyAttempts(O16nError):
    """Too many failed logins: the account cools down for `retry_after` seconds."""

    code = "too_many_attempts"
    status = HTTPStatus.TOO_MANY_REQUESTS

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class Forbidden(O16nError):
    """The caller's role or ownership does not allow the action."""

    code = "forbidden"
    status = HTTPStatus.FORBIDDEN


class NotFound(O16nError):
    """A named resource does not exist (or is not the caller's to see)."""

    code = "not_found"
    status = HTTPStatus.NOT_FOUND


class UserNotFound(NotFound):
    """No user of that name."""

    code = "user_not_found"


class ServiceNotFound(NotFound):
    """No web service of that name and version."""

    code = "service_not_found"


class Conflict(O16nError):
    """The resource already exists."""

    code = "conflict"
    status = HTTPStatus.CONFLICT


class ServiceExists(Conflict):
    """A web service of that name and version is already published."""

    code = "service_exists"


class WrongServiceKind(Conflict):
    """The version is of the other kind (a Python service patched as realtime, or back)."""

    code = "wrong_service_kind"


class UserExists(Conflict):
    """A user of that name already exists."""

    code = "user_exists"


class OwnAccount(Conflict):
    """An Owner tried to delete or demote their own account (a server keeps its Owners)."""

    code = "own_account"


class SchemaOutdated(O16nError):
    """The database was created by an older o16n: run `o16n db upgrade`."""

    code = "schema_outdated"
    status = HTTPStatus.SERVICE_UNAVAILABLE


class InternalError(O16nError):
    """An unexpected failure; details are in the server log under the request id."""

    code = "internal_error"
    status = HTTPStatus.INTERNAL_SERVER_ERROR


class WorkerError(O16nError):
    """A worker process failed to answer a request."""

    code = "worker_error"
    status = HTTPStatus.BAD_GATEWAY


class NodeUnavailable(WorkerError):
    """The node that holds a session (a web node, or the Ray node of its interpreter) does not
    answer: the session is lost if it stopped."""

    code = "node_unavailable"


class SessionLost(NodeUnavailable):
    """The Ray node that ran a session's interpreter died: the session is gone."""

    code = "session_lost"


class WorkerCrashed(WorkerError):
    """The worker process died while a request was in flight."""

    code = "worker_crashed"


class WorkerTimeout(WorkerError):
    """The worker passed its deadline and was killed."""

    code = "worker_timeout"
    status = HTTPStatus.GATEWAY_TIMEOUT


class WorkerStopped(WorkerError):
    """The version was deleted or its code changed while the call waited or ran."""

    code = "worker_stopped"
    status = HTTPStatus.SERVICE_UNAVAILABLE


class WorkerProtocolError(WorkerError):
    """The worker sent a frame that is too large or malformed; it was killed."""

    code = "worker_protocol_error"


class ScoringTimeout(O16nError):
    """A realtime model run passed its deadline and was stopped."""

    code = "scoring_timeout"
    status = HTTPStatus.GATEWAY_TIMEOUT


class TooManySessions(O16nError):
    """The caller has as many open sessions as allowed."""

    code = "too_many_sessions"
    status = HTTPStatus.TOO_MANY_REQUESTS


class CapacityExceeded(O16nError):
    """A per-user or server-wide limit is reached; try again later."""

    code = "capacity_exceeded"
    status = HTTPStatus.SERVICE_UNAVAILABLE

    def __init__(self, message: str, *, retry_after: int = 1) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class EnvironmentBuilding(O16nError):
    """A version's Python environment is still being built on this node; try again soon."""

    code = "environment_building"
    status = HTTPStatus.SERVICE_UNAVAILABLE

    def __init__(self, message: str, *, retry_after: int = 2) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class EnvironmentFailed(O16nError):
    """A version's Python environment could not be built: its requirements must change."""

    code = "environment_failed"
    status = HTTPStatus.UNPROCESSABLE_ENTITY


class IdentitySourceUnavailable(O16nError):
    """The directory (LDAP) that checks this login cannot be reached or refused the service bind."""

    code = "identity_source_unavailable"
    status = HTTPStatus.SERVICE_UNAVAILABLE


def all_error_types() -> dict[str, type[O16nError]]:
    """Every O16nError subclass by code, so clients can rebuild the class from a response."""
    found: dict[str, type[O16nError]] = {}
    pending: list[type[O16nError]] = [O16nError]
    while pending:
        cls = pending.pop()
        found[cls.code] = cls
        pending.extend(cls.__subclasses__())
    return found
