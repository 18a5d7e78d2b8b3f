"""`o16n serve`: the settings contract (flags and O16N_ variables) and the first start."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.harness import ADMIN_PASSWORD, Server, free_port, wait_healthy

_GENERATED = re.compile(r"generated the password of user 'admin': (\S+)")


@pytest.fixture
def launched(tmp_path: Path) -> Iterator[list[subprocess.Popen[bytes]]]:
    processes: list[subprocess.Popen[bytes]] = []
    yield processes
    for process in processes:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _serve(
    processes: list[subprocess.Popen[bytes]], log: Path, args: list[str], env: dict[str, str]
) -> subprocess.Popen[bytes]:
    environment = {**os.environ, "O16N_ADMIN_PASSWORD": ADMIN_PASSWORD, **env}
    with open(log, "ab") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "o16n", "serve", *args],
            env=environment,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    processes.append(process)
    return process


def _stop_gracefully(process: subprocess.Popen[bytes], log: Path) -> None:
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=20) in {0, -signal.SIGTERM}
    assert "Application shutdown complete" in log.read_text(errors="replace")


def test_flags_choose_host_and_port_and_env_the_data_dir(
    tmp_path: Path, launched: list[subprocess.Popen[bytes]]
) -> None:
    data_dir = tmp_path / "from-env"
    port, ignored_port = free_port(), free_port()
    process = _serve(
        launched,
        tmp_path / "serve.log",
        ["--host", "127.0.0.1", "--port", str(port)],
        {"O16N_DATA_DIR": str(data_dir), "O16N_PORT": str(ignored_port)},
    )
    url = f"http://127.0.0.1:{port}"
    wait_healthy(url, process)
    assert (data_dir / "o16n.db").is_file()
    response = httpx.post(
        f"{url}/login", json={"username": "admin", "password": ADMIN_PASSWORD}, timeout=30
    )
    assert response.status_code == 200, response.text
    assert f"listening on http://127.0.0.1:{port}" in (tmp_path / "serve.log").read_text()
    _stop_gracefully(process, tmp_path / "serve.log")


def test_env_chooses_host_and_port_and_flag_the_data_dir(
    tmp_path: Path, launched: list[subprocess.Popen[bytes]]
) -> None:
    data_dir = tmp_path / "from-flag"
    port = free_port()
    process = _serve(
        launched,
        tmp_path / "serve.log",
        ["--data-dir", str(data_dir)],
        {"O16N_HOST": "127.0.0.1", "O16N_PORT": str(port), "O16N_DATA_DIR": str(tmp_path / "no")},
    )
    wait_healthy(f"http://127.0.0.1:{port}", process)
    assert (data_dir / "o16n.db").is_file()
    assert not (tmp_path / "no").exists()
    _stop_gracefully(process, tmp_path / "serve.log")


def test_invalid_port_setting_is_refused(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "o16n", "serve", "--data-dir", str(tmp_path / "d")],
        env={**os.environ, "O16N_PORT": "not-a-port"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode != 0
    assert "port" in result.stderr.lower()
    assert "Traceback" not in result.stderr


def test_first_start_creates_state_and_prints_a_generated_password(tmp_path: Path) -> None:
    data_dir = tmp_path / "fresh"
    first = Server(data_dir, without_env=("O16N_ADMIN_PASSWORD",)).start()
    try:
        assert (data_dir / "o16n.db").is_file()
        assert not (data_dir / "keys").exists()  # the signing key is in the database
        printed = _GENERATED.findall(first.log())
        assert len(printed) == 1, first.log()
        password = printed[0]
        assert len(password) >= 8
        pair = first.login("admin", password)
        wrong = httpx.post(
            f"{first.url}/login",
            json={"username": "admin", "password": ADMIN_PASSWORD},
            timeout=30,
        )
        assert wrong.status_code == 401
    finally:
        first.stop()

    second = Server(data_dir, without_env=("O16N_ADMIN_PASSWORD",)).start()
    try:
        assert len(_GENERATED.findall(second.log())) == 1, second.log()
        assert second.log().count("created a new data directory") == 1, second.log()
        with second.client(str(pair["access_token"])) as client:
            assert client.get("/status").status_code == 200
        assert second.login("admin", password)["token_type"] == "Bearer"
        refreshed = httpx.post(
            f"{second.url}/login/refreshToken",
            json={"refreshToken": pair["refresh_token"]},
            timeout=30,
        )
        assert refreshed.status_code == 200, refreshed.text
    finally:
        second.stop()


def test_configured_admin_password_is_not_printed(tmp_path: Path) -> None:
    running = Server(tmp_path / "configured").start()
    try:
        assert not _GENERATED.search(running.log())
        assert ADMIN_PASSWORD not in running.log()
        assert running.login()["token_type"] == "Bearer"
    finally:
        running.stop()
