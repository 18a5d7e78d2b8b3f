"""Schema discipline: the server refuses an outdated database until `o16n db upgrade` ran."""

from __future__ import annotations

import sqlite3
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.harness import ADMIN_PASSWORD, Server, run_o16n

SERVE_TIMEOUT_SECONDS = 60


def _revision(database: Path) -> str:
    with sqlite3.connect(database) as connection:
        rows = connection.execute("SELECT version_num FROM alembic_version").fetchall()
    assert len(rows) == 1, rows
    return str(rows[0][0])


def test_outdated_schema_is_refused_until_upgraded(
    tmp_path: Path, start_server: Callable[..., Server]
) -> None:
    data_dir = tmp_path / "old"
    partial = run_o16n("db", "upgrade", "--revision", "0001", "--data-dir", str(data_dir))
    assert partial.returncode == 0, partial.stderr
    assert _revision(data_dir / "o16n.db") == "0001"

    try:
        refused = run_o16n(
            "serve",
            "--data-dir",
            str(data_dir),
            "--port",
            "0",
            env={"O16N_ADMIN_PASSWORD": ADMIN_PASSWORD},
            timeout=SERVE_TIMEOUT_SECONDS,
        )
    except subprocess.TimeoutExpired:
        pytest.fail("the server started on an outdated schema instead of refusing")
    assert refused.returncode != 0
    assert "o16n db upgrade" in refused.stderr
    assert "Traceback" not in refused.stderr
    assert _revision(data_dir / "o16n.db") == "0001"

    upgraded = run_o16n("db", "upgrade", "--data-dir", str(data_dir))
    assert upgraded.returncode == 0, upgraded.stderr
    assert _revision(data_dir / "o16n.db") != "0001"

    running = start_server(data_dir=data_dir)
    with running.client(running.token()) as client:
        assert client.get("/status").status_code == 200


def test_users_cli_refuses_an_outdated_schema(tmp_path: Path) -> None:
    data_dir = tmp_path / "old"
    partial = run_o16n("db", "upgrade", "--revision", "0001", "--data-dir", str(data_dir))
    assert partial.returncode == 0, partial.stderr
    result = run_o16n(
        "users",
        "add",
        "dave",
        "--role",
        "Reader",
        "--password",
        "Dave-Pass-123",
        "--data-dir",
        str(data_dir),
    )
    assert result.returncode != 0
    assert "o16n db upgrade" in result.stderr
    assert "Traceback" not in result.stderr


def test_upgrade_of_a_current_database_is_a_no_op(tmp_path: Path) -> None:
    data_dir = tmp_path / "current"
    first = run_o16n("db", "upgrade", "--data-dir", str(data_dir))
    assert first.returncode == 0, first.stderr
    head = _revision(data_dir / "o16n.db")
    again = run_o16n("db", "upgrade", "--data-dir", str(data_dir))
    assert again.returncode == 0, again.stderr
    assert _revision(data_dir / "o16n.db") == head


def test_migrated_schema_matches_the_table_definitions(tmp_path: Path) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext
    from sqlalchemy import create_engine

    from o16n.store import schema
    from o16n.store.tables import metadata

    engine = create_engine(f"sqlite:///{tmp_path / 'fresh.db'}")
    schema.upgrade(engine)
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), metadata)
    engine.dispose()
    assert differences == []
