"""The consume lane: `POST /api/{name}/{version}` answered by the HTTP protocol, not through ASGI.

uvicorn's httptools protocol still parses every request and keeps each connection's state
(keep-alive, pipelined requests, `Expect: 100-continue`, disconnects, flow control). A consume
call is then answered here instead of by the ASGI app: the token and role check, the one consume
path (`routes.consume.consumed`), the request id, access log and request metrics the request
middleware gives every request, and the whole response written at once. That skips the
framework's middleware stack, the ASGI messages and one of the two socket writes of every
call. Every other request, every request before the app has started, and every consume call
when tracing is on (a span each) goes through the ASGI app, where the routed consume operation
answers the same way.
"""

from __future__ import annotations

import logging
import re
import time
from typing import Any

from starlette.applications import Starlette
from starlette.responses import Response
from uvicorn.protocols.http.httptools_impl import (
    STATUS_LINE,
    HttpToolsProtocol,
    RequestResponseCycle,
)

from o16n.api.dependencies import ApiServices
from o16n.api.errors import REQUEST_ID_HEADER, error_response, internal_error_response
from o16n.api.metered import CONSUME_ROUTE, count_request
from o16n.api.middleware import log_request, new_request_id
from o16n.api.operation import authorized
from o16n.api.routes.consume import ConsumeCall, consumed
from o16n.auth.roles import Action
from o16n.errors import O16nError

_CONSUME = re.compile(r"^/api/([^/]+)/([^/]+)$")
_JSON_HEAD = b"content-type: application/json\r\ncontent-length: "
_ID_HEADER = REQUEST_ID_HEADER.lower().encode()
_error_log = logging.getLogger("o16n.error")


def consume_lane_protocol(app: Starlette) -> type[HttpToolsProtocol]:
    """uvicorn's httptools protocol, answering the consume calls of `app` itself."""

    class ConsumeLaneProtocol(HttpToolsProtocol):
        def _start_asgi_task(self, cycle: RequestResponseCycle, asgi: Any) -> None:
            """Answer a consume call here; start the ASGI app for anything else."""
            scope = cycle.scope
            services: ApiServices | None = getattr(app.state, "services", None)
            found = _CONSUME.match(scope["path"]) if scope["method"] == "POST" else None
            if found is None or services is None or asgi is not self.app or app.state.traced:
                super()._start_asgi_task(cycle, asgi)
                return
            scope["app"] = app  # type: ignore[typeddict-unknown-key]  # as Starlette sets it
            name, version = found.groups()
            task = self.loop.create_task(_answer(cycle, services, name, version))
            task.add_done_callback(self.tasks.discard)
            self.tasks.add(task)

    return ConsumeLaneProtocol


async def _answer(
    cycle: RequestResponseCycle, services: ApiServices, name: str, version: str
) -> None:
    """Run one consume call and write its response, as the ASGI path would answer it."""
    scope: Any = cycle.scope
    request_id = new_request_id()
    state = scope["state"]
    state["request_id"] = request_id
    state["route"] = CONSUME_ROUTE
    started = time.perf_counter()
    try:
        headers = dict(scope["headers"])
        authorization = headers.get(b"authorization", b"").decode("latin-1")
        await authorized(scope, services, authorization, Action.CONSUME_SERVICES)
        length = headers.get(b"content-length")
        call = ConsumeCall(
            name,
            version,
            headers.get(b"content-type", b"").decode("latin-1"),
            None if length is None else length.decode("latin-1"),
            cycle.receive,  # type: ignore[arg-type]  # uvicorn's ASGI event types
        )
        content = await consumed(services, call)
        status = 200
        head = [_JSON_HEAD, str(len(content)).encode(), b"\r\n"]
    except O16nError as error:
        status, head, content = _parts(error_response(error, request_id))
    except Exception:
        _error_log.exception("request %s failed", request_id)
        status, head, content = _parts(internal_error_response(request_id))
    try:
        head += [_ID_HEADER, b": ", request_id.encode(), b"\r\n"]
        await _write(cycle, status, head, content)
    finally:  # after the write: the client sends its next request meanwhile
        log_request(scope, request_id, status, started)
        count_request(scope, status, started)


def _parts(response: Response) -> tuple[int, list[bytes], bytes]:
    """Status, header lines and body of a rendered error response."""
    lines = [b"%s: %s\r\n" % pair for pair in response.raw_headers if pair[0] != _ID_HEADER]
    return response.status_code, lines, bytes(response.body)


async def _write(
    cycle: RequestResponseCycle, status: int, head: list[bytes], content: bytes
) -> None:
    """The response in one write; the connection is then done with this request."""
    if cycle.flow.write_paused and not cycle.disconnected:
        await cycle.flow.drain()
    if cycle.disconnected:
        return
    parts = [STATUS_LINE[status], *(b"%s: %s\r\n" % pair for pair in cycle.default_headers)]
    if not cycle.keep_alive:
        parts.append(b"connection: close\r\n")
    cycle.response_started = True
    cycle.transport.write(b"".join([*parts, *head, b"\r\n", content]))
    cycle.response_complete = True
    cycle.message_event.set()
    if not cycle.keep_alive:
        cycle.transport.close()
    cycle.on_response()
