"""Fixtures: real servers on 127.0.0.1."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.harness import Server, traversable_tmp_dir
from tests.postgres import Postgres
from tests.services.publishing import service_name


@pytest.fixture(scope="session")
def server() -> Iterator[Server]:
    """One server shared by the tests that do not change its settings, started as a user
    starts it: `o16n serve --port`, on the socket it binds itself (environments may be declared
    but never reach a package index: the suite runs offline)."""
    root = traversable_tmp_dir("o16n-shared-")
    running = Server(root / "data", env={"O16N_ENV_NO_INDEX": "true"}, own_socket=True).start()
    yield running
    running.stop()
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="module")
def postgres() -> Iterator[Postgres]:
    """A throwaway PostgreSQL cluster for the module; each test makes its own database."""
    cluster = Postgres.start()
    yield cluster
    cluster.stop()


@pytest.fixture
def open_tmp_path() -> Iterator[Path]:
    """A temporary directory (removed afterwards) that workers running as `nobody` can reach."""
    path = traversable_tmp_dir("o16n-test-")
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def start_server(open_tmp_path: Path) -> Iterator[Callable[..., Server]]:
    """Start servers with their own data directory and O16N_ settings; stopped afterwards."""
    started: list[Server] = []

    def start(data_dir: Path | None = None, **env: str) -> Server:
        directory = data_dir or open_tmp_path / f"data{len(started)}"
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
def uncached_server() -> Iterator[Server]:
    """A shared server without the auth cache: revocations and role changes show at once."""
    root = traversable_tmp_dir("o16n-uncached-")
    running = Server(root / "data", env={"O16N_AUTH_CACHE_SECONDS": "0"}).start()
    yield running
    running.stop()
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def new_name(server: Server, admin_token: str) -> Iterator[Callable[[str], str]]:
    """Make unique service names; every version of them is deleted after the test."""
    made: list[str] = []

    def make(prefix: str) -> str:
        made.append(service_name(prefix))
        return made[-1]

    yield make
    with server.client(admin_token) as client:
        for name in made:
            response = client.get(f"/services/{name}")
            if response.status_code == 200:
                for item in response.json():
                    client.delete(f"/services/{name}/{item['version']}")
