"""Consume calls answered by the HTTP protocol itself (api.consume_lane) keep HTTP/1.1's rules:
pipelined requests answered in order (mixed with requests the ASGI app answers), `Connection:
close`, `Expect: 100-continue`, a body over the limit, and the request id and access log of
every request. Raw sockets: an HTTP client library would hide what is checked here.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest

from tests.harness import Server
from tests.services.publishing import params, published

BODY = json.dumps({"x": 4}).encode()
HEALTHY = {"statusCode": "pass"}


@pytest.fixture(scope="module")
def doubler(server: Server, admin_token: str) -> str:
    """A published Python service answering y = 2 * x."""
    name = "LaneDoubler"
    with server.client(admin_token) as client:
        client.delete(f"/services/{name}/1")
        definitions = {
            "inputParameterDefinitions": params(x="integer"),
            "outputParameterDefinitions": params(y="integer"),
        }
        published(client, name, "1", "y = 2 * x", **definitions)
    return name


class Connection:
    """A raw HTTP/1.1 connection: send bytes, read whole responses in order."""

    def __init__(self, server: Server) -> None:
        address = urlsplit(server.url)
        self.sock = socket.create_connection((address.hostname or "", address.port or 80), 10)
        self.stream = self.sock.makefile("rb")

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def response(self) -> tuple[int, dict[str, str], bytes]:
        """Status, headers (lower-case names) and body (by Content-Length) of the next one."""
        status = int(self.stream.readline().split()[1])
        headers: dict[str, str] = {}
        while (line := self.stream.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode("latin-1").partition(":")
            headers[name.strip().lower()] = value.strip()
        return status, headers, self.stream.read(int(headers.get("content-length", "0")))

    def closed_by_server(self) -> bool:
        return self.stream.read(1) == b""

    def close(self) -> None:
        self.stream.close()
        self.sock.close()


@pytest.fixture
def connection(server: Server) -> Iterator[Connection]:
    opened = Connection(server)
    yield opened
    opened.close()


def consume_request(name: str, token: str, body: bytes = BODY, extra: str = "") -> bytes:
    head = (
        f"POST /api/{name}/1 HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n"
        f"Authorization: Bearer {token}\r\nContent-Length: {len(body)}\r\n{extra}\r\n"
    )
    return head.encode() + body


def output(body: bytes) -> object:
    return json.loads(body)["outputParameters"]["y"]


def test_pipelined_calls_are_answered_in_order_with_routed_requests_between(
    connection: Connection, doubler: str, admin_token: str
) -> None:
    bodies = [json.dumps({"x": x}).encode() for x in (1, 2, 3)]
    health = b"GET /health HTTP/1.1\r\nHost: test\r\n\r\n"
    connection.send(
        consume_request(doubler, admin_token, bodies[0])
        + health
        + consume_request(doubler, admin_token, bodies[1])
        + consume_request(doubler, admin_token, bodies[2])
    )
    first, routed, second, third = (connection.response() for _ in range(4))
    assert [first[0], routed[0], second[0], third[0]] == [200] * 4
    assert [output(first[2]), output(second[2]), output(third[2])] == [2, 4, 6]
    assert json.loads(routed[2]) == HEALTHY
    ids = {answer[1]["x-request-id"] for answer in (first, routed, second, third)}
    assert len(ids) == 4 and all(len(one) == 32 for one in ids)
    assert first[1]["content-type"] == "application/json"


def test_connection_close_is_honoured(
    connection: Connection, doubler: str, admin_token: str
) -> None:
    connection.send(consume_request(doubler, admin_token, extra="Connection: close\r\n"))
    status, headers, body = connection.response()
    assert status == 200 and output(body) == 8
    assert headers["connection"] == "close"
    assert connection.closed_by_server()


def test_expect_100_continue_gets_its_interim_response(
    connection: Connection, doubler: str, admin_token: str
) -> None:
    request = consume_request(doubler, admin_token, extra="Expect: 100-continue\r\n")
    head, _, body = request.partition(b"\r\n\r\n")
    connection.send(head + b"\r\n\r\n")
    assert connection.stream.readline().startswith(b"HTTP/1.1 100 ")
    assert connection.stream.readline() == b"\r\n"
    connection.send(body)
    status, _, answer = connection.response()
    assert status == 200 and output(answer) == 8


def test_errors_keep_the_json_shape_and_the_connection(
    connection: Connection, doubler: str, admin_token: str
) -> None:
    connection.send(consume_request(doubler, "forged"))
    status, headers, body = connection.response()
    assert status == 401 and headers["www-authenticate"] == "Bearer"
    assert json.loads(body)["requestId"] == headers["x-request-id"]
    connection.send(consume_request(doubler, admin_token, b'{"x": "four"}'))
    status, headers, body = connection.response()
    assert status == 400 and json.loads(body)["requestId"] == headers["x-request-id"]
    connection.send(consume_request(doubler, admin_token))
    assert connection.response()[0] == 200  # the same connection still answers
