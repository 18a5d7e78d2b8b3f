"""The SQL engine and the unit of work: one transaction per use case."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import make_url

from o16n.store.batches import SqlBatches
from o16n.store.blobs import SqlBlobs
from o16n.store.login_failures import SqlLoginFailures
from o16n.store.services import SqlServices
from o16n.store.signing_keys import SqlSigningKeys
from o16n.store.snapshots import SqlSnapshots
from o16n.store.tokens import SqlTokens
from o16n.store.users import SqlUsers


def open_engine(url: str) -> Engine:
    """An engine for `url`; SQLite gets WAL, foreign keys, full sync and a busy timeout."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True)
    engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
    event.listen(engine, "connect", _configure_sqlite)
    event.listen(engine, "begin", _begin_immediate)
    return engine


def _configure_sqlite(dbapi_connection: Any, _record: object) -> None:
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def _begin_immediate(connection: Connection) -> None:
    connection.exec_driver_sql("BEGIN IMMEDIATE")


@dataclass(frozen=True)
class SqlUnitOfWork:
    """The UnitOfWork port: every repository on one connection in one transaction."""

    users: SqlUsers
    tokens: SqlTokens
    login_failures: SqlLoginFailures
    snapshots: SqlSnapshots
    services: SqlServices
    batches: SqlBatches
    signing_keys: SqlSigningKeys
    blobs: SqlBlobs


class SqlStore:
    """The MetadataStore port on SQLAlchemy."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    @contextmanager
    def unit_of_work(self) -> Iterator[SqlUnitOfWork]:
        """A transaction that commits on normal exit and rolls back on an exception."""
        with self._engine.begin() as connection:
            yield SqlUnitOfWork(
                users=SqlUsers(connection),
                tokens=SqlTokens(connection),
                login_failures=SqlLoginFailures(connection),
                snapshots=SqlSnapshots(connection),
                services=SqlServices(connection),
                batches=SqlBatches(connection),
                signing_keys=SqlSigningKeys(connection),
                blobs=SqlBlobs(connection),
            )

    @property
    def engine(self) -> Engine:
        """The SQLAlchemy engine (for schema management)."""
        return self._engine

    def describe(self) -> dict[str, str]:
        """Backend type, database name and state; raises when the database does not answer."""
        with self._engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        url = self._engine.url
        return {"type": url.get_backend_name(), "name": url.database or "", "state": "Open"}

    def close(self) -> None:
        """Release every pooled connection."""
        self._engine.dispose()
