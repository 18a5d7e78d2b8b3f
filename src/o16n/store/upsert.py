"""INSERT … ON CONFLICT in the dialect of the connection (PostgreSQL and SQLite spell it alike)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Table
from sqlalchemy.dialects import postgresql, sqlite


def insert_or_update(
    connection: Connection,
    table: Table,
    values: dict[str, Any] | list[dict[str, Any]],
    *,
    key: str,
    changes: dict[str, Any] | None = None,
) -> None:
    """Insert `values` (a row or rows); where a row with the same `key` exists, apply
    `changes` to it instead (nothing when `changes` is None). Atomic against concurrent
    inserts of the same key."""
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    statement = dialect.insert(table).values(values)
    if changes is None:
        connection.execute(statement.on_conflict_do_nothing(index_elements=[key]))
    else:
        connection.execute(statement.on_conflict_do_update(index_elements=[key], set_=changes))
