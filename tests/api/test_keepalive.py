"""A keep-alive connection to a server started as users start it answers without stalls.

A response written in two parts on a socket without TCP_NODELAY waits for the client's delayed
ACK (~40 ms on Linux): 50 calls would then take over 2 s instead of a few milliseconds each.
"""

from __future__ import annotations

import http.client
import time
from urllib.parse import urlsplit

from tests.harness import Server

CALLS = 50
BUDGET_SECONDS = 0.5


def _sequential_seconds(server: Server, path: str, headers: dict[str, str]) -> float:
    address = urlsplit(server.url)
    connection = http.client.HTTPConnection(address.hostname or "", address.port, timeout=10)
    try:
        connection.request("GET", path, headers=headers)  # connect and warm up first
        connection.getresponse().read()
        started = time.perf_counter()
        for _ in range(CALLS):
            connection.request("GET", path, headers=headers)
            response = connection.getresponse()
            response.read()
            assert response.status == 200
        return time.perf_counter() - started
    finally:
        connection.close()


def test_health_on_one_connection_has_no_delayed_ack_stall(server: Server) -> None:
    assert server.own_socket, "this test is about the socket `o16n serve` binds itself"
    assert _sequential_seconds(server, "/health", {}) < BUDGET_SECONDS


def test_authenticated_json_on_one_connection_has_no_delayed_ack_stall(
    server: Server, admin_token: str
) -> None:
    headers = {"Authorization": f"Bearer {admin_token}"}
    assert _sequential_seconds(server, "/status", headers) < BUDGET_SECONDS
