"""Logging in, and refreshing the token pair before it expires."""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx

from o16n.client import Client
from tests.harness import ADMIN_PASSWORD, Server

WAIT_SECONDS = 15.0


def rejected(server: Server, token: str) -> bool:
    response = httpx.get(
        f"{server.url}/status", headers={"Authorization": f"Bearer {token}"}, timeout=10
    )
    return response.status_code == 401


def test_the_client_refreshes_an_expiring_token(start_server: Callable[..., Server]) -> None:
    server = start_server(O16N_ACCESS_TOKEN_SECONDS="2", O16N_AUTH_CACHE_SECONDS="0")
    with Client(server.url, username="admin", password=ADMIN_PASSWORD) as client:
        first = client.access_token
        assert client.services() == []
        deadline = time.monotonic() + WAIT_SECONDS
        while not rejected(server, first):
            assert time.monotonic() < deadline, "the access token never expired"
            time.sleep(0.2)
        assert client.services() == []
        second = client.access_token
        assert second != first
        client.refresh()
        assert client.access_token not in {first, second}
        assert client.services() == []


def test_a_given_token_is_used_as_is(server: Server) -> None:
    token = server.token()
    with Client(server.url, token=token) as client:
        client.services()
        assert client.access_token == token
