"""Workspace objects, working-directory files, snapshots, isolation and ownership."""

from __future__ import annotations

import io
import os
import pickle
import zipfile

import dill
import httpx

from tests.harness import Server, nobody_can_run_workers


class _RecordsPid:
    """Unpickling this calls os.getpid(): the object becomes the unpickling process's pid."""

    def __reduce__(self) -> tuple[object, tuple[()]]:
        return (os.getpid, ())


def _session(client: httpx.Client) -> str:
    response = client.post("/sessions", json={"runtimeType": "Python"})
    assert response.status_code == 201, response.text
    return str(response.json()["sessionId"])


def _run(client: httpx.Client, session: str, code: str, outputs: list[str]) -> list[object]:
    body = client.post(
        f"/sessions/{session}/execute", json={"code": code, "outputParameters": outputs}
    ).json()
    assert body["success"] is True, body["errorMessage"]
    return [item["value"] for item in body["outputParameters"]]


def test_workspace_objects_round_trip(server: Server, admin_token: str) -> None:
    octets = {"Content-Type": "application/octet-stream"}
    with server.client(admin_token) as client:
        session = _session(client)
        payload = dill.dumps({"weights": [1, 2, 3]})
        response = client.post(
            f"/sessions/{session}/workspace/model", content=payload, headers=octets
        )
        assert response.status_code == 200
        assert "model" in client.get(f"/sessions/{session}/workspace").json()
        assert _run(client, session, "total = sum(model['weights'])", ["total"]) == [6]
        downloaded = client.get(f"/sessions/{session}/workspace/model")
        assert downloaded.status_code == 200
        assert dill.loads(downloaded.content) == {"weights": [1, 2, 3]}
        assert client.delete(f"/sessions/{session}/workspace/model").status_code == 200
        assert client.get(f"/sessions/{session}/workspace/model").status_code == 404
        broken = client.post(
            f"/sessions/{session}/workspace/bad", content=b"not a pickle", headers=octets
        )
        assert broken.status_code == 400
        assert "bad" in broken.json()["message"]
        assert broken.json()["field"] == "body"
        invalid = client.post(f"/sessions/{session}/workspace/1x", content=payload, headers=octets)
        assert invalid.status_code == 400
        assert invalid.json()["field"] == "objectName"


def test_crafted_pickle_runs_only_in_the_worker(server: Server, admin_token: str) -> None:
    server_pid = server.process.pid if server.process else -1
    with server.client(admin_token) as client:
        session = _session(client)
        response = client.post(
            f"/sessions/{session}/workspace/evil",
            content=pickle.dumps(_RecordsPid()),
            headers={"Content-Type": "application/octet-stream"},
        )
        assert response.status_code == 200, response.text
        [unpickled_in] = _run(client, session, "import os\nworker = os.getpid()", ["evil"])
        [worker_pid] = _run(client, session, "", ["worker"])
    assert unpickled_in == worker_pid
    assert unpickled_in not in {server_pid, os.getpid()}


def test_worker_environment_holds_no_o16n_secret(start_server: object) -> None:
    server = start_server(O16N_LOG_LEVEL="warning")  # type: ignore[operator]
    with server.client(server.token()) as client:
        session = _session(client)
        [names] = _run(client, session, "import os\nnames = sorted(os.environ)", ["names"])
        [cwd] = _run(client, session, "cwd = os.getcwd()", ["cwd"])
    assert not [name for name in names if name.startswith("O16N")]  # type: ignore[union-attr]
    assert str(server.data_dir) in str(cwd)


def test_files_upload_list_download_delete(server: Server, admin_token: str) -> None:
    with server.client(admin_token) as client:
        session = _session(client)
        response = client.post(
            f"/sessions/{session}/files", files={"file": ("notes.txt", b"hello files")}
        )
        assert response.status_code == 201, response.text
        assert "notes.txt" in client.get(f"/sessions/{session}/files").json()
        assert client.get(f"/sessions/{session}/files/notes.txt").content == b"hello files"
        assert _run(client, session, "text = open('notes.txt').read()", ["text"]) == ["hello files"]
        body = client.post(
            f"/sessions/{session}/execute", json={"code": "open('out.csv', 'w').write('a,b')"}
        ).json()
        assert body["changedFiles"] == ["out.csv"]
        assert client.delete(f"/sessions/{session}/files/notes.txt").status_code == 200
        assert client.get(f"/sessions/{session}/files/notes.txt").status_code == 404


def test_traversal_file_names_are_refused(server: Server, admin_token: str) -> None:
    with server.client(admin_token) as client:
        session = _session(client)
        for name in ["../escape.txt", "/etc/passwd", "a/b", "..", ""]:
            response = client.post(f"/sessions/{session}/files", files={"file": (name, b"x")})
            assert response.status_code == 400, (name, response.text)
        assert client.get(f"/sessions/{session}/files/..%2F..%2Fetc%2Fpasswd").status_code in {
            400,
            404,
        }
        assert client.get(f"/sessions/{session}/files/a%00b").status_code == 400


def test_upload_size_limit(start_server: object) -> None:
    server = start_server(O16N_MAX_UPLOAD_BYTES="4096")  # type: ignore[operator]
    with server.client(server.token()) as client:
        session = _session(client)
        response = client.post(f"/sessions/{session}/files", files={"file": ("big", b"x" * 10000)})
        assert response.status_code == 413


def test_snapshot_round_trip(server: Server, admin_token: str) -> None:
    with server.client(admin_token) as client:
        session = _session(client)
        _run(
            client,
            session,
            "import numpy as np\nkept = np.arange(3)\nopen('f.txt','w').write('F')",
            [],
        )
        response = client.post(f"/sessions/{session}/snapshot", json={"name": "Iris Snapshot"})
        assert response.status_code == 201, response.text
        snapshot = response.json()["snapshotId"]
        listed = {item["id"]: item for item in client.get("/snapshots").json()}
        assert listed[snapshot]["name"] == "Iris Snapshot"
        assert listed[snapshot]["owner"] == "admin"
        assert listed[snapshot]["contentSize"] > 0
        archive = client.get(f"/snapshots/{snapshot}")
        assert archive.status_code == 200
        assert zipfile.ZipFile(io.BytesIO(archive.content)).namelist()
        fresh = client.post("/sessions", json={"snapshotId": snapshot}).json()["sessionId"]
        assert _run(client, fresh, "text = open('f.txt').read()", ["kept", "text"]) == [
            [0, 1, 2],
            "F",
        ]
        other = _session(client)
        assert client.post(f"/sessions/{other}/loadsnapshot/{snapshot}").status_code == 200
        assert _run(client, other, "", ["kept"]) == [[0, 1, 2]]
        sdk_style = client.post(f"/sessions/{session}/snapshot", json={"name": None})
        assert sdk_style.status_code == 201
        assert client.delete(f"/snapshots/{snapshot}").status_code == 200
        assert client.get(f"/snapshots/{snapshot}").status_code == 404
        assert client.post("/sessions", json={"snapshotId": snapshot}).status_code == 404


def test_others_cannot_see_or_touch_my_session_or_snapshot(
    server: Server, admin_token: str
) -> None:
    created = server.cli(
        "users", "add", "snoop", "--role", "Contributor", "--password", "Snoop-Pass-1"
    )
    assert created.returncode == 0, created.stderr
    snoop = server.token("snoop", "Snoop-Pass-1")
    with server.client(admin_token) as admin, server.client(snoop) as other:
        session = _session(admin)
        snapshot = admin.post(f"/sessions/{session}/snapshot", json={}).json()["snapshotId"]
        assert other.post(f"/sessions/{session}/execute", json={"code": ""}).status_code == 404
        assert other.get(f"/sessions/{session}/workspace").status_code == 404
        assert other.delete(f"/sessions/{session}").status_code == 404
        assert session not in {s["id"] for s in other.get("/sessions").json()}
        assert other.get(f"/snapshots/{snapshot}").status_code == 404
        assert other.delete(f"/snapshots/{snapshot}").status_code == 404
        assert snapshot not in {s["id"] for s in other.get("/snapshots").json()}
        assert other.post("/sessions", json={"snapshotId": snapshot}).status_code == 404
        mine = _session(other)
        assert mine in {s["id"] for s in admin.get("/sessions").json()}, "Owners list all"
        assert admin.delete(f"/sessions/{mine}").status_code == 200, "Owners close any"


def test_session_caps(start_server: object) -> None:
    server = start_server(O16N_MAX_SESSIONS_PER_USER="1", O16N_MAX_SESSIONS="2")  # type: ignore[operator]
    server.cli("users", "add", "second", "--role", "Reader", "--password", "Second-Pass-1")
    with (
        server.client(server.token()) as admin,
        server.client(server.token("second", "Second-Pass-1")) as second,
    ):
        _session(admin)
        response = admin.post("/sessions", json={})
        assert response.status_code == 429
        _session(second)
        server.cli("users", "add", "third", "--role", "Reader", "--password", "Third-Pass-1")
        with server.client(server.token("third", "Third-Pass-1")) as third:
            response = third.post("/sessions", json={})
            assert response.status_code == 503
            assert "maximum" in response.json()["message"]


def test_workers_run_unprivileged_when_the_server_is_root(server: Server, admin_token: str) -> None:
    with server.client(admin_token) as client:
        session = _session(client)
        [uid] = _run(client, session, "import os\nuid = os.getuid()", ["uid"])
    if os.geteuid() == 0 and nobody_can_run_workers():
        assert uid != 0
    else:  # the harness kept workers under the server's identity (see nobody_can_run_workers)
        assert uid == os.geteuid()


def test_a_blob_shared_by_two_snapshots_outlives_one_of_them(
    server: Server, admin_token: str
) -> None:
    with server.client(admin_token) as client:
        session = _session(client)
        _run(client, session, "same = list(range(10))", [])
        first = client.post(f"/sessions/{session}/snapshot", json={}).json()["snapshotId"]
        second = client.post(f"/sessions/{session}/snapshot", json={}).json()["snapshotId"]
        sizes = {item["id"]: item["contentSize"] for item in client.get("/snapshots").json()}
        assert sizes[first] == sizes[second]
        content = client.get(f"/snapshots/{first}").content
        assert client.get(f"/snapshots/{second}").content == content, "same content, one blob"
        assert client.delete(f"/snapshots/{first}").status_code == 200
        kept = client.get(f"/snapshots/{second}")
        assert kept.status_code == 200
        assert kept.content == content
