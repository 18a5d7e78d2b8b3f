"""An upgrade keeps the tokens that the data directory's old keys/signing.key signed."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from pathlib import Path

import jwt
from sqlalchemy import create_engine, text

from tests.harness import Server, run_o16n


def _as_before_signing_keys(database: Path) -> None:
    """Put the schema back at the revision before the signing_keys table, as an older o16n
    left it (its key in keys/signing.key)."""
    engine = create_engine(f"sqlite:///{database}")
    with engine.begin() as connection:
        connection.execute(text("DROP TABLE signing_keys"))
        connection.execute(text("UPDATE alembic_version SET version_num = '0008'"))
    engine.dispose()


def test_tokens_signed_with_the_old_key_file_stay_valid_after_the_upgrade(
    start_server: Callable[..., Server], open_tmp_path: Path
) -> None:
    data = open_tmp_path / "data"
    (data / "keys").mkdir(parents=True)
    old_key = secrets.token_bytes(64)
    (data / "keys" / "signing.key").write_bytes(old_key)
    before = start_server(data)
    claims = jwt.decode(before.token(), options={"verify_signature": False})
    before.stop()
    _as_before_signing_keys(data / "o16n.db")
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
