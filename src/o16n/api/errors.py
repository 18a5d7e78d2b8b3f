"""The single mapping from failures to JSON error responses."""

from __future__ import annotations

from http import HTTPStatus

from o16n.api.responses import JSONResponse
from o16n.errors import (
    CapacityExceeded,
    EnvironmentBuilding,
    InternalError,
    MethodNotAllowed,
    O16nError,
    TooManyAttempts,
)

REQUEST_ID_HEADER = "X-Request-Id"


def error_body(error: O16nError, request_id: str) -> dict[str, object]:
    """ML Server's error members (`message`, `exceptionType`, numeric `code`) plus ours."""
    body: dict[str, object] = {
        "message": error.message,
        "exceptionType": type(error).__name__,
        "code": int(error.status),
        "errorCode": error.code,
        "requestId": request_id,
    }
    if error.field is not None:
        body["field"] = error.field
    return body


def error_response(error: O16nError, request_id: str) -> JSONResponse:
    """The JSON response for `error`, with Retry-After where it applies."""
    headers = {REQUEST_ID_HEADER: request_id}
    if isinstance(error, TooManyAttempts | CapacityExceeded | EnvironmentBuilding):
        headers["Retry-After"] = str(error.retry_after)
    if isinstance(error, MethodNotAllowed):
        headers["Allow"] = ", ".join(error.allowed)
    if error.status == HTTPStatus.UNAUTHORIZED:
        headers["WWW-Authenticate"] = "Bearer"
    return JSONResponse(error_body(error, request_id), status_code=error.status, headers=headers)


def internal_error_response(request_id: str) -> JSONResponse:
    """A 500 that names the request id and nothing of the failure itself."""
    error = InternalError(f"internal error: see the server log for request {request_id}")
    return error_response(error, request_id)
