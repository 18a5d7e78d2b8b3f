"""Services tests share the session server; they leave it without their sessions or services."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.harness import Server


@pytest.fixture(autouse=True)
def close_every_session(server: Server, admin_token: str) -> Iterator[None]:
    """After the test, an Owner closes every session on the shared server."""
    yield
    with server.client(admin_token) as client:
        response = client.get("/sessions")
        if response.status_code == 200:
            for session in response.json():
                client.delete(f"/sessions/{session['id']}/force")
