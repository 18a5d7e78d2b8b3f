"""Fixtures for the client tests: an admin Client, unique names, cleanup, a fitted model."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from sklearn import datasets, svm

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


def _ids(server: Server, client: Client, path: str) -> set[str]:
    with server.client(client.access_token) as raw:
        response = raw.get(path)
        assert response.status_code == 200, response.text
        return {str(item["id"]) for item in response.json()}


@pytest.fixture
def leftovers(server: Server, client: Client) -> Iterator[None]:
    """The test leaves no session and no snapshot behind."""
    sessions, snapshots = _ids(server, client, "/sessions"), _ids(server, client, "/snapshots")
    yield
    assert _ids(server, client, "/sessions") == sessions
    assert _ids(server, client, "/snapshots") == snapshots


@pytest.fixture(scope="module")
def classifier() -> object:
    """An SVC fitted on the iris data set."""
    iris = datasets.load_iris()
    return svm.SVC().fit(iris.data, iris.target)
