"""The last hour of each service version's calls, in memory, for charts: per 10-second bucket
the calls, the errors and a latency histogram of fixed bounds (percentiles are estimated from
it). Each version has a ring of `SLOTS` buckets, reused as time passes, so memory is bounded by
the number of versions whatever the traffic (about 140 KB for a version called in every
bucket); a deleted version's ring is dropped (`forget`).

Per process: with several web nodes each node keeps (and reports) the calls it answered.
Recording and reading happen on the event loop only, so nothing races.
"""

from __future__ import annotations

import bisect
import time
from collections.abc import Callable
from dataclasses import dataclass, field

BUCKET_SECONDS = 10
WINDOW_SECONDS = 3600
SLOTS = WINDOW_SECONDS // BUCKET_SECONDS
# Upper bounds of the latency bins, in milliseconds (a 1-2-3-5-7 progression, so an estimate
# within a bin is off by less than its width); the last bin holds everything slower.
LATENCY_BOUNDS_MS = (
    *(1.0, 2.0, 3.0, 5.0, 7.0),
    *(10.0, 20.0, 30.0, 50.0, 70.0),
    *(100.0, 200.0, 300.0, 500.0, 700.0),
    *(1000.0, 2000.0, 3000.0, 5000.0, 7000.0),
    *(10000.0, 20000.0, 30000.0, 60000.0),
)
PERCENTILES = (0.50, 0.95, 0.99)
Clock = Callable[[], float]


@dataclass(slots=True)
class _Bucket:
    """The calls of one interval: `number` is its start time divided by BUCKET_SECONDS."""

    number: int
    calls: int = 0
    errors: int = 0
    slowest_ms: float = 0.0
    bins: list[int] = field(default_factory=lambda: [0] * (len(LATENCY_BOUNDS_MS) + 1))


@dataclass(frozen=True)
class BucketStats:
    """One bucket as reported: its start (seconds since the epoch), counts and the latency
    percentiles of PERCENTILES in milliseconds."""

    start: float
    calls: int
    errors: int
    percentiles_ms: tuple[float, ...]


@dataclass(frozen=True)
class VersionStats:
    """A version's buckets of the window [start, end), oldest first, those with calls only."""

    start: float
    end: float
    buckets: list[BucketStats]


def estimate(bins: list[int], count: int, slowest_ms: float, quantile: float) -> float:
    """The latency below which `quantile` of the calls fall, interpolated linearly within
    its bin; never above the slowest call seen."""
    rank = quantile * count
    seen = 0
    for index, in_bin in enumerate(bins):
        if in_bin and seen + in_bin >= rank:
            lower = LATENCY_BOUNDS_MS[index - 1] if index else 0.0
            upper = LATENCY_BOUNDS_MS[index] if index < len(LATENCY_BOUNDS_MS) else slowest_ms
            value = lower + (upper - lower) * (rank - seen) / in_bin
            return round(min(value, slowest_ms), 3)
        seen += in_bin
    return round(slowest_ms, 3)


class CallHistory:
    """Rings of buckets by (service, version)."""

    def __init__(self, clock: Clock = time.time) -> None:
        self._clock = clock
        self._rings: dict[tuple[str, str], list[_Bucket | None]] = {}

    def record(self, service: str, version: str, failed: bool, seconds: float) -> None:
        """One call answered in `seconds` (cheap: the consume path calls it)."""
        number = int(self._clock() // BUCKET_SECONDS)
        ring = self._rings.get((service, version))
        if ring is None:
            ring = self._rings[(service, version)] = [None] * SLOTS
        slot = number % SLOTS
        bucket = ring[slot]
        if bucket is None or bucket.number != number:
            bucket = ring[slot] = _Bucket(number)
        bucket.calls += 1
        if failed:
            bucket.errors += 1
        milliseconds = seconds * 1000.0
        bucket.slowest_ms = max(bucket.slowest_ms, milliseconds)
        bucket.bins[bisect.bisect_left(LATENCY_BOUNDS_MS, milliseconds)] += 1

    def forget(self, service: str, version: str) -> None:
        """The version was deleted: drop its history."""
        self._rings.pop((service, version), None)

    def stats(self, service: str, version: str) -> VersionStats:
        """The last hour of the version, up to now (the current bucket included)."""
        current = int(self._clock() // BUCKET_SECONDS)
        oldest = current - SLOTS + 1
        ring = self._rings.get((service, version), [])
        kept = sorted(
            (b for b in ring if b is not None and b.number >= oldest), key=lambda b: b.number
        )
        buckets = [
            BucketStats(
                start=float(bucket.number * BUCKET_SECONDS),
                calls=bucket.calls,
                errors=bucket.errors,
                percentiles_ms=tuple(
                    estimate(bucket.bins, bucket.calls, bucket.slowest_ms, q) for q in PERCENTILES
                ),
            )
            for bucket in kept
        ]
        return VersionStats(
            float(oldest * BUCKET_SECONDS), float((current + 1) * BUCKET_SECONDS), buckets
        )
