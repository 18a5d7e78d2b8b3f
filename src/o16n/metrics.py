"""The server's Prometheus metrics: one registry per app, the series it exposes, and recording
calls cheap enough for the hot path (requests are tallied in plain numbers, see `_Timings`).

Label values are bounded: HTTP routes are route templates (never raw paths), and the only
values taken from users are the names and versions of services that exist; a deleted
version's series are removed (`forget`). Gauges (queue length, live and busy workers, open
sessions) are read from the runtime at scrape time by a collector, not kept up to date.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector

from o16n.call_history import CallHistory

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
UNMATCHED_ROUTE = "unmatched"

_LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)
_BOUNDS = tuple(float(bound) for bound in _LATENCY_BUCKETS)
_BOUND_NAMES = tuple(str(bound) for bound in _BOUNDS)
_COLD_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60)
_BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256)
_VERSION = ("service", "version")


@dataclass(frozen=True)
class VersionLoad:
    """One version's pool right now: calls waiting, workers live (or starting) and busy."""

    service: str
    version: str
    queued: int
    live: int
    busy: int


LoadSource = Callable[[], Iterable[VersionLoad]]
CountSource = Callable[[], int]


@dataclass
class _Durations:
    """One histogram series in plain numbers: `buckets[i]` counts the values of bucket i alone
    (the last one: above every bound)."""

    buckets: list[int]
    total: float = 0.0
    count: int = field(default=0)


class _Timings(Collector):
    """Requests counted by (a, b, status) and their durations by (a, b), kept in plain Python
    numbers and exposed at scrape time: a prometheus_client counter and histogram take a lock
    per increment, which costs the hot path several microseconds. Used on the event loop only
    (recording and scraping alike), so nothing races."""

    def __init__(self, name: str, what: str, labels: tuple[str, str]) -> None:
        self._name = name
        self._what = what
        self._labels = labels
        self._counts: dict[tuple[str, str, str], int] = {}
        self._durations: dict[tuple[str, str], _Durations] = {}

    def record(self, first: str, second: str, status: str, seconds: float) -> None:
        """One request answered in `seconds`."""
        key = (first, second, status)
        self._counts[key] = self._counts.get(key, 0) + 1
        durations = self._durations.get((first, second))
        if durations is None:
            durations = self._durations[(first, second)] = _Durations([0] * (len(_BOUNDS) + 1))
        durations.buckets[bisect.bisect_left(_BOUNDS, seconds)] += 1
        durations.total += seconds
        durations.count += 1

    def forget(self, first: str, second: str) -> None:
        """Remove the series of (first, second)."""
        self._durations.pop((first, second), None)
        for key in [key for key in self._counts if key[:2] == (first, second)]:
            del self._counts[key]

    def collect(self) -> Iterator[Metric]:
        """The counter and the histogram."""
        labels = list(self._labels)
        counts = CounterMetricFamily(
            f"{self._name}_requests", f"{self._what} answered", labels=[*labels, "status"]
        )
        for key, count in list(self._counts.items()):
            counts.add_metric(list(key), count)
        durations = HistogramMetricFamily(
            f"{self._name}_request_duration_seconds",
            f"Time to answer {self._what.lower()}",
            labels=labels,
        )
        for pair, series in list(self._durations.items()):
            cumulative, buckets = 0, []
            for bound, count in zip((*_BOUND_NAMES, "+Inf"), series.buckets, strict=True):
                cumulative += count
                buckets.append((bound, cumulative))
            durations.add_metric(list(pair), buckets, series.total)
        yield from (counts, durations)


class _Gauges(Collector):
    """Gauges read at scrape time from the runtime's own counts."""

    def __init__(self) -> None:
        self.loads: LoadSource = list
        self.sessions: CountSource = lambda: 0

    def collect(self) -> Iterator[Metric]:
        """The current queue, worker and session gauges."""
        names = list(_VERSION)
        queued = GaugeMetricFamily(
            "o16n_service_queue_length", "Calls waiting for a worker", labels=names
        )
        live = GaugeMetricFamily(
            "o16n_service_workers_live", "Workers prepared or starting", labels=names
        )
        busy = GaugeMetricFamily("o16n_service_workers_busy", "Workers with calls", labels=names)
        for load in self.loads():
            labels = [load.service, load.version]
            queued.add_metric(labels, load.queued)
            live.add_metric(labels, load.live)
            busy.add_metric(labels, load.busy)
        sessions = GaugeMetricFamily("o16n_sessions_open", "Open interactive sessions")
        sessions.add_metric([], self.sessions())
        yield from (queued, live, busy, sessions)


class Metrics:
    """Every series of one server, in its own registry (several apps may share a process)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.history = CallHistory()  # the last hour of each version's calls, for charts
        registry = self.registry
        self._http = _Timings("o16n_http", "HTTP requests", ("route", "method"))
        self._calls = _Timings("o16n_service", "Calls of a service version", _VERSION)
        registry.register(self._http)
        registry.register(self._calls)
        self._starts = self._version_counter("o16n_service_worker_starts", "Workers prepared")
        self._crashes = self._version_counter("o16n_service_worker_crashes", "Workers that died")
        self._timeouts = self._version_counter(
            "o16n_service_worker_timeouts", "Calls that passed their deadline"
        )
        self._cold_seconds = Histogram(
            "o16n_service_cold_start_seconds",
            "Duration of the first call a version's pool answered (workers prepared on demand)",
            _VERSION,
            buckets=_COLD_BUCKETS,
            registry=registry,
        )
        self._batch_records = Counter(
            "o16n_batch_records",
            "Records of batch executions finished, by outcome (done or failed)",
            [*_VERSION, "outcome"],
            registry=registry,
        )
        self._realtime_batch = Histogram(
            "o16n_realtime_batch_size",
            "Calls merged into one realtime model run",
            buckets=_BATCH_BUCKETS,
            registry=registry,
        )
        self._model_seconds = Histogram(
            "o16n_realtime_model_run_duration_seconds",
            "Time of one realtime model run",
            buckets=_LATENCY_BUCKETS,
            registry=registry,
        )
        self._login_failures = Counter("o16n_login_failures", "Refused logins", registry=registry)
        self._gauges = _Gauges()
        registry.register(self._gauges)

    def _version_counter(self, name: str, documentation: str) -> Counter:
        return Counter(name, documentation, _VERSION, registry=self.registry)

    def watch(self, loads: LoadSource, sessions: CountSource) -> None:
        """Where the gauges are read at scrape time."""
        self._gauges.loads = loads
        self._gauges.sessions = sessions

    def http_request(self, route: str, method: str, status: int, seconds: float) -> None:
        """One HTTP request answered; `route` is its route template."""
        self._http.record(route, method, str(status), seconds)

    def service_call(self, service: str, version: str, status: str, seconds: float) -> None:
        """One call of an existing version: `status` is success, failure (the code raised)
        or the HTTP status of the error. Also kept in the last hour's history."""
        self._calls.record(service, version, status, seconds)
        self.history.record(service, version, status != "success", seconds)

    def worker_started(self, service: str, version: str) -> None:
        """A worker was prepared for the version."""
        self._starts.labels(service, version).inc()

    def worker_crashed(self, service: str, version: str) -> None:
        """A worker of the version died (preparing or in a call)."""
        self._crashes.labels(service, version).inc()

    def worker_timed_out(self, service: str, version: str) -> None:
        """A call of the version passed its deadline (its worker was killed)."""
        self._timeouts.labels(service, version).inc()

    def cold_start(self, service: str, version: str, seconds: float) -> None:
        """The first call answered by a new pool of the version."""
        self._cold_seconds.labels(service, version).observe(seconds)

    def batch_record(self, service: str, version: str, done: bool) -> None:
        """A record of a batch execution finished."""
        self._batch_records.labels(service, version, "done" if done else "failed").inc()

    def realtime_batch(self, calls: int) -> None:
        """A realtime model run answered `calls` calls."""
        self._realtime_batch.observe(calls)

    def model_run(self, seconds: float) -> None:
        """One realtime model run took `seconds`."""
        self._model_seconds.observe(seconds)

    def login_failed(self) -> None:
        """A login was refused."""
        self._login_failures.inc()

    def forget(self, service: str, version: str) -> None:
        """The version was deleted: remove its series."""
        labels = {"service": service, "version": version}
        self._calls.forget(service, version)
        self.history.forget(service, version)
        for metric in (
            self._starts,
            self._crashes,
            self._timeouts,
            self._cold_seconds,
            self._batch_records,
        ):
            metric.remove_by_labels(labels)

    def exposition(self) -> bytes:
        """Every series in Prometheus' text format."""
        return generate_latest(self.registry)
