"""Environments declared through the Python client and the CLI, which wait for the build."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from o16n.client import Client
from o16n.errors import InvalidInput
from tests.cli.test_remote import OK, SERVER_ERROR
from tests.harness import ADMIN_PASSWORD, Server, run_o16n
from tests.services.publishing import service_name


@pytest.fixture
def client(env_server: Server) -> Iterator[Client]:
    """The admin's Python client of the environments server."""
    with Client(env_server.url, username="admin", password=ADMIN_PASSWORD) as admin:
        yield admin


def tiny_version() -> str:
    """The version of o16ntiny where the service runs."""
    import o16ntiny  # type: ignore[import-not-found]  # only in the service's environment

    return str(o16ntiny.__version__)


def test_the_client_publishes_from_a_requirements_file(client: Client, tmp_path: Path) -> None:
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("# pinned for this model\no16ntiny==1.0  # the old one\n\n")
    name = service_name("client_env")
    version = client.publish(
        name, "v1", fn=tiny_version, outputs={"answer": str}, requirements=requirements
    )
    result = client.service(name, version).consume()  # no 503: publish waited for the build
    assert result.success, result.error_message
    assert result.outputs == {"answer": "1.0"}
    client.delete(name, version)


def test_the_client_refuses_a_requirement_the_index_lacks(client: Client) -> None:
    with pytest.raises(InvalidInput, match="o16nmissing") as raised:
        client.publish(service_name("client_bad"), "v1", code="x = 1", requirements=["o16nmissing"])
    assert raised.value.field == "requirements"


def test_a_client_session_runs_on_its_requirements(client: Client) -> None:
    with client.session(requirements=["o16ntiny==2.0"]) as session:
        result = session.execute("import o16ntiny\nv = o16ntiny.__version__", outputs=["v"])
    assert result.outputs == {"v": "2.0"}


@pytest.fixture
def config(env_server: Server, tmp_path: Path) -> Path:
    """A config directory holding the admin's login to the environments server."""
    directory = tmp_path / "o16n"
    result = run_o16n(
        "login", env_server.url, "--username", "admin", "--password", ADMIN_PASSWORD,
        "--config-dir", str(directory),
    )  # fmt: skip
    assert result.returncode == OK, result.stderr
    return directory


def test_the_cli_publishes_with_requirements_and_waits(config: Path, tmp_path: Path) -> None:
    code = tmp_path / "score.py"
    code.write_text("import o16ntiny\nv = o16ntiny.__version__\n")
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("o16ntiny\n")
    name = service_name("cli_env")
    published = run_o16n(
        "services", "publish", name, "v1", "--code", str(code), "--output", "v=character",
        "-r", str(requirements), "--requirement", "o16nfriend==1.0", "--config-dir", str(config),
    )  # fmt: skip
    assert published.returncode == OK, published.stderr
    assert published.stdout.strip() == f"published {name} v1"
    called = run_o16n("call", name, "v1", "--config-dir", str(config))
    assert called.returncode == OK, called.stderr
    assert json.loads(called.stdout)["outputParameters"] == {"v": "2.0"}
    refused = run_o16n(
        "services", "publish", name, "v2", "--code", str(code), "--requirement", "o16nmissing",
        "--config-dir", str(config),
    )  # fmt: skip
    assert refused.returncode == SERVER_ERROR
    assert "o16nmissing" in refused.stderr
    run_o16n("services", "delete", name, "v1", "--config-dir", str(config))
