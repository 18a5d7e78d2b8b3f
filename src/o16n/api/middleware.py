"""Pure ASGI middleware: request ids, failures to JSON, and a structured access log."""

from __future__ import annotations

import itertools
import logging
import secrets
import time

import orjson
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from o16n.api.errors import REQUEST_ID_HEADER, error_response, internal_error_response
from o16n.api.metered import count_request
from o16n.errors import O16nError

_access_log = logging.getLogger("o16n.access")
_error_log = logging.getLogger("o16n.error")
_ID_PREFIX = secrets.token_hex(8)  # this process's, so ids stay unique over web nodes
_ID_COUNTER = itertools.count()


def new_request_id() -> str:
    """A request id unique over processes (32 hex digits) and cheap: no random bytes each."""
    return f"{_ID_PREFIX}{next(_ID_COUNTER):016x}"


def request_id_of(scope: Scope) -> str:
    """The id this middleware gave the request."""
    return str(scope["state"]["request_id"])


class RequestContextMiddleware:
    """Gives every request an id (echoed as X-Request-Id), logs it, and answers any
    uncaught failure with the JSON error shape instead of a traceback."""

    def __init__(self, app: ASGIApp) -> None:
        self._app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Handle one HTTP request; other scopes pass straight through."""
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        request_id = new_request_id()
        scope.setdefault("state", {})["request_id"] = request_id
        started = time.perf_counter()
        status = {"code": 0}

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
                name = REQUEST_ID_HEADER.lower().encode()
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != name]
                headers.append((name, request_id.encode()))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self._app(scope, receive, send_with_id)
        except O16nError as error:
            await self._answer(error_response(error, request_id), status, scope, receive, send)
        except Exception:
            _error_log.exception("request %s failed", request_id)
            response = internal_error_response(request_id)
            await self._answer(response, status, scope, receive, send)
        finally:
            log_request(scope, request_id, status["code"], started)
            count_request(scope, status["code"], started)

    @staticmethod
    async def _answer(
        response: Response, status: dict[str, int], scope: Scope, receive: Receive, send: Send
    ) -> None:
        if status["code"]:
            return  # the response had started; the connection is closed by the server
        status["code"] = response.status_code
        await response(scope, receive, send)


def log_request(scope: Scope, request_id: str, status: int, started: float) -> None:
    """One line of the JSON access log (when it is on) for an answered request."""
    if not _access_log.isEnabledFor(logging.INFO):
        return
    record = {
        "requestId": request_id,
        "method": scope["method"],
        "path": scope["path"],
        "status": status,
        "ms": round((time.perf_counter() - started) * 1000, 3),
        "user": scope["state"].get("username"),
    }
    _access_log.info(orjson.dumps(record).decode())
