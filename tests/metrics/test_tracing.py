"""OpenTelemetry: spans of a server with O16N_OTEL_ENDPOINT reach an OTLP/HTTP receiver, and
the W3C `traceparent` goes in and out (the receiver decodes what the exporter sends)."""

from __future__ import annotations

import secrets
import shutil
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import httpx
import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.trace.v1.trace_pb2 import Span

from tests.harness import Server, traversable_tmp_dir


class _Receiver(BaseHTTPRequestHandler):
    spans: ClassVar[list[Span]] = []

    def do_POST(self) -> None:
        """One export: keep its spans."""
        length = int(self.headers.get("Content-Length", "0"))
        request = ExportTraceServiceRequest.FromString(self.rfile.read(length))
        for resource in request.resource_spans:
            for scope in resource.scope_spans:
                self.spans.extend(scope.spans)
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.end_headers()

    def log_message(self, *_: object) -> None:
        """Quiet."""


@pytest.fixture(scope="module")
def receiver() -> Iterator[ThreadingHTTPServer]:
    """An OTLP/HTTP trace receiver on 127.0.0.1."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def _attributes(span: Span) -> dict[str, object]:
    found: dict[str, object] = {}
    for item in span.attributes:
        value = item.value
        found[item.key] = value.string_value or value.int_value
    return found


def test_a_request_is_a_span_of_the_callers_trace(receiver: ThreadingHTTPServer) -> None:
    root = traversable_tmp_dir("o16n-otel-")
    endpoint = f"http://127.0.0.1:{receiver.server_address[1]}/v1/traces"
    settings = {"O16N_OTEL_ENDPOINT": endpoint, "OTEL_BSP_SCHEDULE_DELAY": "100"}
    server = Server(root / "data", env=settings, own_socket=True).start()
    try:
        trace_id, parent_id = secrets.token_hex(16), secrets.token_hex(8)
        sent = f"00-{trace_id}-{parent_id}-01"
        headers = {"traceparent": sent, "Authorization": f"Bearer {server.token()}"}
        response = httpx.get(f"{server.url}/status", headers=headers, timeout=30)
        assert response.status_code == 200
        version, returned_trace, span_id, _ = response.headers["traceparent"].split("-")
        assert (version, returned_trace) == ("00", trace_id) and span_id != parent_id
        deadline = time.monotonic() + 10
        while not (mine := [s for s in _Receiver.spans if s.span_id.hex() == span_id]):
            assert time.monotonic() < deadline, "the span did not reach the receiver"
            time.sleep(0.1)
        [span] = mine
        assert span.trace_id.hex() == trace_id and span.parent_span_id.hex() == parent_id
        assert span.name == "GET /status"
        attributes = _attributes(span)
        assert attributes["o16n.request_id"] == response.headers["x-request-id"]
        assert attributes["http.response.status_code"] == 200
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)
