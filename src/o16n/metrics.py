"""The server's Prometheus metrics: one registry per app, the series it exposes, and recording
calls cheap enough for the hot path (label children are looked up once and kept).

Label values are bounded: HTTP routes are route templates (never raw paths), and the only
values taken from users are the names and versions of services that exist; a deleted
version's series are removed (`forget`). Gauges (queue length, live and busy workers, open
sessions) are read from the runtime at scrape time by a collector, not kept up to date.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
UNMATCHED_ROUTE = "unmatched"

_LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)
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
        registry = self.registry
        self._http_requests = Counter(
            "o16n_http_requests",
            "HTTP requests answered, by route template",
            ["route", "method", "status"],
            registry=registry,
        )
        self._http_seconds = Histogram(
            "o16n_http_request_duration_seconds",
            "Time to answer an HTTP request",
            ["route", "method"],
            buckets=_LATENCY_BUCKETS,
            registry=registry,
        )
        self._calls = Counter(
            "o16n_service_requests",
            "Calls of a service version, by outcome",
            [*_VERSION, "status"],
            registry=registry,
        )
        self._call_seconds = Histogram(
            "o16n_service_request_duration_seconds",
            "Time to answer a call of a service version",
            _VERSION,
            buckets=_LATENCY_BUCKETS,
            registry=registry,
        )
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
        self._http_children: dict[tuple[str, str, int], tuple[Counter, Histogram]] = {}
        self._call_children: dict[tuple[str, str, str], tuple[Counter, Histogram]] = {}

    def _version_counter(self, name: str, documentation: str) -> Counter:
        return Counter(name, documentation, _VERSION, registry=self.registry)

    def watch(self, loads: LoadSource, sessions: CountSource) -> None:
        """Where the gauges are read at scrape time."""
        self._gauges.loads = loads
        self._gauges.sessions = sessions

    def http_request(self, route: str, method: str, status: int, seconds: float) -> None:
        """One HTTP request answered; `route` is its route template."""
        key = (route, method, status)
        children = self._http_children.get(key)
        if children is None:
            children = (
                self._http_requests.labels(route, method, str(status)),
                self._http_seconds.labels(route, method),
            )
            self._http_children[key] = children
        children[0].inc()
        children[1].observe(seconds)

    def service_call(self, service: str, version: str, status: str, seconds: float) -> None:
        """One call of an existing version: `status` is success, failure (the code raised)
        or the HTTP status of the error."""
        key = (service, version, status)
        children = self._call_children.get(key)
        if children is None:
            children = (
                self._calls.labels(service, version, status),
                self._call_seconds.labels(service, version),
            )
            self._call_children[key] = children
        children[0].inc()
        children[1].observe(seconds)

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
        for metric in (
            self._calls,
            self._call_seconds,
            self._starts,
            self._crashes,
            self._timeouts,
            self._cold_seconds,
            self._batch_records,
        ):
            metric.remove_by_labels(labels)
        for key in [key for key in self._call_children if key[:2] == (service, version)]:
            del self._call_children[key]

    def exposition(self) -> bytes:
        """Every series in Prometheus' text format."""
        return generate_latest(self.registry)
