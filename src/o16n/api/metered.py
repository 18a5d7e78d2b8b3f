"""Counting HTTP requests and service calls into the app's metrics, by bounded labels."""

from __future__ import annotations

import time
from http import HTTPStatus

from starlette.types import Scope

from o16n.api.dependencies import ApiServices
from o16n.domain.models import ConsumeResult
from o16n.errors import O16nError
from o16n.metrics import UNMATCHED_ROUTE

CONSUME_ROUTE = "/api/{name}/{version}"
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def count_request(scope: Scope, status: int, started: float) -> None:
    """One HTTP request answered, labelled by the route template its handler set."""
    services: ApiServices | None = getattr(scope["app"].state, "services", None)
    if services is None:
        return  # before the lifespan started
    route = scope["state"].get("route", UNMATCHED_ROUTE)
    method = scope["method"] if scope["method"] in _METHODS else "other"  # callers choose it
    services.metrics.http_request(route, method, status, time.perf_counter() - started)


async def consume_counted(
    services: ApiServices, name: str, version: str, body: object
) -> ConsumeResult:
    """Consume the version; the call is counted when the version exists (its name and version
    are labels: an unknown one would let callers make series at will; only a version that does
    not exist answers 404 here)."""
    started = time.perf_counter()
    try:
        result = await services.services.consume(name, version, body)
    except O16nError as error:
        if error.status != HTTPStatus.NOT_FOUND:
            seconds = time.perf_counter() - started
            services.metrics.service_call(name, version, str(int(error.status)), seconds)
        raise
    status = "success" if result.success else "failure"
    services.metrics.service_call(name, version, status, time.perf_counter() - started)
    return result
