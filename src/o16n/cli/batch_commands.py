"""Remote commands on batch executions: start, list, status, results, cancel, download."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from o16n.cli.remote import config_dir_option, json_option, print_json, print_table, remote
from o16n.cli.service_commands import result_json
from o16n.client import BatchStatus


def _status_json(execution_id: str, status: BatchStatus) -> dict[str, object]:
    return {
        "id": execution_id,
        "state": status.state,
        "completedItemCount": status.completed,
        "totalItemCount": status.total,
    }


def _records(path: Path) -> list[dict[str, object]]:
    """The records of --file: a JSON array of input objects ('-': standard input)."""
    try:
        text = sys.stdin.read() if str(path) == "-" else path.read_text("utf-8")
        loaded: object = json.loads(text)
    except OSError as error:
        raise click.BadParameter(str(error), param_hint="--file") from error
    except ValueError as error:
        raise click.BadParameter(f"not JSON: {error}", param_hint="--file") from error
    if not isinstance(loaded, list) or not all(isinstance(item, dict) for item in loaded):
        raise click.BadParameter("expected a JSON array of objects", param_hint="--file")
    return loaded


@click.group()
def batch() -> None:
    """Batch executions: one call of a service version per record, run by the server."""


@batch.command("start")
@click.argument("name")
@click.argument("version")
@click.option(
    "--file",
    "records_file",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="A JSON array of input objects ('-': standard input).",
)
@click.option("--parallel", type=click.IntRange(min=1), default=10, show_default=True)
@click.option("--wait", "wait_done", is_flag=True, help="Wait for the end (progress bar).")
@json_option
@config_dir_option
def start(
    *,
    name: str,
    version: str,
    records_file: Path,
    parallel: int,
    wait_done: bool,
    as_json: bool,
    config_dir: Path | None,
) -> None:
    """Start a batch execution; prints its id (and, with --wait, its final state)."""
    records = _records(records_file)
    with remote(config_dir) as server:
        execution = server.client.service(name, version).batch(records, parallel_count=parallel)
        status = execution.wait(progress=not as_json) if wait_done else None
    if as_json:
        print_json({"id": execution.id} if status is None else _status_json(execution.id, status))
    elif status is None:
        click.echo(execution.id)
    else:
        click.echo(f"{execution.id} {status.state} {status.completed}/{status.total}")


@batch.command("list")
@click.argument("name")
@click.argument("version")
@json_option
@config_dir_option
def list_batches(name: str, version: str, as_json: bool, config_dir: Path | None) -> None:
    """List your batch executions of a version (an Owner's: everybody's)."""
    with remote(config_dir) as server:
        executions = server.client.service(name, version).batches()
        found = [_status_json(e.id, e.status(partial=False)) for e in executions]
    if as_json:
        print_json(found)
        return
    rows = [
        (str(e["id"]), str(e["state"]), f"{e['completedItemCount']}/{e['totalItemCount']}")
        for e in found
    ]
    print_table(f"Batch executions of {name} {version}", ("Id", "State", "Done"), rows)


@batch.command("status")
@click.argument("name")
@click.argument("version")
@click.argument("execution_id", metavar="ID")
@click.option("--wait", "wait_done", is_flag=True, help="Wait for the end (progress bar).")
@json_option
@config_dir_option
def show_status(
    *,
    name: str,
    version: str,
    execution_id: str,
    wait_done: bool,
    as_json: bool,
    config_dir: Path | None,
) -> None:
    """Show an execution's state and progress."""
    with remote(config_dir) as server:
        execution = server.client.service(name, version).batch_execution(execution_id)
        status = (
            execution.wait(progress=not as_json) if wait_done else execution.status(partial=False)
        )
    if as_json:
        print_json(_status_json(execution_id, status))
    else:
        click.echo(f"{execution_id} {status.state} {status.completed}/{status.total}")


@batch.command("results")
@click.argument("name")
@click.argument("version")
@click.argument("execution_id", metavar="ID")
@json_option
@config_dir_option
def results(
    name: str, version: str, execution_id: str, as_json: bool, config_dir: Path | None
) -> None:
    """Show the results in input order (records not done yet are empty, or null in JSON)."""
    with remote(config_dir) as server:
        found = server.client.service(name, version).batch_execution(execution_id).results()
    if as_json:
        print_json([None if r is None else result_json(r) for r in found])
        return
    rows = [
        (str(index), "", "", "")
        if r is None
        else (str(index), str(r.success), json.dumps(r.outputs), r.error_message)
        for index, r in enumerate(found)
    ]
    print_table(execution_id, ("Index", "Success", "Outputs", "Error"), rows)


@batch.command("cancel")
@click.argument("name")
@click.argument("version")
@click.argument("execution_id", metavar="ID")
@config_dir_option
def cancel(name: str, version: str, execution_id: str, config_dir: Path | None) -> None:
    """Cancel an execution (records not started never run) and delete it with its files."""
    with remote(config_dir) as server:
        server.client.service(name, version).batch_execution(execution_id).cancel()
    click.echo(f"cancelled and deleted {execution_id}")


@batch.command("download")
@click.argument("name")
@click.argument("version")
@click.argument("execution_id", metavar="ID")
@click.argument("index", type=click.IntRange(min=0))
@click.argument("file_name", metavar="FILE")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where to write it [default: FILE's name in the current directory].",
)
@config_dir_option
def download(
    *,
    name: str,
    version: str,
    execution_id: str,
    index: int,
    file_name: str,
    output: Path | None,
    config_dir: Path | None,
) -> None:
    """Download one file that record INDEX (0-based) produced."""
    target = output or Path(Path(file_name).name)
    with remote(config_dir) as server:
        execution = server.client.service(name, version).batch_execution(execution_id)
        content = execution.download(index, file_name, to=target)
    click.echo(f"wrote {len(content)} bytes to {target}")
