"""Batch tests share the session server; the services they publish are deleted afterwards."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from tests.harness import Server
from tests.services.publishing import service_name


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
