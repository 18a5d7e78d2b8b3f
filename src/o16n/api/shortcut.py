"""The consume entry: `POST /api/{name}/{version}` answered before Starlette's routing.

It sits inside the request middleware (which gives the request id, the JSON error shape and
the access log), checks the token and the role, and hands the request to
`routes.consume.consumed`, the one consume path (body limits, JSON, the version's run, the wire
format). Every other request goes on to the router.
"""

from __future__ import annotations

import re

from starlette.types import ASGIApp, Receive, Scope, Send

from o16n.api.dependencies import ApiServices
from o16n.api.metered import CONSUME_ROUTE
from o16n.api.operation import authorized
from o16n.api.routes.consume import ConsumeCall, consumed
from o16n.auth.roles import Action

_CONSUME = re.compile(r"^/api/([^/]+)/([^/]+)$")
_JSON = (b"content-type", b"application/json")


class ConsumeShortcut:
    """Pure ASGI: consumption answered here, everything else passed on."""

    def __init__(self, app: ASGIApp) -> None:
        self._app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer a call of a service version, or hand the request to the router."""
        post = scope["type"] == "http" and scope["method"] == "POST"
        found = _CONSUME.match(scope["path"]) if post else None
        services: ApiServices | None = getattr(scope["app"].state, "services", None)
        if found is None or services is None:
            await self._app(scope, receive, send)
            return
        scope["state"]["route"] = CONSUME_ROUTE
        headers = dict(scope["headers"])
        authorization = headers.get(b"authorization", b"").decode("latin-1")
        await authorized(scope, services, authorization, Action.CONSUME_SERVICES)
        length = headers.get(b"content-length")
        name, version = found.groups()
        call = ConsumeCall(
            name,
            version,
            headers.get(b"content-type", b"").decode("latin-1"),
            None if length is None else length.decode("latin-1"),
            receive,
        )
        content = await consumed(services, call)
        size = (b"content-length", str(len(content)).encode())
        await send({"type": "http.response.start", "status": 200, "headers": [_JSON, size]})
        await send({"type": "http.response.body", "body": content})
