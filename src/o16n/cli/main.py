"""The `o16n` command: serve, db upgrade, users, and the remote commands (login, services…)."""

from __future__ import annotations

import os
from pathlib import Path

import click

from o16n import __version__
from o16n.cli.batch_commands import batch
from o16n.cli.options import data_dir_options, settings_from
from o16n.cli.publish_command import publish
from o16n.cli.realtime_commands import realtime
from o16n.cli.remote import login, logout
from o16n.cli.service_commands import call, services
from o16n.cli.session_commands import sessions, snapshots
from o16n.cli.users import users
from o16n.errors import O16nError

PRIVATE_UMASK = 0o077  # files the server writes (database, keys, blobs) are its own
# The server's modules are imported inside the commands that use them, so that the remote
# commands (which need only the client) start quickly.


@click.group()
@click.version_option(__version__, prog_name="o16n")
def main() -> None:
    """o16n: publish Python code and models as versioned REST web services."""
    os.umask(PRIVATE_UMASK)


@main.command()
@data_dir_options
@click.option("--host", help="Address to bind [env O16N_HOST, default 127.0.0.1].")
@click.option("--port", type=int, help="Port to bind [env O16N_PORT, default 12800].")
@click.option("--fd", type=int, hidden=True, help="Serve on this already-bound socket.")
def serve(
    data_dir: Path | None,
    config_file: Path | None,
    host: str | None,
    port: int | None,
    fd: int | None,
) -> None:
    """Start the server (creates the data directory and database on first start)."""
    from o16n.serve import serve as run_server

    settings = settings_from(data_dir=data_dir, config_file=config_file, host=host, port=port)
    try:
        run_server(settings, fd=fd)
    except O16nError as error:
        raise click.ClickException(error.message) from error


@main.group()
def db() -> None:
    """Database schema management."""


@db.command()
@data_dir_options
@click.option("--revision", default="head", hidden=True, help="Target revision.")
def upgrade(data_dir: Path | None, config_file: Path | None, revision: str) -> None:
    """Upgrade the database schema to this version of o16n."""
    from o16n.app import open_store
    from o16n.store import schema

    settings = settings_from(data_dir=data_dir, config_file=config_file)
    with open_store(settings, create=True) as store:
        before = schema.current_revision(store.engine)
        schema.upgrade(store.engine, revision)
        after = schema.current_revision(store.engine)
    click.echo(f"database schema: {before or 'empty'} -> {after}")


for command in (users, login, logout, services, call, sessions, snapshots, batch, realtime):
    main.add_command(command)
services.add_command(publish)
