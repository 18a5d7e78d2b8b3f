"""Rebuild the server's O16nError subclass from an error response."""

from __future__ import annotations

from http import HTTPStatus

import httpx

from o16n.errors import (
    CapacityExceeded,
    InternalError,
    MethodNotAllowed,
    O16nError,
    TooManyAttempts,
    all_error_types,
)


def _by_status(status: int) -> type[O16nError]:
    """The most general error class the server answers with `status`."""
    best: type[O16nError] | None = None
    for cls in all_error_types().values():
        if cls.status == status and (best is None or issubclass(best, cls)):
            best = cls
    if best is not None:
        return best
    return InternalError if status >= HTTPStatus.INTERNAL_SERVER_ERROR else O16nError


def _body(response: httpx.Response) -> dict[str, object]:
    try:
        parsed: object = response.json()
    except ValueError:
        return {}
    return parsed if isinstance(parsed, dict) else {}


def _retry_after(response: httpx.Response) -> int:
    value = response.headers.get("retry-after", "")
    return int(value) if value.isdigit() else 1


def error_from(response: httpx.Response) -> O16nError:
    """The O16nError subclass named by `errorCode` (else by status), carrying `request_id`."""
    body = _body(response)
    code = body.get("errorCode")
    cls = all_error_types().get(code) if isinstance(code, str) else None
    cls = cls or _by_status(response.status_code)
    message = body.get("message")
    text = message if isinstance(message, str) else response.text or response.reason_phrase
    field = body.get("field")
    error = cls.__new__(cls)
    O16nError.__init__(error, text, field=field if isinstance(field, str) else None)
    request_id = body.get("requestId") or response.headers.get("x-request-id")
    extra: dict[str, object] = {
        "request_id": request_id if isinstance(request_id, str) else None,
        "http_status": response.status_code,
    }
    if issubclass(cls, TooManyAttempts | CapacityExceeded):
        extra["retry_after"] = _retry_after(response)
    if issubclass(cls, MethodNotAllowed):
        allowed = response.headers.get("allow", "")
        extra["allowed"] = [method.strip() for method in allowed.split(",") if method.strip()]
    vars(error).update(extra)
    return error


def request_id_of(error: BaseException) -> str | None:
    """The server's request id of an error raised by the client (None for other errors)."""
    value = vars(error).get("request_id")
    return value if isinstance(value, str) else None
