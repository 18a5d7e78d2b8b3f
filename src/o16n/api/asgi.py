"""The ASGI application of the HTTP layer: routes, error mapping and middleware."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import TYPE_CHECKING

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Match, Route

from o16n import __version__
from o16n.api.body import BODY
from o16n.api.dependencies import ApiServices
from o16n.api.errors import error_response
from o16n.api.forwarding import SessionForwarding
from o16n.api.middleware import RequestContextMiddleware, request_id_of
from o16n.api.openapi import core_document
from o16n.api.operation import Operation, authenticated
from o16n.api.routes import (
    batch,
    compute_nodes,
    console,
    consume,
    docs,
    files,
    login,
    metrics,
    realtime,
    services,
    sessions,
    snapshots,
    stats,
    status,
    users,
    workspace,
)
from o16n.errors import InvalidInput, MethodNotAllowed, NotFound, O16nError

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider


def operations() -> tuple[Operation, ...]:
    """Every operation the server answers, the core API document included."""
    core = (
        consume.OPERATIONS  # first: the router tries routes in order, and this is the hot path
        + login.OPERATIONS
        + status.OPERATIONS
        + sessions.OPERATIONS
        + workspace.OPERATIONS
        + files.OPERATIONS
        + snapshots.OPERATIONS
        + services.OPERATIONS
        + stats.OPERATIONS
        + batch.OPERATIONS
        + realtime.OPERATIONS
        + metrics.OPERATIONS
        + compute_nodes.OPERATIONS
        + users.OPERATIONS
    )
    parts = tuple(operation for operation in core if operation.in_service_document)
    documented = (*core, docs.service_document_operation(parts))
    document = core_document(documented, __version__)
    return documented + docs.operations(lambda: document) + console.OPERATIONS


def _methods_on_path(request: Request) -> list[str]:
    methods: set[str] = set()
    for route in request.app.router.routes:
        if isinstance(route, Route) and route.matches(request.scope)[0] != Match.NONE:
            methods |= route.methods or set()
    return sorted(methods)


_ANONYMOUS_PATHS = ("/login", "/health", "/swagger.json", "/docs")


def _anonymous(path: str) -> bool:
    """Whether `path` is one of the routes that need no token, or under one of them."""
    return any(path == root or path.startswith(f"{root}/") for root in _ANONYMOUS_PATHS)


async def _routing_refusal(request: Request, exc: Exception) -> Response:
    """404 or 405 as JSON errors, after the token check: a caller without a valid token learns
    nothing about which paths and methods exist (401 on every path but the anonymous ones)."""
    assert isinstance(exc, HTTPException)
    if exc.status_code in {404, 405} and not _anonymous(request.url.path):
        services: ApiServices = request.app.state.services
        await authenticated(request.scope, services, request.headers.get("authorization", ""))
    error: O16nError
    if exc.status_code == 404:
        error = NotFound(f"no route {request.method} {request.url.path}")
    elif exc.status_code == 405:
        allowed = _methods_on_path(request)
        error = MethodNotAllowed(
            f"{request.method} is not allowed on {request.url.path}", allowed=allowed
        )
    else:
        error = InvalidInput(str(exc.detail), field=BODY)  # a multipart body Starlette refused
    return error_response(error, request_id_of(request.scope))


def build_asgi(
    lifespan: Callable[[Starlette], AbstractAsyncContextManager[None]],
    tracing: TracerProvider | None = None,
) -> Starlette:
    """The Starlette app; `lifespan` must put an ApiServices at `app.state.services`; with
    `tracing`, a span per request (inside the request ids, outside everything else)."""
    routes: list[BaseRoute] = [operation.route() for operation in operations()]
    routes += [docs.assets(), console.assets()]
    app = Starlette(
        routes=routes,
        lifespan=lifespan,
        exception_handlers={HTTPException: _routing_refusal},
    )
    app.state.traced = tracing is not None  # consume calls then skip the consume lane
    app.router.redirect_slashes = False  # a redirect would turn "/services/x/" into a publish
    app.add_middleware(SessionForwarding)  # many web nodes: sessions live on one of them
    if tracing is not None:
        from o16n.api.tracing import Tracing  # opentelemetry is imported only then

        app.add_middleware(Tracing, provider=tracing)
    app.add_middleware(RequestContextMiddleware)
    return app
