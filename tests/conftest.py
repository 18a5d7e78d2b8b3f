"""Fixtures: real servers on 127.0.0.1, each on a socket the test bound."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.harness import Server


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One server shared by the tests that do not change its settings."""
    running = Server(tmp_path_factory.mktemp("shared") / "data").start()
    yield running
    running.stop()


@pytest.fixture
def start_server(tmp_path: Path) -> Iterator[Callable[..., Server]]:
    """Start servers with their own data directory and O16N_ settings; stopped afterwards."""
    started: list[Server] = []

    def start(data_dir: Path | None = None, **env: str) -> Server:
        directory = data_dir or tmp_path / f"data{len(started)}"
        running = Server(directory, env=env).start()
        started.append(running)
        return running

    yield start
    for running in started:
        running.stop()


@pytest.fixture(scope="session")
def admin_token(server: Server) -> str:
    """An Owner's access token on the shared server."""
    return server.token()


@pytest.fixture(scope="session")
def uncached_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A shared server without the auth cache: revocations and role changes show at once."""
    directory = tmp_path_factory.mktemp("uncached") / "data"
    running = Server(directory, env={"O16N_AUTH_CACHE_SECONDS": "0"}).start()
    yield running
    running.stop()
