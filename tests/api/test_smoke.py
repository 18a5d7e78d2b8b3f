"""The shared server answers health and status."""

from __future__ import annotations

from tests.harness import Server


def test_status_with_token(server: Server, admin_token: str) -> None:
    with server.client(admin_token) as client:
        response = client.get("/status")
    assert response.status_code == 200
    assert response.json()["statusCode"] == "pass"
    assert response.json()["components"]["database"]["details"]["type"] == "sqlite"
