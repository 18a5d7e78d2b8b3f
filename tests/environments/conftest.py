"""A server that builds environments from a folder of wheels made here (no network)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.environments.wheels import make_wheel
from tests.harness import Server, traversable_tmp_dir


@pytest.fixture(scope="session")
def wheelhouse() -> Iterator[Path]:
    """o16ntiny 1.0 and 2.0 (their module says their version), o16nfriend 1.0 (needs
    o16ntiny >= 2), o16nlonely 1.0, and o16nbroken 1.0 (resolves, fails to install)."""
    folder = traversable_tmp_dir("o16n-wheels-")
    for version in ("1.0", "2.0"):
        make_wheel(folder, "o16ntiny", version)
    make_wheel(folder, "o16nfriend", "1.0", ("o16ntiny>=2",))
    make_wheel(folder, "o16nlonely", "1.0")
    make_wheel(folder, "o16nbroken", "1.0", wheel_version="9.0")
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="module")
def env_server(wheelhouse: Path) -> Iterator[Server]:
    """A server started as users start it, installing only from the wheelhouse, that removes
    an environment nothing uses a second after it was last used."""
    root = traversable_tmp_dir("o16n-envs-")
    settings = {
        "O16N_ENV_FIND_LINKS": str(wheelhouse),
        "O16N_ENV_NO_INDEX": "true",
        "O16N_ENV_GRACE_SECONDS": "1",
        "O16N_ENV_SWEEP_SECONDS": "0.5",
    }
    running = Server(root / "data", env=settings, own_socket=True).start()
    yield running
    running.stop()
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="module")
def env_token(env_server: Server) -> str:
    """An Owner's token on the environments server."""
    return env_server.token()
