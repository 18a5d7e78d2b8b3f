"""The web console: its page at `/` and its static assets under `/console/`, all shipped in the
package (no build step, no CDN) and served with a strict Content-Security-Policy.

The console is public (it holds no data: it signs in through POST /login and calls the public
API with the bearer token it gets); `is_console_path` is the one place that says which paths
are the console's, for whatever checks tokens before routing.
"""

from __future__ import annotations

from pathlib import Path

from starlette.responses import FileResponse, Response
from starlette.routing import BaseRoute, Mount
from starlette.staticfiles import StaticFiles
from starlette.types import Message, Receive, Scope, Send

from o16n.api.operation import Call, Operation

CONSOLE_PAGE = "/"
CONSOLE_ASSETS = "/console/"
_DIRECTORY = Path(__file__).resolve().parent.parent / "console"
_ASSETS_ROUTE = CONSOLE_ASSETS + "{path}"
HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; form-action 'none'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}


def is_console_path(path: str) -> bool:
    """Whether `path` is the console's page or one of its assets (served without a token)."""
    return path == CONSOLE_PAGE or path.startswith(CONSOLE_ASSETS)


async def page(call: Call) -> Response:
    """The console's single page."""
    return FileResponse(_DIRECTORY / "index.html", headers=HEADERS, media_type="text/html")


class _Assets:
    """The console's files, with the console's headers and a route template for the metrics."""

    def __init__(self) -> None:
        self._files = StaticFiles(directory=_DIRECTORY)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        scope["state"]["route"] = _ASSETS_ROUTE

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                extra = [(k.lower().encode(), v.encode()) for k, v in HEADERS.items()]
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        await self._files(scope, receive, with_headers)


def assets() -> BaseRoute:
    """The console's JavaScript and CSS."""
    return Mount(CONSOLE_ASSETS.rstrip("/"), app=_Assets(), name="console-assets")


OPERATIONS = (
    Operation(
        "GET",
        CONSOLE_PAGE,
        "getConsole",
        "Web console",
        "Docs",
        page,
        action=None,
        produces="text/html",
        documented=False,
    ),
)
