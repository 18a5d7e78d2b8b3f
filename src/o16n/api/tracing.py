"""Optional OpenTelemetry tracing: one server span per request, W3C `traceparent` in and out.

A request's span continues the trace its `traceparent` header names (else starts one); the
response carries the span's own `traceparent`, and the span carries the request id o16n gives
every request (`o16n.request_id`), so a trace and the access log meet. Spans go to an OTLP/HTTP
collector in batches, off the event loop (the SDK's exporter thread).
"""

from __future__ import annotations

from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
from starlette.types import ASGIApp, Message, Receive, Scope, Send

_PROPAGATOR = TraceContextTextMapPropagator()


def tracer_provider(endpoint: str, service_name: str) -> TracerProvider:
    """Spans exported to the OTLP/HTTP `endpoint` (…/v1/traces), named for `service_name`."""
    provider = TracerProvider(resource=Resource.create({"service.name": service_name}))
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=endpoint)))
    return provider


class Tracing:
    """Pure ASGI middleware: a server span around each HTTP request."""

    def __init__(self, app: ASGIApp, provider: TracerProvider) -> None:
        self._app = app
        self._tracer = provider.get_tracer("o16n")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Trace one HTTP request; other scopes pass through."""
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        carrier = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        parent = _PROPAGATOR.extract(carrier)
        with self._tracer.start_as_current_span(
            f"{scope['method']} {scope['path']}", context=parent, kind=trace.SpanKind.SERVER
        ) as span:
            span.set_attribute("http.request.method", scope["method"])
            span.set_attribute("url.path", scope["path"])
            span.set_attribute("o16n.request_id", str(scope["state"].get("request_id", "")))

            async def send_traced(message: Message) -> None:
                if message["type"] == "http.response.start":
                    span.set_attribute("http.response.status_code", message["status"])
                    headers: dict[str, str] = {}
                    _PROPAGATOR.inject(headers)
                    extra = [(k.encode(), v.encode()) for k, v in headers.items()]
                    message = {**message, "headers": [*message.get("headers", []), *extra]}
                await send(message)

            await self._app(scope, receive, send_traced)
            route = scope["state"].get("route")
            if route:
                span.update_name(f"{scope['method']} {route}")
