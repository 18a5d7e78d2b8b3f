"""Fixtures for the client tests: an admin Client, unique service names, and cleanup."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from o16n.client import Client
from o16n.errors import O16nError
from tests.harness import ADMIN_PASSWORD, Server
from tests.services.publishing import service_name


@pytest.fixture
def client(server: Server) -> Iterator[Client]:
    """An Owner's client on the shared server."""
    with Client(server.url, username="admin", password=ADMIN_PASSWORD) as connected:
        yield connected


@pytest.fixture
def new_name(client: Client) -> Iterator[Callable[[str], str]]:
    """Make unique service names; every version of them is deleted after the test."""
    made: list[str] = []

    def make(prefix: str) -> str:
        made.append(service_name(prefix))
        return made[-1]

    yield make
    for name in made:
        try:
            versions = client.services(name)
        except O16nError:
            continue
        for info in versions:
            client.delete(name, info.version)
