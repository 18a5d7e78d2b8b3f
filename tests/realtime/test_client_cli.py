"""Realtime publishing from the Python client (estimator -> ONNX) and the CLI; roles."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from o16n.client import Client
from o16n.errors import Forbidden, WrongServiceKind
from tests.cli.test_remote import logged_in, o16n, parsed
from tests.harness import ADMIN_PASSWORD, Server, assert_error, unique_name
from tests.realtime.conftest import Iris
from tests.realtime.test_realtime import consume, publish

__all__ = ["logged_in"]
PASSWORD = "realtime-Passw0rd!"


def test_client_publishes_a_fitted_estimator(
    server: Server, iris: Iris, new_name: Callable[[str], str]
) -> None:
    name = new_name("ClientIris")
    with Client(server.url, username="admin", password=ADMIN_PASSWORD) as client:
        version = client.publish_realtime(
            name, model=iris.model, description="from sklearn", max_batch_size=32
        )
        service = client.service(name, version)
        assert service.info.runtime_type == "Realtime"
        assert service.info.description == "from sklearn"
        result = service.consume(inputData=iris.frame(range(0, 150, 7)))
        assert result.success
        assert result.outputs["outputData"]["label"] == iris.expected[0:150:7]  # type: ignore[index]
        client.patch_realtime(name, version, description="patched", max_batch_wait_ms=1.5)
        assert client.service(name, version).info.description == "patched"
        with pytest.raises(WrongServiceKind):
            client.patch(name, version, description="as Python")


def test_cli_publishes_an_onnx_file(
    server: Server,
    logged_in: Path,
    iris: Iris,
    tmp_path: Path,
    new_name: Callable[[str], str],
) -> None:
    name = new_name("CliIris")
    model_file = tmp_path / "iris.onnx"
    model_file.write_bytes(iris.onnx)
    args = ("realtime", "publish", name, "v1", "--model", str(model_file))
    result = o16n(logged_in, *args, "--description", "cli", "--max-batch-size", "8", "--json")
    assert parsed(result) == {"name": name, "version": "v1"}
    with server.client(server.token()) as client:
        (info,) = client.get(f"/services/{name}/v1").json()
        assert info["description"] == "cli" and info["maxBatchSize"] == 8
        answer = consume(client, name, "v1", iris.frame([0, 100]))
        assert answer.json()["outputParameters"]["outputData"]["label"] == [
            iris.expected[0],
            iris.expected[100],
        ]
    again = o16n(logged_in, *args)
    assert again.returncode == 1 and "exists" in again.stderr
    patched = o16n(logged_in, "realtime", "patch", name, "v1", "--max-batch-size", "1")
    assert patched.returncode == 0, patched.stderr
    bad = o16n(logged_in, "realtime", "publish", name, "v2", "--model", str(tmp_path / "none"))
    assert bad.returncode == 2


def test_a_reader_may_consume_but_not_publish(
    server: Server, admin_token: str, iris: Iris, new_name: Callable[[str], str]
) -> None:
    reader = unique_name("reader")
    added = server.cli("users", "add", reader, "--role", "Reader", "--password", PASSWORD)
    assert added.returncode == 0, added.stderr
    name = new_name("ReaderIris")
    with server.client(admin_token) as client:
        assert publish(client, name, "1", iris.onnx).status_code == 201
    with server.client(server.token(reader, PASSWORD)) as client:
        assert_error(publish(client, new_name("ByReader"), "1", iris.onnx), 403)
        assert_error(client.patch(f"/realtime-services/{name}/1", data={"description": "x"}), 403)
        answer = consume(client, name, "1", iris.frame([50]))
        assert answer.status_code == 200, answer.text
        assert answer.json()["outputParameters"]["outputData"]["label"] == [iris.expected[50]]
    with (
        Client(server.url, username=reader, password=PASSWORD) as client,
        pytest.raises(Forbidden),
    ):
        client.publish_realtime(new_name("ByReader"), "1", model=iris.onnx)


def test_another_users_name_is_refused(
    server: Server, admin_token: str, iris: Iris, new_name: Callable[[str], str]
) -> None:
    contributor = unique_name("contributor")
    added = server.cli("users", "add", contributor, "--role", "Contributor", "--password", PASSWORD)
    assert added.returncode == 0, added.stderr
    name = new_name("Owned")
    with server.client(admin_token) as client:
        assert publish(client, name, "1", iris.onnx).status_code == 201
    with server.client(server.token(contributor, PASSWORD)) as client:
        assert_error(publish(client, name, "2", iris.onnx), 403, "name")
        assert_error(client.patch(f"/realtime-services/{name}/1", data={"description": "x"}), 403)
        assert_error(client.delete(f"/services/{name}/1"), 403)


def test_a_model_is_size_limited_like_uploads(
    start_server: Callable[..., Server], iris: Iris
) -> None:
    limited = start_server(O16N_MAX_UPLOAD_BYTES="2048")
    assert len(iris.onnx) > 2048
    with limited.client(limited.token()) as client:
        assert_error(publish(client, "Big", "1", iris.onnx), 413)
        assert client.get("/services/Big").json() == []
