"""A lean path for consuming services (Python and realtime): the hot path without Starlette's
routing.

It sits inside the request middleware (which still gives the request id, the JSON error shape
and the access log) and answers `POST /api/{name}/{version}` itself,
with the same token check, body limits and wire format as the routed operation. It looks
only in the consume cache (no database before the token check): the first call of a version
goes through the router, which fills the cache. Every other request goes on to the router.
"""

from __future__ import annotations

import re

import orjson
from starlette.types import ASGIApp, Receive, Scope, Send

from o16n.api.context import ApiServices
from o16n.api.metered import CONSUME_ROUTE, consume_counted
from o16n.api.operation import authorized
from o16n.api.routes.consume import result_body
from o16n.auth.roles import Action
from o16n.errors import InvalidInput, PayloadTooLarge, UnsupportedMediaType

_CONSUME = re.compile(r"^/api/([^/]+)/([^/]+)$")
_JSON_HEADERS = [(b"content-type", b"application/json")]


def _headers(scope: Scope) -> dict[bytes, bytes]:
    return {name: value for name, value in scope["headers"]}


async def _body(receive: Receive, headers: dict[bytes, bytes], limit: int) -> object:
    media_type = headers.get(b"content-type", b"").split(b";", 1)[0].strip().lower()
    if media_type != b"application/json" and not media_type.endswith(b"+json"):
        raise UnsupportedMediaType(
            f"expected Content-Type application/json, got {media_type.decode() or 'none'}"
        )
    declared = headers.get(b"content-length", b"")
    if declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"request body exceeds the limit of {limit} bytes")
    chunks: list[bytes] = []
    size, more = 0, True
    while more:
        message = await receive()
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(f"request body exceeds the limit of {limit} bytes")
        chunks.append(chunk)
        more = message.get("more_body", False)
    try:
        return orjson.loads(b"".join(chunks))
    except orjson.JSONDecodeError as error:
        raise InvalidInput(f"request body is not valid JSON: {error}") from error


class ConsumeShortcut:
    """Pure ASGI: consumption of a cached version answered here, everything else passed on."""

    def __init__(self, app: ASGIApp) -> None:
        self._app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer a call of a cached version, or hand the request to the router."""
        post = scope["type"] == "http" and scope["method"] == "POST"
        found = _CONSUME.match(scope["path"]) if post else None
        services: ApiServices | None = getattr(scope["app"].state, "services", None)
        if found is None or services is None:
            await self._app(scope, receive, send)
            return
        name, version = found.groups()
        if not services.services.is_cached(name, version):
            await self._app(scope, receive, send)  # also a first call, which fills the cache
            return
        scope["state"]["route"] = CONSUME_ROUTE
        headers = _headers(scope)
        authorization = headers.get(b"authorization", b"").decode("latin-1")
        await authorized(scope, services, authorization, Action.CONSUME_SERVICES)
        body = await _body(receive, headers, services.limits.json_bytes)
        result = await consume_counted(services, name, version, body)
        content = orjson.dumps(result_body(result))
        length = (b"content-length", str(len(content)).encode())
        await send(
            {"type": "http.response.start", "status": 200, "headers": [*_JSON_HEADERS, length]}
        )
        await send({"type": "http.response.body", "body": content})
