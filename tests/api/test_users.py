"""The users API (an o16n extension) over HTTP on a real server: Owners only, creating an
account that can then log in, bad input naming its field, an Owner keeping their own account,
and a deleted or re-passworded account losing its logins."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.harness import ADMIN_PASSWORD, Server, assert_error, unique_name

PASSWORD = "Users-Pass-1234"
NEW_PASSWORD = "Users-Pass-5678"


def _login(server: Server, username: str, password: str) -> httpx.Response:
    return httpx.post(
        f"{server.url}/login", json={"username": username, "password": password}, timeout=30
    )


def _renew(server: Server, refresh_token: str) -> httpx.Response:
    return httpx.post(
        f"{server.url}/login/refreshToken", json={"refreshToken": refresh_token}, timeout=30
    )


@pytest.fixture
def owner(server: Server, admin_token: str) -> Iterator[httpx.Client]:
    """The admin's client."""
    with server.client(admin_token) as client:
        yield client


def _create(owner: httpx.Client, role: str | None, prefix: str = "user") -> str:
    name = unique_name(prefix)
    created = owner.post("/users", json={"username": name, "password": PASSWORD, "role": role})
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["username"] == name and body["role"] == role and body["source"] == "local"
    assert body["created"]
    return name


@pytest.mark.parametrize("role", ["Contributor", "Reader"])
def test_only_owners_may_manage_users(server: Server, owner: httpx.Client, role: str) -> None:
    name = _create(owner, role)
    with server.client(server.token(name, PASSWORD)) as client:
        assert_error(client.get("/users"), 403)
        assert_error(client.post("/users", json={}), 403)
        assert_error(client.patch(f"/users/{name}", json={"role": "Owner"}), 403)
        assert_error(client.delete(f"/users/{name}"), 403)
    with server.client() as anonymous:
        assert_error(anonymous.get("/users"), 401)
        assert_error(anonymous.delete(f"/users/{name}"), 401)


def test_a_created_account_is_listed_and_logs_in(server: Server, owner: httpx.Client) -> None:
    name = _create(owner, "Reader")
    listed = owner.get("/users")
    assert listed.status_code == 200, listed.text
    by_name = {user["username"]: user for user in listed.json()}
    assert by_name[name]["role"] == "Reader"
    assert by_name["admin"]["role"] == "Owner" and by_name["admin"]["source"] == "local"
    with server.client(server.token(name, PASSWORD)) as client:
        assert client.get("/status").status_code == 200
    assert_error(
        owner.post("/users", json={"username": name, "password": PASSWORD, "role": "Owner"}),
        409,
        "username",
    )


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"password": PASSWORD, "role": "Reader"}, "username"),
        ({"username": "bad name!", "password": PASSWORD, "role": "Reader"}, "username"),
        ({"username": "short-pass", "password": "short", "role": "Reader"}, "password"),
        ({"username": "no-role", "password": PASSWORD}, "role"),
        ({"username": "boss", "password": PASSWORD, "role": "Boss"}, "role"),
    ],
)
def test_bad_input_names_its_field(
    owner: httpx.Client, body: dict[str, object], field: str
) -> None:
    assert_error(owner.post("/users", json=body), 400, field)


def test_role_and_password_change(server: Server, owner: httpx.Client) -> None:
    name = _create(owner, "Reader")
    refresh = str(server.login(name, PASSWORD)["refresh_token"])
    changed = owner.patch(f"/users/{name}", json={"role": "Contributor"})
    assert changed.status_code == 200, changed.text
    assert changed.json()["role"] == "Contributor"
    assert_error(owner.patch(f"/users/{name}", json={"password": "short"}), 400, "password")
    assert_error(owner.patch("/users/nobody-at-all", json={"role": "Reader"}), 404, "username")
    reset = owner.patch(f"/users/{name}", json={"password": NEW_PASSWORD, "role": None})
    assert reset.status_code == 200, reset.text
    assert reset.json()["role"] is None
    assert_error(_login(server, name, PASSWORD), 401)
    assert _login(server, name, NEW_PASSWORD).status_code == 200
    assert_error(_renew(server, refresh), 401)


def test_an_owner_keeps_their_own_account(server: Server, owner: httpx.Client) -> None:
    body = assert_error(owner.patch("/users/admin", json={"role": "Reader"}), 409, "role")
    assert "your own account" in str(body["message"])
    assert_error(owner.delete("/users/admin"), 409, "username")
    assert owner.patch("/users/admin", json={"role": "Owner"}).status_code == 200
    assert _login(server, "admin", ADMIN_PASSWORD).status_code == 200
    assert owner.get("/users").status_code == 200


def test_another_owner_may_delete_an_owner_then_it_cannot_log_in(
    server: Server, owner: httpx.Client
) -> None:
    name = _create(owner, "Owner", "second-owner")
    with server.client(server.token(name, PASSWORD)) as second:
        other = _create(second, "Reader")
        refresh = str(server.login(other, PASSWORD)["refresh_token"])
        deleted = second.delete(f"/users/{other}")
        assert deleted.status_code == 204, deleted.text
    assert_error(_login(server, other, PASSWORD), 401)
    assert_error(_renew(server, refresh), 401)
    assert owner.delete(f"/users/{name}").status_code == 204
    assert_error(_login(server, name, PASSWORD), 401)
    assert_error(owner.delete(f"/users/{name}"), 404, "username")
    assert name not in {user["username"] for user in owner.get("/users").json()}


def test_documented_in_the_servers_own_document(server: Server) -> None:
    document = httpx.get(f"{server.url}/swagger.json", timeout=30).json()
    assert set(document["paths"]["/users"]) == {"get", "post"}
    assert set(document["paths"]["/users/{username}"]) == {"patch", "delete"}
    assert document["paths"]["/users"]["get"]["security"] == [{"Bearer": []}]
