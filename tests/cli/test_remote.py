"""The remote commands (login, services, call, sessions, snapshots), run as a subprocess."""

from __future__ import annotations

import json
import stat
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.harness import ADMIN_PASSWORD, Server, run_o16n
from tests.services.publishing import open_session, params, published, service_name, take_snapshot

OK, SERVER_ERROR, USAGE, UNAUTHENTICATED = 0, 1, 2, 3


def o16n(
    config_dir: Path, *args: str, input_text: str | None = None
) -> subprocess.CompletedProcess[str]:
    """`o16n ARGS` with its login kept in `config_dir` (through the environment variable)."""
    env = {"O16N_CLIENT_CONFIG_DIR": str(config_dir), "COLUMNS": "250"}
    return run_o16n(*args, env=env, input_text=input_text, timeout=60)


def parsed(result: subprocess.CompletedProcess[str]) -> object:
    """The JSON a successful command printed."""
    assert result.returncode == OK, result.stderr
    value: object = json.loads(result.stdout)
    return value


@pytest.fixture(scope="module")
def logged_in(server: Server, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A config directory holding the admin's login to the shared server."""
    directory = tmp_path_factory.mktemp("o16n-config") / "o16n"
    result = run_o16n(
        "login",
        server.url,
        "--username",
        "admin",
        "--password",
        ADMIN_PASSWORD,
        "--config-dir",
        str(directory),
    )
    assert result.returncode == OK, result.stderr
    return directory


@pytest.fixture
def http(server: Server, admin_token: str) -> Iterator[httpx.Client]:
    with server.client(admin_token) as client:
        yield client


@pytest.fixture
def doubler(http: httpx.Client) -> Iterator[str]:
    """A published service `NAME/v1` computing y = x * 2 (deleted afterwards)."""
    name = service_name("cli")
    published(
        http,
        name,
        "v1",
        "y = x * 2",
        inputParameterDefinitions=params(x="integer"),
        outputParameterDefinitions=params(y="integer"),
        description="doubles x",
    )
    yield name
    http.delete(f"/services/{name}/v1")


def test_login_prompts_and_keeps_private_credentials(server: Server, tmp_path: Path) -> None:
    directory = tmp_path / "config" / "o16n"
    result = o16n(directory, "login", server.url, input_text=f"admin\n{ADMIN_PASSWORD}\n")
    assert result.returncode == OK, result.stderr
    assert ADMIN_PASSWORD not in result.stdout + result.stderr
    path = directory / "credentials.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(directory.stat().st_mode) == 0o700
    stored = json.loads(path.read_text())
    assert set(stored) == {"url", "access_token", "refresh_token", "expires_on"}
    assert stored["url"] == server.url
    assert isinstance(stored["access_token"], str) and stored["access_token"]
    assert isinstance(stored["refresh_token"], str) and stored["refresh_token"]
    assert parsed(o16n(directory, "services", "list", "--json")) is not None


def test_xdg_config_home_is_the_default(server: Server, tmp_path: Path) -> None:
    env = {"XDG_CONFIG_HOME": str(tmp_path), "O16N_CLIENT_CONFIG_DIR": ""}
    args = ("login", server.url, "--username", "admin", "--password", ADMIN_PASSWORD)
    result = run_o16n(*args, env=env, timeout=60)
    assert result.returncode == OK, result.stderr
    assert (tmp_path / "o16n" / "credentials.json").is_file()


def test_wrong_password_fails_with_the_servers_message(server: Server, tmp_path: Path) -> None:
    args = ("login", server.url, "--username", "admin", "--password", "wrong-password")
    result = o16n(tmp_path, *args)
    assert result.returncode == UNAUTHENTICATED
    assert result.stderr.strip()
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "credentials.json").exists()


def test_not_logged_in_exits_3(tmp_path: Path) -> None:
    for args in (("services", "list"), ("sessions", "list", "--json"), ("call", "a", "b")):
        result = o16n(tmp_path, *args)
        assert result.returncode == UNAUTHENTICATED, (args, result.stderr)
        assert "login" in result.stderr


def test_a_refused_token_exits_3(server: Server, tmp_path: Path) -> None:
    stored = {"url": server.url, "access_token": "garbage", "refresh_token": None, "expires_on": 0}
    (tmp_path / "credentials.json").write_text(json.dumps(stored))
    result = o16n(tmp_path, "snapshots", "list")
    assert result.returncode == UNAUTHENTICATED
    assert result.stderr.strip()


def test_an_expired_token_is_refreshed_and_kept(server: Server, tmp_path: Path) -> None:
    tokens = server.login()
    stored = {
        "url": server.url,
        "access_token": "expired",
        "refresh_token": tokens["refresh_token"],
        "expires_on": 0,
    }
    (tmp_path / "credentials.json").write_text(json.dumps(stored))
    assert isinstance(parsed(o16n(tmp_path, "services", "list", "--json")), list)
    renewed = json.loads((tmp_path / "credentials.json").read_text())
    assert renewed["refresh_token"] != tokens["refresh_token"]
    assert renewed["expires_on"] > 0


def test_unreachable_server_exits_1(tmp_path: Path) -> None:
    stored = {"url": "http://127.0.0.1:9", "access_token": "x", "refresh_token": None}
    (tmp_path / "credentials.json").write_text(json.dumps({**stored, "expires_on": 0}))
    result = o16n(tmp_path, "services", "list")
    assert result.returncode == SERVER_ERROR
    assert "cannot reach" in result.stderr


def test_logout_forgets_the_login(server: Server, tmp_path: Path) -> None:
    args = ("login", server.url, "--username", "admin", "--password", ADMIN_PASSWORD)
    assert o16n(tmp_path, *args).returncode == OK
    refresh = json.loads((tmp_path / "credentials.json").read_text())["refresh_token"]
    result = o16n(tmp_path, "logout")
    assert result.returncode == OK, result.stderr
    assert not (tmp_path / "credentials.json").exists()
    assert o16n(tmp_path, "services", "list").returncode == UNAUTHENTICATED
    reuse = httpx.post(f"{server.url}/login/refreshToken", json={"refreshToken": refresh})
    assert reuse.status_code == 401


def test_services_list_and_show(logged_in: Path, doubler: str) -> None:
    listed = parsed(o16n(logged_in, "services", "list", "--json"))
    assert isinstance(listed, list)
    ours = [item for item in listed if item["name"] == doubler]
    assert [item["version"] for item in ours] == ["v1"]
    assert ours[0]["inputs"] == {"x": "integer"}
    assert ours[0]["outputs"] == {"y": "integer"}

    table = o16n(logged_in, "services", "list")
    assert table.returncode == OK, table.stderr
    assert doubler in table.stdout

    shown = parsed(o16n(logged_in, "services", "show", doubler, "v1", "--json"))
    assert shown == ours[0]
    assert parsed(o16n(logged_in, "services", "show", doubler, "--json")) == shown
    text = o16n(logged_in, "services", "show", doubler, "v1")
    assert text.returncode == OK, text.stderr
    assert "doubles x" in text.stdout


def test_call_prints_what_the_service_returns(
    logged_in: Path, doubler: str, http: httpx.Client, tmp_path: Path
) -> None:
    direct = http.post(f"/api/{doubler}/v1", json={"x": 21})
    assert direct.status_code == 200, direct.text
    result = parsed(o16n(logged_in, "call", doubler, "v1", "--input", "x=21"))
    assert isinstance(result, dict)
    assert result["success"] is True
    assert result["outputParameters"] == direct.json()["outputParameters"] == {"y": 42}

    inputs = tmp_path / "inputs.json"
    inputs.write_text(json.dumps({"x": 5}))
    from_file = parsed(o16n(logged_in, "call", doubler, "v1", "--json-input", str(inputs)))
    assert isinstance(from_file, dict)
    assert from_file["outputParameters"] == {"y": 10}
    overridden = o16n(logged_in, "call", doubler, "v1", "--json-input", str(inputs), "-i", "x=1")
    assert json.loads(overridden.stdout)["outputParameters"] == {"y": 2}

    wrong_type = o16n(logged_in, "call", doubler, "v1", "--input", "x=abc")
    assert wrong_type.returncode == SERVER_ERROR
    assert "x" in wrong_type.stderr


def test_call_usage_errors_exit_2(logged_in: Path, tmp_path: Path) -> None:
    assert o16n(logged_in, "call", "a", "v1", "--input", "novalue").returncode == USAGE
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    assert o16n(logged_in, "call", "a", "v1", "--json-input", str(bad)).returncode == USAGE
    assert o16n(logged_in, "services", "delete", "only-a-name").returncode == USAGE
    assert o16n(logged_in, "login", "not-a-url").returncode == USAGE


def test_swagger_and_delete(logged_in: Path, doubler: str) -> None:
    document = parsed(o16n(logged_in, "services", "swagger", doubler, "v1"))
    assert isinstance(document, dict)
    assert parsed(o16n(logged_in, "services", "swagger", doubler, "v1", "--json")) == document
    assert document["swagger"] == "2.0"
    assert document["paths"]

    deleted = o16n(logged_in, "services", "delete", doubler, "v1")
    assert deleted.returncode == OK, deleted.stderr
    listed = parsed(o16n(logged_in, "services", "list", "--json"))
    assert isinstance(listed, list)
    assert all(item["name"] != doubler for item in listed)
    again = o16n(logged_in, "services", "show", doubler, "v1")
    assert again.returncode == SERVER_ERROR
    assert doubler in again.stderr


def test_unknown_service_exits_1(logged_in: Path) -> None:
    name = service_name("missing")
    for args in (("services", "show", name), ("call", name, "v1", "-i", "x=1")):
        result = o16n(logged_in, *args)
        assert result.returncode == SERVER_ERROR, (args, result.stderr)
        assert result.stderr.strip()
        assert "Traceback" not in result.stderr


def test_sessions_and_snapshots(logged_in: Path, http: httpx.Client) -> None:
    session = open_session(http, "cli session")
    snapshot = take_snapshot(http, session, "cli snapshot")
    try:
        sessions = parsed(o16n(logged_in, "sessions", "list", "--json"))
        assert isinstance(sessions, list)
        assert session in [item["id"] for item in sessions]
        table = o16n(logged_in, "sessions", "list")
        assert session in table.stdout

        snapshots = parsed(o16n(logged_in, "snapshots", "list", "--json"))
        assert isinstance(snapshots, list)
        assert snapshot in [item["id"] for item in snapshots]
        assert snapshot in o16n(logged_in, "snapshots", "list").stdout

        assert o16n(logged_in, "snapshots", "delete", snapshot).returncode == OK
        snapshots = parsed(o16n(logged_in, "snapshots", "list", "--json"))
        assert isinstance(snapshots, list)
        assert snapshot not in [item["id"] for item in snapshots]
        assert o16n(logged_in, "snapshots", "delete", snapshot).returncode == SERVER_ERROR

        assert o16n(logged_in, "sessions", "close", session).returncode == OK
        sessions = parsed(o16n(logged_in, "sessions", "list", "--json"))
        assert isinstance(sessions, list)
        assert session not in [item["id"] for item in sessions]
        gone = o16n(logged_in, "sessions", "close", session)
        assert gone.returncode == SERVER_ERROR
        assert gone.stderr.strip()
    finally:
        http.delete(f"/sessions/{session}")
        http.delete(f"/snapshots/{snapshot}")
