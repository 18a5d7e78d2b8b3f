"""An upgrade from revision 0008 keeps the tokens the old keys/signing.key signed, and the
blobs stored before (they get their rows at the first start)."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from pathlib import Path

import jwt
from sqlalchemy import create_engine, text

from tests.harness import Server, run_o16n
from tests.services.publishing import snapshot_of


def _as_at_revision_0008(database: Path) -> None:
    """Put the schema back at revision 0008, as an older o16n left it (its key in
    keys/signing.key, no signing_keys, blobs or session_nodes table, no environments, no
    batch leases)."""
    engine = create_engine(f"sqlite:///{database}")
    with engine.begin() as connection:
        connection.execute(text("DROP TABLE signing_keys"))
        connection.execute(text("DROP TABLE blobs"))
        connection.execute(text("DROP TABLE session_nodes"))
        for table in ("services", "snapshots"):
            for column in ("environment", "environment_id"):
                connection.execute(text(f"ALTER TABLE {table} DROP COLUMN {column}"))
        for column in ("lease_holder", "lease_expires", "lease_generation"):
            connection.execute(text(f"ALTER TABLE batch_executions DROP COLUMN {column}"))
        connection.execute(text("UPDATE alembic_version SET version_num = '0008'"))
    engine.dispose()


def test_an_upgrade_keeps_tokens_of_the_old_key_file_and_the_stored_blobs(
    start_server: Callable[..., Server], open_tmp_path: Path
) -> None:
    data = open_tmp_path / "data"
    (data / "keys").mkdir(parents=True)
    old_key = secrets.token_bytes(64)
    (data / "keys" / "signing.key").write_bytes(old_key)
    before = start_server(data)
    claims = jwt.decode(before.token(), options={"verify_signature": False})
    with before.client(before.token()) as client:
        snapshot = snapshot_of(client, "kept = 42")
        archive = client.get(f"/snapshots/{snapshot}").content
    blob_id = hashlib.sha256(archive).hexdigest()
    before.stop()
    _as_at_revision_0008(data / "o16n.db")
    old_token = jwt.encode(claims, old_key, algorithm="HS256")  # no kid, as older o16n signed

    upgraded = run_o16n("db", "upgrade", "--data-dir", str(data))
    assert upgraded.returncode == 0, upgraded.stderr
    after = start_server(data)
    with after.client(old_token) as client:
        assert client.get("/status").status_code == 200
    new_token = after.token()
    assert jwt.get_unverified_header(new_token)["kid"]
    jwt.decode(new_token, old_key, algorithms=["HS256"], options={"verify_exp": True})
    with after.client(jwt.encode(claims, secrets.token_bytes(64), algorithm="HS256")) as client:
        assert client.get("/status").status_code == 401
    with after.client(new_token) as client:
        assert client.get(f"/snapshots/{snapshot}").content == archive
        assert client.delete(f"/snapshots/{snapshot}").status_code == 200
    assert not (data / "blobs" / blob_id[:2] / blob_id).exists()
