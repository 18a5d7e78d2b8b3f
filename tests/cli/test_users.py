"""`o16n users …`: account administration, with the server running and without one."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import httpx

from tests.harness import Server, assert_error, run_o16n, unique_name

PASSWORD = "Cli-Pass-12345"
NEW_PASSWORD = "Cli-Pass-67890"


def _login(server: Server, username: str, password: str) -> httpx.Response:
    return httpx.post(
        f"{server.url}/login", json={"username": username, "password": password}, timeout=30
    )


def _add(server: Server, name: str, role: str = "Reader") -> None:
    result = server.cli("users", "add", name, "--role", role, "--password", PASSWORD)
    assert result.returncode == 0, result.stderr


def _listed(server: Server) -> list[str]:
    result = server.cli("users", "list")
    assert result.returncode == 0, result.stderr
    return result.stdout.splitlines()


def test_add_with_password_flag_then_login(uncached_server: Server) -> None:
    name = unique_name("flag")
    result = uncached_server.cli(
        "users", "add", name, "--role", "Contributor", "--password", PASSWORD
    )
    assert result.returncode == 0, result.stderr
    assert name in result.stdout
    assert _login(uncached_server, name, PASSWORD).status_code == 200


def test_add_with_prompted_password(uncached_server: Server) -> None:
    name = unique_name("prompted")
    result = run_o16n(
        "users",
        "add",
        name,
        "--role",
        "Reader",
        env={"O16N_DATA_DIR": str(uncached_server.data_dir)},
        input_text=f"{PASSWORD}\n{PASSWORD}\n",
    )
    assert result.returncode == 0, result.stderr
    assert PASSWORD not in result.stdout
    assert _login(uncached_server, name, PASSWORD).status_code == 200


def test_add_with_mismatched_confirmation_creates_nobody(uncached_server: Server) -> None:
    name = unique_name("mismatch")
    result = run_o16n(
        "users",
        "add",
        name,
        "--role",
        "Reader",
        env={"O16N_DATA_DIR": str(uncached_server.data_dir)},
        input_text=f"{PASSWORD}\n{NEW_PASSWORD}\n",
    )
    assert result.returncode != 0
    assert not any(line.startswith(f"{name}\t") for line in _listed(uncached_server))


def test_list_shows_names_and_roles(uncached_server: Server) -> None:
    reader, nobody = unique_name("lister"), unique_name("roleless")
    _add(uncached_server, reader, "Reader")
    _add(uncached_server, nobody, "none")
    lines = _listed(uncached_server)
    assert f"{reader}\tReader" in lines
    assert f"{nobody}\tnone" in lines
    assert "admin\tOwner" in lines


def test_set_password_replaces_it_and_revokes_tokens(uncached_server: Server) -> None:
    name = unique_name("rotate")
    _add(uncached_server, name)
    pair = uncached_server.login(name, PASSWORD)
    with uncached_server.client(str(pair["access_token"])) as client:
        assert client.get("/status").status_code == 200
        result = uncached_server.cli("users", "set-password", name, "--password", NEW_PASSWORD)
        assert result.returncode == 0, result.stderr
        assert_error(client.get("/status"), 401)
    assert_error(_login(uncached_server, name, PASSWORD), 401)
    assert _login(uncached_server, name, NEW_PASSWORD).status_code == 200
    refreshed = httpx.post(
        f"{uncached_server.url}/login/refreshToken",
        json={"refreshToken": pair["refresh_token"]},
        timeout=30,
    )
    assert_error(refreshed, 401)


def test_set_password_of_unknown_user_fails(uncached_server: Server) -> None:
    result = uncached_server.cli(
        "users", "set-password", unique_name("ghost"), "--password", NEW_PASSWORD
    )
    assert result.returncode != 0
    assert "no user" in result.stderr
    assert "Traceback" not in result.stderr


def test_remove_ends_login_and_tokens(uncached_server: Server) -> None:
    name = unique_name("leaver")
    _add(uncached_server, name)
    pair = uncached_server.login(name, PASSWORD)
    with uncached_server.client(str(pair["access_token"])) as client:
        assert client.get("/status").status_code == 200
        result = uncached_server.cli("users", "remove", name)
        assert result.returncode == 0, result.stderr
        assert_error(client.get("/status"), 401)
    assert_error(_login(uncached_server, name, PASSWORD), 401)
    refreshed = httpx.post(
        f"{uncached_server.url}/login/refreshToken",
        json={"refreshToken": pair["refresh_token"]},
        timeout=30,
    )
    assert_error(refreshed, 401)
    assert not any(line.startswith(f"{name}\t") for line in _listed(uncached_server))


def test_removed_name_can_be_added_again_without_old_tokens(uncached_server: Server) -> None:
    name = unique_name("again")
    _add(uncached_server, name)
    old_token = uncached_server.token(name, PASSWORD)
    assert uncached_server.cli("users", "remove", name).returncode == 0
    _add(uncached_server, name)
    with uncached_server.client(old_token) as client:
        assert_error(client.get("/status"), 401)
    assert _login(uncached_server, name, PASSWORD).status_code == 200


def test_duplicate_add_fails_clearly(uncached_server: Server) -> None:
    name = unique_name("twice")
    _add(uncached_server, name)
    result = uncached_server.cli("users", "add", name, "--role", "Owner", "--password", PASSWORD)
    assert result.returncode != 0
    assert name in result.stderr and "exists" in result.stderr
    assert "Traceback" not in result.stderr
    assert f"{name}\tReader" in _listed(uncached_server)


def test_unknown_role_fails(uncached_server: Server) -> None:
    name = unique_name("badrole")
    result = uncached_server.cli("users", "add", name, "--role", "Admin", "--password", PASSWORD)
    assert result.returncode != 0
    assert "--role" in result.stderr
    assert not any(line.startswith(f"{name}\t") for line in _listed(uncached_server))


def test_short_password_fails_with_message(uncached_server: Server) -> None:
    name = unique_name("short")
    result = uncached_server.cli("users", "add", name, "--role", "Reader", "--password", "1234567")
    assert result.returncode != 0
    assert "at least 8" in result.stderr
    assert "Traceback" not in result.stderr
    assert not any(line.startswith(f"{name}\t") for line in _listed(uncached_server))


def test_invalid_username_fails_with_message(uncached_server: Server) -> None:
    result = uncached_server.cli(
        "users", "add", "bad name!", "--role", "Reader", "--password", PASSWORD
    )
    assert result.returncode != 0
    assert "username" in result.stderr
    assert "Traceback" not in result.stderr


def test_cli_without_a_server_creates_the_database(
    tmp_path: Path, start_server: Callable[..., Server]
) -> None:
    data_dir = tmp_path / "offline"
    added = run_o16n(
        "users",
        "add",
        "carol",
        "--role",
        "Owner",
        "--password",
        PASSWORD,
        "--data-dir",
        str(data_dir),
    )
    assert added.returncode == 0, added.stderr
    assert (data_dir / "o16n.db").is_file()
    listed = run_o16n("users", "list", env={"O16N_DATA_DIR": str(data_dir)})
    assert listed.returncode == 0, listed.stderr
    assert "carol\tOwner" in listed.stdout.splitlines()
    running = start_server(data_dir=data_dir)
    assert _login(running, "carol", PASSWORD).status_code == 200


def test_users_list_as_json(server: Server) -> None:
    name = unique_name("json")
    _add(server, name, "Contributor")
    result = server.cli("users", "list", "--json")
    assert result.returncode == 0, result.stderr
    listed = json.loads(result.stdout)
    assert {"username": name, "role": "Contributor"} in listed
    assert {"username": "admin", "role": "Owner"} in listed
