"""Sessions through the client: execute, objects, files and snapshots."""

from __future__ import annotations

import pytest

from o16n.client import Client, ExecuteResult
from o16n.errors import NotFound
from tests.harness import Server


def test_execute_binds_inputs_and_returns_outputs(client: Client) -> None:
    with client.session("client test") as session:
        result = session.execute("y = x * 2\nprint('hi')", inputs={"x": 21}, outputs=["y"])
        assert result == ExecuteResult(
            success=True, console_output="hi\n", error_message="", outputs={"y": 42}
        )
        failed = session.execute("1 / 0")
        assert not failed.success
        assert "ZeroDivisionError" in failed.error_message


def test_objects_round_trip_with_dill(client: Client) -> None:
    with client.session() as session:
        session.put_object("table", {"a": [1, 2], "b": (3, 4)})
        assert session.execute("n = len(table['a'])", outputs=["n"]).outputs == {"n": 2}
        session.execute("import numpy as np\narr = np.arange(3) * 2")
        assert sorted(session.objects()) == ["arr", "n", "table"]
        assert session.get_object("table") == {"a": [1, 2], "b": (3, 4)}
        assert list(session.get_object("arr")) == [0, 2, 4]  # type: ignore[call-overload]
        with pytest.raises(NotFound):
            session.get_object("missing")


def test_files_upload_download_and_changes(client: Client) -> None:
    with client.session() as session:
        session.upload("data.txt", b"hello")
        assert session.files() == ["data.txt"]
        result = session.execute("open('out.txt', 'w').write(open('data.txt').read().upper())")
        assert result.changed_files == ["out.txt"]
        assert session.download("out.txt") == b"HELLO"
        assert sorted(session.files()) == ["data.txt", "out.txt"]


def test_snapshot_returns_an_id_the_server_lists(server: Server, client: Client) -> None:
    with client.session() as session:
        session.execute("kept = 7")
        snapshot = session.snapshot("client snapshot")
    assert session.closed
    with server.client(client.access_token) as raw:
        assert snapshot in {item["id"] for item in raw.get("/snapshots").json()}
    with client.session(snapshot=snapshot) as restored:
        assert restored.get_object("kept") == 7
    client.delete_snapshot(snapshot)
    with pytest.raises(NotFound):
        client.delete_snapshot(snapshot)


def test_the_session_closes_when_the_block_fails(client: Client) -> None:
    with pytest.raises(RuntimeError), client.session() as session:
        raise RuntimeError("boom")
    assert session.closed
    with pytest.raises(NotFound):
        session.files()
