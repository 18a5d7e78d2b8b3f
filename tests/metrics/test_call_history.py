"""The in-memory call history alone, on a clock the test moves: buckets of 10 seconds, an
hour kept and no more, memory that does not grow with time, percentiles from the bins."""

from __future__ import annotations

from o16n.call_history import (
    BUCKET_SECONDS,
    LATENCY_BOUNDS_MS,
    SLOTS,
    WINDOW_SECONDS,
    CallHistory,
    estimate,
)


class Clock:
    """A clock the test sets."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_calls_fall_in_buckets_of_their_time() -> None:
    clock = Clock(1_000_000.0)
    history = CallHistory(clock)
    history.record("s", "1", False, 0.004)
    clock.now += 3
    history.record("s", "1", True, 0.004)
    clock.now += BUCKET_SECONDS
    history.record("s", "1", False, 0.004)
    buckets = history.stats("s", "1").buckets
    assert [(b.start, b.calls, b.errors) for b in buckets] == [
        (1_000_000.0, 2, 1),
        (1_000_010.0, 1, 0),
    ]


def test_an_hour_is_kept_and_the_ring_does_not_grow() -> None:
    clock = Clock(2_000_000.0)
    history = CallHistory(clock)
    history.record("s", "1", False, 0.001)
    for _ in range(2 * SLOTS):  # two hours of calls, one per bucket
        clock.now += BUCKET_SECONDS
        history.record("s", "1", False, 0.001)
    stats = history.stats("s", "1")
    assert len(stats.buckets) == SLOTS
    assert sum(b.calls for b in stats.buckets) == SLOTS
    assert stats.end - stats.start == WINDOW_SECONDS
    assert stats.buckets[0].start >= stats.start
    clock.now += WINDOW_SECONDS  # an hour without calls: nothing left
    assert history.stats("s", "1").buckets == []


def test_versions_are_apart_and_forgotten() -> None:
    history = CallHistory(Clock(3_000_000.0))
    history.record("s", "1", False, 0.001)
    history.record("s", "2", False, 0.001)
    history.forget("s", "1")
    assert history.stats("s", "1").buckets == []
    assert history.stats("s", "2").buckets[0].calls == 1


def test_percentiles_are_estimated_within_their_bins() -> None:
    history = CallHistory(Clock(4_000_000.0))
    for _ in range(90):
        history.record("s", "1", False, 0.004)  # 3-5 ms
    for _ in range(10):
        history.record("s", "1", False, 0.150)  # 100-200 ms
    p50, p95, p99 = history.stats("s", "1").buckets[0].percentiles_ms
    assert 3 <= p50 <= 5
    assert 100 <= p95 <= p99 <= 150  # never above the slowest call


def test_an_estimate_past_the_last_bound_reaches_the_slowest_call() -> None:
    bins = [0] * len(LATENCY_BOUNDS_MS) + [4]  # four calls slower than every bound
    assert estimate(bins, 4, 90_000.0, 0.5) == 75_000.0  # halfway from the last bound
    assert estimate(bins, 4, 90_000.0, 1.0) == 90_000.0
