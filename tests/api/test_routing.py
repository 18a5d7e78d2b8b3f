"""Unknown routes and wrong methods answer with the JSON error shape."""

from __future__ import annotations

import httpx
import pytest

from tests.harness import Server, assert_error


def test_unknown_route_with_token_is_404_json(server: Server, admin_token: str) -> None:
    with server.client(admin_token) as client:
        body = assert_error(client.get("/no/such/route"), 404)
        assert "/no/such/route" in str(body["message"])
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
            "404": client.get("/docs/no/such/route"),
            "405": client.get("/login"),
        }
    for status, response in answers.items():
        assert str(response.status_code) == status
        assert len(response.headers.get_list("x-request-id")) == 1, (status, response.headers)


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/nodes"),
        ("POST", "/computenodes/x"),
        ("GET", "/foo"),
        ("PUT", "/services"),
        ("DELETE", "/status"),
        ("GET", "/api/x/1.0/nothing"),
    ],
)
def test_unrouted_paths_refuse_callers_without_a_token(
    server: Server, method: str, path: str
) -> None:
    for headers in ({}, {"Authorization": "Bearer garbage"}):
        response = httpx.request(method, f"{server.url}{path}", headers=headers, timeout=30)
        assert_error(response, 401)
        assert response.headers["www-authenticate"].lower().startswith("bearer")


def test_unrouted_paths_with_a_token_are_404_or_405(server: Server, admin_token: str) -> None:
    with server.client(admin_token) as client:
        assert_error(client.get("/computenodes/x"), 404)
        assert_error(client.delete("/status"), 405)


@pytest.mark.parametrize(
    "path", ["/login/nothing", "/health/nothing", "/swagger.json/x", "/docs/nothing"]
)
def test_unrouted_paths_under_anonymous_routes_stay_404(server: Server, path: str) -> None:
    assert_error(httpx.get(f"{server.url}{path}", timeout=30), 404)
