"""Token lifecycle: expiry, refresh rotation with reuse detection, revocation (reference §3)."""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx

from tests.harness import Server, assert_error

EXPIRY_DEADLINE_SECONDS = 15.0


def _status(server: Server, access_token: object) -> int:
    with server.client(str(access_token)) as client:
        return client.get("/status").status_code


def _refresh(server: Server, refresh_token: object) -> httpx.Response:
    return httpx.post(
        f"{server.url}/login/refreshToken", json={"refreshToken": refresh_token}, timeout=30
    )


def _revoke(server: Server, refresh_token: object) -> httpx.Response:
    return httpx.delete(
        f"{server.url}/login/refreshToken", params={"refreshToken": str(refresh_token)}, timeout=30
    )


def test_access_token_expires(start_server: Callable[..., Server]) -> None:
    short = start_server(O16N_ACCESS_TOKEN_SECONDS="2", O16N_AUTH_CACHE_SECONDS="0")
    body = short.login()
    assert body["expires_in"] == 2
    assert _status(short, body["access_token"]) == 200
    expires_on = body["expires_on"]
    assert isinstance(expires_on, int)
    deadline = time.monotonic() + EXPIRY_DEADLINE_SECONDS
    while time.time() <= expires_on + 0.05 and time.monotonic() < deadline:
        time.sleep(0.1)
    with short.client(str(body["access_token"])) as client:
        response = client.get("/status")
    assert_error(response, 401)
    assert response.headers.get("www-authenticate", "").lower().startswith("bearer")


def test_refresh_returns_a_new_pair(uncached_server: Server) -> None:
    first = uncached_server.login()
    response = _refresh(uncached_server, first["refresh_token"])
    assert response.status_code == 200, response.text
    second = response.json()
    assert set(second) == set(first)
    assert second["token_type"] == "Bearer"
    assert isinstance(second["expires_in"], int) and isinstance(second["expires_on"], int)
    assert second["refresh_token"] != first["refresh_token"]
    assert second["access_token"] != first["access_token"]
    assert _status(uncached_server, second["access_token"]) == 200


def test_refresh_binds_member_case_insensitively(uncached_server: Server) -> None:
    first = uncached_server.login()
    response = httpx.post(
        f"{uncached_server.url}/login/refreshToken",
        json={"RefreshToken": first["refresh_token"]},
        timeout=30,
    )
    assert response.status_code == 200, response.text


def test_refresh_invalidates_the_previous_access_token(uncached_server: Server) -> None:
    first = uncached_server.login()
    assert _status(uncached_server, first["access_token"]) == 200
    second = _refresh(uncached_server, first["refresh_token"]).json()
    with uncached_server.client(str(first["access_token"])) as client:
        assert_error(client.get("/status"), 401)
    assert _status(uncached_server, second["access_token"]) == 200


def test_reusing_a_rotated_refresh_token_revokes_the_family(uncached_server: Server) -> None:
    first = uncached_server.login()
    second = _refresh(uncached_server, first["refresh_token"]).json()
    third = _refresh(uncached_server, second["refresh_token"]).json()
    assert _status(uncached_server, third["access_token"]) == 200
    assert_error(_refresh(uncached_server, first["refresh_token"]), 401)
    assert _status(uncached_server, third["access_token"]) == 401
    assert_error(_refresh(uncached_server, third["refresh_token"]), 401)


def test_reuse_does_not_touch_other_logins(uncached_server: Server) -> None:
    victim = uncached_server.login()
    bystander = uncached_server.login()
    _refresh(uncached_server, victim["refresh_token"])
    assert_error(_refresh(uncached_server, victim["refresh_token"]), 401)
    assert _status(uncached_server, bystander["access_token"]) == 200
    assert _refresh(uncached_server, bystander["refresh_token"]).status_code == 200


def test_unknown_refresh_token_is_401(uncached_server: Server) -> None:
    assert_error(_refresh(uncached_server, "not-a-refresh-token"), 401)


def test_access_token_is_not_a_refresh_token(uncached_server: Server) -> None:
    pair = uncached_server.login()
    assert_error(_refresh(uncached_server, pair["access_token"]), 401)


def test_refresh_without_member_is_400_naming_it(uncached_server: Server) -> None:
    response = httpx.post(f"{uncached_server.url}/login/refreshToken", json={}, timeout=30)
    assert_error(response, 400, field="refreshToken")


def test_revoke_without_authorization_is_200(uncached_server: Server) -> None:
    pair = uncached_server.login()
    response = _revoke(uncached_server, pair["refresh_token"])
    assert response.status_code == 200, response.text
    assert "authorization" not in response.request.headers


def test_revoked_refresh_token_cannot_refresh(uncached_server: Server) -> None:
    pair = uncached_server.login()
    assert _revoke(uncached_server, pair["refresh_token"]).status_code == 200
    assert_error(_refresh(uncached_server, pair["refresh_token"]), 401)


def test_revoke_kills_the_access_token_of_its_pair(uncached_server: Server) -> None:
    pair = uncached_server.login()
    other = uncached_server.login()
    assert _status(uncached_server, pair["access_token"]) == 200
    assert _revoke(uncached_server, pair["refresh_token"]).status_code == 200
    with uncached_server.client(str(pair["access_token"])) as client:
        assert_error(client.get("/status"), 401)
    assert _status(uncached_server, other["access_token"]) == 200


def test_revoke_accepts_a_json_content_type_without_body(uncached_server: Server) -> None:
    pair = uncached_server.login()
    response = httpx.delete(
        f"{uncached_server.url}/login/refreshToken",
        params={"refreshToken": str(pair["refresh_token"])},
        headers={"Content-Type": "application/json", "Accept": "application/json"},
        timeout=30,
    )
    assert response.status_code == 200, response.text


def test_revoke_unknown_refresh_token_is_401(uncached_server: Server) -> None:
    assert_error(_revoke(uncached_server, "not-a-refresh-token"), 401)


def test_revoke_without_query_parameter_is_400_naming_it(uncached_server: Server) -> None:
    response = httpx.delete(f"{uncached_server.url}/login/refreshToken", timeout=30)
    body = assert_error(response, 400, field="refreshToken")
    assert "refreshToken" in str(body["message"])


def test_token_from_another_server_is_refused(server: Server, uncached_server: Server) -> None:
    foreign = uncached_server.token()
    with server.client(foreign) as client:
        assert_error(client.get("/status"), 401)


def test_tampered_access_token_is_refused(server: Server) -> None:
    token = server.token()
    header, payload, signature = token.split(".")
    flipped = ("A" if signature[0] != "A" else "B") + signature[1:]
    with server.client(f"{header}.{payload}.{flipped}") as client:
        assert_error(client.get("/status"), 401)
