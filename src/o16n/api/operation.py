"""Declared operations: one place that says a route's path, method, operationId, body,
success status and required right; routes and the API document are both built from it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from http import HTTPStatus

from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import Scope

from o16n.api.dependencies import ApiServices
from o16n.auth.authorizer import is_allowed
from o16n.auth.roles import Action
from o16n.domain.models import Principal
from o16n.errors import Forbidden, Unauthenticated


@dataclass(frozen=True)
class Call:
    """What a handler gets: the request, the server's services and the caller."""

    request: Request
    services: ApiServices
    principal: Principal | None

    @property
    def user(self) -> Principal:
        """The authenticated caller (only on operations that require a token)."""
        if self.principal is None:
            raise Unauthenticated("this operation needs a bearer token")
        return self.principal


Handler = Callable[[Call], Awaitable[Response]]


@dataclass(frozen=True)
class Param:
    """A query parameter, for the API document."""

    name: str
    type: str
    required: bool = False
    description: str = ""


@dataclass(frozen=True)
class ArrayOf:
    """A response that is a JSON array of `model`, for the API document."""

    model: type[BaseModel]


Schema = type[BaseModel] | ArrayOf | dict[str, object]


@dataclass(frozen=True)
class Operation:
    """One HTTP operation of the core API."""

    method: str
    path: str
    operation_id: str
    summary: str
    tag: str
    handler: Handler
    action: Action | None
    success: HTTPStatus = HTTPStatus.OK
    body: Schema | None = None
    body_name: str = "body"
    response: Schema | None = None
    query: tuple[Param, ...] = field(default=())
    form_files: tuple[str, ...] = field(default=())
    form_fields: tuple[Param, ...] = field(default=())
    consumes: str = "application/json"
    produces: str = "application/json"
    documented: bool = True  # in the core document (/swagger.json)
    in_service_document: bool = False  # in each version's own document (consume, batch, login)
    description: str = ""
    path_params: tuple[Param, ...] = field(default=())  # types of path parameters (default string)

    @property
    def authenticated(self) -> bool:
        """Whether a bearer token is required."""
        return self.action is not None

    def route(self) -> Route:
        """The Starlette route that authenticates, authorizes and calls the handler."""

        async def endpoint(request: Request) -> Response:
            request.scope["state"]["route"] = self.path  # the metrics' label: a template
            services: ApiServices = request.app.state.services
            principal = await _authorize(request, services, self.action)
            return await self.handler(Call(request, services, principal))

        return Route(self.path, endpoint, methods=[self.method], name=self.operation_id)


def _bearer_token(header: str) -> str:
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("missing bearer token: send Authorization: Bearer <access_token>")
    return token.strip()


async def _authorize(
    request: Request, services: ApiServices, action: Action | None
) -> Principal | None:
    if action is None:
        return None
    return await authorized(
        request.scope, services, request.headers.get("authorization", ""), action
    )


async def authenticated(scope: Scope, services: ApiServices, authorization: str) -> Principal:
    """The caller named by the `authorization` header (a bearer token); 401 without a valid
    one. Their name goes in the scope for the access log."""
    token = _bearer_token(authorization)
    principal = services.authenticator.cached(token)
    if principal is None:
        principal = await run_in_threadpool(services.authenticator.authenticate, token)
    scope["state"]["username"] = principal.username
    return principal


async def authorized(
    scope: Scope, services: ApiServices, authorization: str, action: Action
) -> Principal:
    """The caller named by the `authorization` header, allowed to `action`."""
    principal = await authenticated(scope, services, authorization)
    if not is_allowed(principal, action):
        raise Forbidden(f"user {principal.username!r} may not {action.value.replace('_', ' ')}")
    return principal
