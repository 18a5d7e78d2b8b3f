"""POST /login: the token pair, credential failures and request-body validation (reference §3.1)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import httpx

from tests.harness import ADMIN_PASSWORD, Server, assert_error, unique_name

TOKEN_MEMBERS = {"token_type", "access_token", "expires_in", "expires_on", "refresh_token"}


def _post_login(
    server: Server,
    *,
    json: object = None,
    content: bytes | str | Iterator[bytes] | None = None,
    data: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    return httpx.post(
        f"{server.url}/login", json=json, content=content, data=data, headers=headers, timeout=30
    )


def test_login_returns_all_five_token_members(server: Server) -> None:
    sent_at = time.time()
    response = _post_login(server, json={"username": "admin", "password": ADMIN_PASSWORD})
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == TOKEN_MEMBERS
    assert body["token_type"] == "Bearer"
    assert isinstance(body["access_token"], str) and body["access_token"]
    assert isinstance(body["refresh_token"], str) and body["refresh_token"]
    assert body["access_token"] != body["refresh_token"]
    assert type(body["expires_in"]) is int and body["expires_in"] > 0
    assert type(body["expires_on"]) is int
    assert abs(body["expires_on"] - (sent_at + body["expires_in"])) <= 5


def test_login_response_is_not_cacheable(server: Server) -> None:
    response = _post_login(server, json={"username": "admin", "password": ADMIN_PASSWORD})
    assert response.status_code == 200
    assert "no-store" in response.headers.get("cache-control", "")


def test_access_token_lives_at_least_expires_in_from_the_request(server: Server) -> None:
    sent_at = time.time()
    body = server.login()
    assert isinstance(body["expires_in"], int) and isinstance(body["expires_on"], int)
    assert body["expires_on"] >= sent_at + body["expires_in"], (
        f"token expires at {body['expires_on']}, earlier than request time {sent_at:.3f} "
        f"+ expires_in {body['expires_in']}"
    )


def test_each_login_issues_a_distinct_pair(server: Server) -> None:
    first, second = server.login(), server.login()
    assert first["access_token"] != second["access_token"]
    assert first["refresh_token"] != second["refresh_token"]


def test_issued_access_token_opens_status(server: Server) -> None:
    with server.client(server.token()) as client:
        assert client.get("/status").status_code == 200


def test_wrong_password_is_401_with_error_shape(server: Server) -> None:
    response = _post_login(server, json={"username": "admin", "password": "not-the-password"})
    body = assert_error(response, 401)
    assert "password" not in str(body.get("field", ""))
    assert "access_token" not in response.text


def test_unknown_user_gets_same_message_as_wrong_password(server: Server) -> None:
    wrong = _post_login(server, json={"username": "admin", "password": "not-the-password"})
    unknown = _post_login(
        server, json={"username": unique_name("nobody"), "password": "not-the-password"}
    )
    wrong_body = assert_error(wrong, 401)
    unknown_body = assert_error(unknown, 401)
    assert unknown_body["message"] == wrong_body["message"]
    assert unknown_body["errorCode"] == wrong_body["errorCode"]
    assert unknown_body["exceptionType"] == wrong_body["exceptionType"]
    assert wrong_body["requestId"] != unknown_body["requestId"]


def test_missing_password_is_400_naming_it(server: Server) -> None:
    assert_error(_post_login(server, json={"username": "admin"}), 400, field="password")


def test_missing_username_is_400_naming_it(server: Server) -> None:
    assert_error(_post_login(server, json={"password": ADMIN_PASSWORD}), 400, field="username")


def test_empty_username_is_400_naming_it(server: Server) -> None:
    response = _post_login(server, json={"username": "", "password": ADMIN_PASSWORD})
    assert_error(response, 400, field="username")


def test_non_string_password_is_400_naming_it(server: Server) -> None:
    response = _post_login(server, json={"username": "admin", "password": 12345678})
    assert_error(response, 400, field="password")


def test_malformed_json_is_400(server: Server) -> None:
    response = _post_login(
        server,
        content=b'{"username": "admin", "password": ',
        headers={"Content-Type": "application/json"},
    )
    assert_error(response, 400, field="body")


def test_a_body_that_is_not_an_object_is_400_naming_the_body(server: Server) -> None:
    for body in ([], "admin", 0):
        assert_error(_post_login(server, json=body), 400, field="body")
    unnamed = {"username": "admin", "password": "wrong-password", "": None}
    assert_error(_post_login(server, json=unnamed), 400, field="body")


def test_invalid_utf8_body_is_400(server: Server) -> None:
    response = _post_login(
        server, content=b'{"username": "\xff\xfe"}', headers={"Content-Type": "application/json"}
    )
    assert_error(response, 400, field="body")


def test_form_body_is_415(server: Server) -> None:
    response = _post_login(server, data={"username": "admin", "password": ADMIN_PASSWORD})
    assert_error(response, 415)


def test_missing_content_type_is_415(server: Server) -> None:
    response = _post_login(server, content=f'{{"username":"admin","password":"{ADMIN_PASSWORD}"}}')
    assert_error(response, 415)


def test_json_content_type_with_charset_is_accepted(server: Server) -> None:
    response = _post_login(
        server,
        content=f'{{"username":"admin","password":"{ADMIN_PASSWORD}"}}'.encode(),
        headers={"Content-Type": "application/json; charset=utf-8"},
    )
    assert response.status_code == 200, response.text


def test_json_array_body_is_400(server: Server) -> None:
    assert_error(_post_login(server, json=["admin", ADMIN_PASSWORD]), 400)


def test_json_string_body_is_400(server: Server) -> None:
    assert_error(_post_login(server, json="admin"), 400)


def test_members_bind_case_insensitively(server: Server) -> None:
    response = _post_login(server, json={"UserName": "admin", "PassWord": ADMIN_PASSWORD})
    assert response.status_code == 200, response.text
    assert response.json()["token_type"] == "Bearer"


def test_unknown_extra_member_is_400_naming_it(server: Server) -> None:
    response = _post_login(
        server, json={"username": "admin", "password": ADMIN_PASSWORD, "tenant": "x"}
    )
    body = assert_error(response, 400, field="tenant")
    assert "tenant" in str(body["message"])


def _chunks(payload: bytes) -> Iterator[bytes]:
    for start in range(0, len(payload), 1024):
        yield payload[start : start + 1024]


def test_oversized_body_is_413(start_server: Callable[..., Server]) -> None:
    small = start_server(O16N_MAX_JSON_BYTES="2048")
    padding = "x" * 4096
    declared = _post_login(small, json={"username": "admin", "password": padding})
    assert_error(declared, 413)
    streamed = _post_login(
        small,
        content=_chunks(f'{{"username":"admin","password":"{padding}"}}'.encode()),
        headers={"Content-Type": "application/json"},
    )
    assert "content-length" not in streamed.request.headers
    assert_error(streamed, 413)
    just_fits = _post_login(small, json={"username": "admin", "password": ADMIN_PASSWORD})
    assert just_fits.status_code == 200, just_fits.text
