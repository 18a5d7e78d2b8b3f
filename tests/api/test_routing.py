"""Unknown routes and wrong methods answer with the JSON error shape."""

from __future__ import annotations

import httpx

from tests.harness import Server, assert_error


def test_unknown_route_is_404_json(server: Server) -> None:
    response = httpx.get(f"{server.url}/no/such/route", timeout=30)
    body = assert_error(response, 404)
    assert "/no/such/route" in str(body["message"])


def test_unknown_route_with_token_is_404_json(server: Server, admin_token: str) -> None:
    with server.client(admin_token) as client:
        assert_error(client.post("/no-such-thing", json={}), 404)


def test_get_on_login_is_405_json(server: Server) -> None:
    response = httpx.get(f"{server.url}/login", timeout=30)
    assert_error(response, 405)


def test_405_names_the_allowed_methods(server: Server) -> None:
    response = httpx.get(f"{server.url}/login", timeout=30)
    assert response.status_code == 405
    allowed = {m.strip().upper() for m in response.headers.get("allow", "").split(",")}
    assert "POST" in allowed, response.headers


def test_405_on_refresh_token_names_both_methods(server: Server) -> None:
    response = httpx.put(f"{server.url}/login/refreshToken", json={}, timeout=30)
    assert_error(response, 405)
    allowed = {m.strip().upper() for m in response.headers.get("allow", "").split(",")}
    assert {"POST", "DELETE"} <= allowed, response.headers


def test_success_responses_carry_a_request_id(server: Server) -> None:
    first = httpx.get(f"{server.url}/health", timeout=30)
    second = httpx.get(f"{server.url}/health", timeout=30)
    assert first.headers.get("x-request-id")
    assert first.headers["x-request-id"] != second.headers.get("x-request-id")


def test_every_answer_has_exactly_one_request_id(server: Server, admin_token: str) -> None:
    with httpx.Client(base_url=server.url, timeout=30) as client:
        answers = {
            "200": client.get("/health"),
            "400": client.post("/login", json={}),
            "401": client.get("/status"),
            "404": client.get("/no/such/route"),
            "405": client.get("/login"),
        }
    for status, response in answers.items():
        assert str(response.status_code) == status
        assert len(response.headers.get_list("x-request-id")) == 1, (status, response.headers)
