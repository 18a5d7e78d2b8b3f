"""o16n: GET /services/{name}/{version}/stats, the last hour of a version's calls for charts.

The history is kept in memory by each web node (o16n.call_history): with several web nodes,
each node reports the calls it answered itself.
"""

from __future__ import annotations

from datetime import UTC, datetime

from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from o16n.api.operation import Call, Operation
from o16n.api.responses import JSONResponse
from o16n.api.routes.services import name_and_version
from o16n.api.schemas import CallStats, CallStatsBucket
from o16n.auth.roles import Action
from o16n.call_history import BUCKET_SECONDS, VersionStats


def _iso(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).isoformat().replace("+00:00", "Z")


def _wire(stats: VersionStats) -> CallStats:
    return CallStats(
        bucketSeconds=BUCKET_SECONDS,
        windowStart=_iso(stats.start),
        windowEnd=_iso(stats.end),
        buckets=[
            CallStatsBucket(
                start=_iso(bucket.start),
                calls=bucket.calls,
                errors=bucket.errors,
                p50Ms=bucket.percentiles_ms[0],
                p95Ms=bucket.percentiles_ms[1],
                p99Ms=bucket.percentiles_ms[2],
            )
            for bucket in stats.buckets
        ],
    )


async def version_stats(call: Call) -> Response:
    """Calls, errors and latency percentiles of the version per bucket over the last hour."""
    name, version = name_and_version(call)
    await run_in_threadpool(call.services.services.get, name, version)  # 404 when unknown
    stats = call.services.metrics.history.stats(name, version)
    return JSONResponse(_wire(stats).model_dump())


OPERATIONS = (
    Operation(
        "GET",
        "/services/{name}/{version}/stats",
        "getWebServiceVersionStats",
        "Gets the calls of a web service version over the last hour",
        "Services",
        version_stats,
        Action.READ_SERVICES,
        response=CallStats,
        description=(
            "o16n extension. Per bucket of bucketSeconds (only buckets with calls): calls, "
            "errors (calls that did not succeed) and latency percentiles in milliseconds, "
            "estimated from a histogram. Kept in memory by each web node: with several web "
            "nodes each node reports the calls it answered."
        ),
    ),
)
