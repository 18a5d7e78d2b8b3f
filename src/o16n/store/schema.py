"""Schema versions: create a fresh database, refuse an outdated one, upgrade on request."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect

from o16n.errors import SchemaOutdated

_MIGRATIONS = Path(__file__).parent / "migrations"


def _config(engine: Engine | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    config.attributes["engine"] = engine
    return config


def head_revision() -> str:
    """The newest schema revision this code knows."""
    head = ScriptDirectory.from_config(_config()).get_current_head()
    if head is None:
        raise RuntimeError("no migrations found")
    return head


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at; None for an empty database."""
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Apply migrations up to `revision`."""
    command.upgrade(_config(engine), revision)


def prepare(engine: Engine) -> bool:
    """Make the database usable: migrate an empty one, refuse an outdated one.

    Returns True when the database was created now (first start).
    """
    current = current_revision(engine)
    if current is None and not inspect(engine).get_table_names():
        upgrade(engine)
        return True
    if current != head_revision():
        raise SchemaOutdated(
            f"the database schema is at revision {current}, this o16n needs "
            f"{head_revision()}: stop the server and run `o16n db upgrade`"
        )
    return False
