"""Remote commands on sessions and snapshots: list, close, delete."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import click

from o16n.cli.remote import (
    config_dir_option,
    json_option,
    print_json,
    print_table,
    remote,
    segment,
)


def _records(body: object) -> list[dict[str, object]]:
    return [item for item in body if isinstance(item, dict)] if isinstance(body, list) else []


def _cells(record: dict[str, object], keys: Sequence[str]) -> tuple[str, ...]:
    return tuple("" if record.get(key) is None else str(record.get(key)) for key in keys)


@click.group()
def sessions() -> None:
    """Your Python sessions on the server (an Owner sees everybody's)."""


@sessions.command("list")
@json_option
@config_dir_option
def list_sessions(as_json: bool, config_dir: Path | None) -> None:
    """List sessions."""
    with remote(config_dir) as server:
        records = _records(server.get("/sessions"))
    if as_json:
        print_json(records)
        return
    keys = ("id", "name", "owner", "runtimeType", "creationTime")
    rows = [_cells(record, keys) for record in records]
    print_table("Sessions", ("Id", "Name", "Owner", "Runtime", "Created"), rows)


@sessions.command("close")
@click.argument("session_id", metavar="ID")
@click.option("--force", is_flag=True, help="Kill the interpreter instead of closing politely.")
@config_dir_option
def close_session(session_id: str, force: bool, config_dir: Path | None) -> None:
    """Close a session."""
    path = f"/sessions/{segment(session_id)}" + ("/force" if force else "")
    with remote(config_dir) as server:
        server.delete(path)
    click.echo(f"closed session {session_id}")


@click.group()
def snapshots() -> None:
    """Your snapshots on the server."""


@snapshots.command("list")
@json_option
@config_dir_option
def list_snapshots(as_json: bool, config_dir: Path | None) -> None:
    """List snapshots."""
    with remote(config_dir) as server:
        records = _records(server.get("/snapshots"))
    if as_json:
        print_json(records)
        return
    keys = ("id", "name", "owner", "creationTime", "contentSize")
    rows = [_cells(record, keys) for record in records]
    print_table("Snapshots", ("Id", "Name", "Owner", "Created", "Size (bytes)"), rows)


@snapshots.command("delete")
@click.argument("snapshot_id", metavar="ID")
@config_dir_option
def delete_snapshot(snapshot_id: str, config_dir: Path | None) -> None:
    """Delete a snapshot."""
    with remote(config_dir) as server:
        server.client.delete_snapshot(snapshot_id)
    click.echo(f"deleted snapshot {snapshot_id}")
