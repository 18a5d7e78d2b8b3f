"""GET /metrics: the server's Prometheus metrics, for an Owner or the configured scraper."""

from __future__ import annotations

import hmac

from starlette.responses import Response

from o16n.api.operation import Call, Operation, authorized
from o16n.auth.roles import Action
from o16n.metrics import CONTENT_TYPE


def _is_scraper(authorization: str, scrape_token: str | None) -> bool:
    """Whether the header carries the scrape token (compared in constant time)."""
    if scrape_token is None:
        return False
    scheme, _, token = authorization.partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(
        token.strip().encode(), scrape_token.encode()
    )


async def metrics(call: Call) -> Response:
    """Every series in Prometheus' text format."""
    services = call.services
    authorization = call.request.headers.get("authorization", "")
    if not _is_scraper(authorization, services.metrics_token):
        await authorized(call.request.scope, services, authorization, Action.READ_METRICS)
    return Response(services.metrics.exposition(), media_type=CONTENT_TYPE)


OPERATIONS = (
    Operation(
        "GET",
        "/metrics",
        "getMetrics",
        "Prometheus metrics (an Owner's token or the scrape token)",
        "Status",
        metrics,
        action=None,  # checked by the handler: the scrape token is not a user's token
        produces="text/plain",
        documented=False,
    ),
)
