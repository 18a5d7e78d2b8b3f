"""The metadata store on a real PostgreSQL server (the scale-out configuration)."""

from __future__ import annotations

import functools
import secrets
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

import httpx
from sqlalchemy import Engine, text

from o16n.domain.models import SigningKey
from o16n.domain.signing_keys import shared_keys
from o16n.ids import now
from o16n.store import schema
from o16n.store.blobs import SqlBlobs
from o16n.store.engine import SqlStore, open_engine
from tests.harness import Server, assert_error, run_o16n, unique_name
from tests.postgres import Postgres

IRIS_INIT = (
    "from sklearn import datasets, svm\n"
    "iris = datasets.load_iris()\n"
    "model = svm.SVC().fit(iris.data, iris.target)"
)
IRIS_CODE = "import numpy as np\nresult = int(model.predict(np.array([flower]))[0])"


def test_migrated_schema_matches_the_table_definitions(postgres: Postgres) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext
    from sqlalchemy import create_engine

    from o16n.store import schema
    from o16n.store.tables import metadata

    engine = create_engine(postgres.database("schema_check"))
    schema.upgrade(engine)
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), metadata)
    engine.dispose()
    assert differences == []


def _publish_from_a_snapshot(server: Server, token: str, name: str) -> str:
    with server.client(token) as client:
        session = client.post("/sessions", json={"runtimeType": "Python"}).json()["sessionId"]
        executed = client.post(f"/sessions/{session}/execute", json={"code": IRIS_INIT})
        assert executed.json()["success"], executed.text
        snapshot = client.post(f"/sessions/{session}/snapshot", json={}).json()["snapshotId"]
        client.delete(f"/sessions/{session}")
        published = client.post(
            f"/services/{name}/v1",
            json={
                "snapshotId": snapshot,
                "code": IRIS_CODE,
                "inputParameterDefinitions": [{"name": "flower", "type": "vector"}],
                "outputParameterDefinitions": [{"name": "result", "type": "integer"}],
                "runtimeType": "Python",
            },
        )
        assert published.status_code == 201, published.text
        return str(snapshot)


def _consume(server: Server, token: str, name: str) -> object:
    with server.client(token) as client:
        answer = client.post(f"/api/{name}/v1", json={"flower": [6.3, 3.3, 6.0, 2.5]})
        assert answer.status_code == 200, answer.text
        return answer.json()["outputParameters"]["result"]


def _finished_batch(server: Server, token: str, name: str) -> str:
    rows = [{"flower": [6.3, 3.3, 6.0, 2.5]}, {"flower": [5.1, 3.5, 1.4, 0.2]}] * 3
    with server.client(token) as client:
        started = client.post(f"/api/{name}/v1/batch?parallelCount=2", json=rows)
        assert started.status_code == 202, started.text
        execution = str(started.json()["BatchExecutionId"])
        deadline = time.monotonic() + 60
        while client.get(f"/api/{name}/v1/batch/{execution}").json()["state"] != "Complete":
            assert time.monotonic() < deadline, "the batch did not complete in 60 s"
            time.sleep(0.1)
        return execution


def test_a_server_on_postgresql_keeps_everything_across_a_restart(
    postgres: Postgres, start_server: Callable[..., Server], open_tmp_path: Path
) -> None:
    url = postgres.database("lifecycle")
    data = open_tmp_path / "data"
    first = start_server(data, O16N_DATABASE_URL=url)
    reader = unique_name("reader")
    added = run_o16n(
        "users", "add", reader, "--role", "Reader", "--password", "Reader-Pass-123",
        "--data-dir", str(data), env={"O16N_DATABASE_URL": url},
    )  # fmt: skip
    assert added.returncode == 0, added.stderr
    admin = first.login()
    snapshot = _publish_from_a_snapshot(first, str(admin["access_token"]), "PgIris")
    assert _consume(first, str(admin["access_token"]), "PgIris") == 2
    execution = _finished_batch(first, str(admin["access_token"]), "PgIris")
    first.kill()

    second = start_server(data, O16N_DATABASE_URL=url)
    token = second.token(reader, "Reader-Pass-123")
    assert _consume(second, token, "PgIris") == 2
    with second.client() as client:
        refreshed = client.post(
            "/login/refreshToken", json={"refreshToken": admin["refresh_token"]}
        )
        assert refreshed.status_code == 200, refreshed.text
        reused = client.post("/login/refreshToken", json={"refreshToken": admin["refresh_token"]})
        assert_error(reused, 401)
    with second.client(second.token()) as client:
        assert client.get(f"/snapshots/{snapshot}").status_code == 200
        batch = client.get(f"/api/PgIris/v1/batch/{execution}").json()
        classes = [
            result["outputParameters"]["result"] for result in batch["batchExecutionResults"]
        ]
        assert (batch["state"], classes) == ("Complete", [2, 0] * 3)
        assert client.delete("/services/PgIris/v1").status_code == 200
        assert_error(client.post("/api/PgIris/v1", json={"flower": [1, 2, 3, 4]}), 404)


def _answer(server: Server, token: str, name: str) -> httpx.Response:
    with server.client(token) as client:
        return client.post(f"/api/{name}/v1", json={})


def _until(condition: Callable[[], bool], seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"not so within {seconds} s"
        time.sleep(0.05)


def test_another_node_sees_a_patch_and_a_delete_within_its_cache_time(
    postgres: Postgres, start_server: Callable[..., Server]
) -> None:
    url = postgres.database("two_nodes")
    publisher = start_server(O16N_DATABASE_URL=url)
    consumer = start_server(O16N_DATABASE_URL=url, O16N_SERVICE_CACHE_SECONDS="0.3")
    admin, reader = publisher.token(), consumer.token()
    definition = {"outputParameterDefinitions": [{"name": "result", "type": "integer"}]}
    with publisher.client(admin) as client:
        published = client.post("/services/Nodes/v1", json={"code": "result = 1", **definition})
        assert published.status_code == 201, published.text
        assert _answer(consumer, reader, "Nodes").json()["outputParameters"] == {"result": 1}
        patched = client.patch("/services/Nodes/v1", json={"code": "result = 2"})
        assert patched.status_code == 200, patched.text
        _until(lambda: _answer(consumer, reader, "Nodes").json()["outputParameters"] == {
            "result": 2}, 1.0)  # fmt: skip
        assert client.delete("/services/Nodes/v1").status_code == 200
    _until(lambda: _answer(consumer, reader, "Nodes").status_code == 404, 1.0)


def test_a_token_from_one_node_is_accepted_by_another(
    postgres: Postgres, start_server: Callable[..., Server]
) -> None:
    url = postgres.database("shared_keys")
    first = start_server(O16N_DATABASE_URL=url)
    second = start_server(O16N_DATABASE_URL=url)
    for issuer, verifier in ((first, second), (second, first)):
        with verifier.client(issuer.token()) as client:
            assert client.get("/status").status_code == 200


def _start_at(gate: threading.Barrier, store: SqlStore) -> list[SigningKey]:
    """What a node does at its first start: offer a key of its own, read back the stored ones."""
    candidate = SigningKey(kid=unique_name("kid"), secret=secrets.token_bytes(64))
    gate.wait()
    return shared_keys(store, candidate)


def test_nodes_starting_together_store_one_signing_key(postgres: Postgres) -> None:
    url = postgres.database("first_key_race")
    stores = [SqlStore(open_engine(url)) for _ in range(2)]
    schema.upgrade(stores[0].engine)
    for _ in range(5):
        gate = threading.Barrier(2)
        with ThreadPoolExecutor(2) as pool:
            first, second = pool.map(functools.partial(_start_at, gate), stores)
        assert first == second and len(first) == 1
        with stores[0].engine.begin() as connection:
            connection.execute(text("DELETE FROM signing_keys"))
    for store in stores:
        store.close()


def _blocked(call: Callable[[], object]) -> Future[object]:
    """Run `call` in a thread and check that it is still waiting (for a row lock) a moment on."""
    pool = ThreadPoolExecutor(1)
    running = pool.submit(call)
    pool.shutdown(wait=False)
    time.sleep(0.5)
    assert not running.done()
    return running


def _in_transaction(engine: Engine, act: Callable[[SqlBlobs], object]) -> object:
    with engine.begin() as connection:
        return act(SqlBlobs(connection))


def test_blob_claims_and_deletions_of_two_nodes_wait_for_each_other(postgres: Postgres) -> None:
    engine = open_engine(postgres.database("blob_claims"))
    schema.upgrade(engine)
    blob = "ab" * 32
    _in_transaction(engine, lambda blobs: blobs.adopt([blob]))
    moment = now()
    later = moment + timedelta(hours=1)

    with engine.begin() as deleting:  # a deletion in progress: its object is being removed
        assert SqlBlobs(deleting).delete_unreferenced(blob, moment)
        claiming = _blocked(
            lambda: _in_transaction(engine, lambda blobs: blobs.claim(blob, moment, later))
        )
    claiming.result(timeout=10)  # waited for the deletion, then made the row anew
    assert _in_transaction(engine, lambda blobs: blobs.unreferenced(now())) == []

    _in_transaction(engine, lambda blobs: blobs.unclaim([blob]))
    with engine.begin() as holding:  # a claim in progress: a snapshot is being published
        assert SqlBlobs(holding).hold(blob, moment, later)
        deleting_later = _blocked(
            lambda: _in_transaction(engine, lambda blobs: blobs.delete_unreferenced(blob, now()))
        )
    assert deleting_later.result(timeout=10) is False  # saw the claim once it could lock
    engine.dispose()
