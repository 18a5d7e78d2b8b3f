"""Remote commands: log in to a server, then manage services, sessions and snapshots.

Exit codes: 0 ok, 1 the server (or the connection to it) failed, 2 usage error,
3 not logged in or not authenticated.
"""

from __future__ import annotations

import base64
import json
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote

import click
import httpx
from rich.console import Console
from rich.table import Table

from o16n.cli import credentials
from o16n.cli.credentials import Credentials
from o16n.client import Client, ServiceInfo
from o16n.client.connection import Connection
from o16n.errors import O16nError, Unauthenticated

F = TypeVar("F", bound=Callable[..., Any])

EXIT_SERVER = 1
EXIT_UNAUTHENTICATED = 3
_REFRESH_MARGIN = 60.0
_TIMEOUT = 60.0
_UNBROKEN = frozenset({"Id", "Created"})  # table columns that are not broken across lines


class ServerFailure(click.ClickException):
    """The server answered with an error, or could not be reached (exit 1)."""

    exit_code = EXIT_SERVER


class NotAuthenticated(click.ClickException):
    """No stored login, or the server refused the token or password (exit 3)."""

    exit_code = EXIT_UNAUTHENTICATED


def config_dir_option(command: F) -> F:
    """Add --config-dir (environment O16N_CLIENT_CONFIG_DIR also works)."""
    return click.option(
        "--config-dir",
        type=click.Path(file_okay=False, path_type=Path),
        envvar=credentials.CONFIG_DIR_ENV,
        help="Where the login is kept [env O16N_CLIENT_CONFIG_DIR, "
        "default $XDG_CONFIG_HOME/o16n or ~/.config/o16n].",
    )(command)


def json_option(command: F) -> F:
    """Add --json: machine-readable output instead of a table."""
    return click.option("--json", "as_json", is_flag=True, help="Print JSON.")(command)


@contextmanager
def _server_errors(*, hint: bool = False) -> Iterator[None]:
    """Turn client errors into exit codes: 3 unauthenticated, 1 anything else on the server."""
    try:
        yield
    except Unauthenticated as error:
        advice = " (run `o16n login URL`)" if hint else ""
        raise NotAuthenticated(error.message + advice) from error
    except O16nError as error:
        raise ServerFailure(error.message) from error
    except httpx.HTTPError as error:
        raise ServerFailure(f"cannot reach the server: {error}") from error


def _segment(text: str) -> str:
    return quote(text, safe="")


def _print_json(data: object) -> None:
    click.echo(json.dumps(data, indent=2, ensure_ascii=False))


def _print_table(title: str | None, columns: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    table = Table(title=title)
    for column in columns:
        table.add_column(column, overflow="fold", no_wrap=column in _UNBROKEN)
    for row in rows:
        table.add_row(*row)
    Console().print(table)


@dataclass
class Remote:
    """A logged-in client, with a raw connection for the calls the client lacks."""

    client: Client
    connection: Connection

    def get(self, path: str) -> object:
        """GET `path` as JSON."""
        body: object = self.connection.request("GET", path).json()
        return body

    def delete(self, path: str) -> None:
        """DELETE `path`."""
        self.connection.request("DELETE", path)


def _refreshed(directory: Path, stored: Credentials) -> Credentials:
    """The stored credentials, their token pair rotated first when it is (nearly) expired."""
    if stored.refresh_token is None or time.time() < stored.expires_on - _REFRESH_MARGIN:
        return stored
    connection = Connection(stored.url, timeout=_TIMEOUT)
    try:
        body = {"refreshToken": stored.refresh_token}
        reply: object = connection.request("POST", "/login/refreshToken", json=body).json()
    finally:
        connection.close()
    if not isinstance(reply, dict) or not isinstance(reply.get("access_token"), str):
        raise ServerFailure("the server's token response is not understood")
    refresh = reply.get("refresh_token")
    renewed = Credentials(
        url=stored.url,
        access_token=str(reply["access_token"]),
        refresh_token=refresh if isinstance(refresh, str) else None,
        expires_on=float(reply.get("expires_on", 0)),
    )
    credentials.save(directory, renewed)
    return renewed


@contextmanager
def remote(config_dir: Path | None) -> Iterator[Remote]:
    """The stored login as a Remote; errors of the block become exit codes."""
    directory = credentials.config_dir(config_dir)
    stored = credentials.load(directory)
    if stored is None:
        raise NotAuthenticated("not logged in: run `o16n login URL` first")
    with _server_errors(hint=True):
        current = _refreshed(directory, stored)
        connection = Connection(current.url, timeout=_TIMEOUT)
        connection.use_token(current.access_token)
        try:
            with Client(current.url, token=current.access_token, timeout=_TIMEOUT) as client:
                yield Remote(client, connection)
        finally:
            connection.close()


# --- login / logout -----------------------------------------------------------------------


@click.command()
@click.argument("url")
@click.option("--username", help="Prompted for when omitted.")
@click.option("--password", help="Prompted for (hidden) when omitted.")
@config_dir_option
def login(url: str, username: str | None, password: str | None, config_dir: Path | None) -> None:
    """Log in to the server at URL and keep the token for the other remote commands."""
    if not url.startswith(("http://", "https://")):
        raise click.BadParameter("expected an http:// or https:// URL", param_hint="URL")
    url = url.rstrip("/")
    if username is None:
        username = str(click.prompt("Username"))
    if password is None:
        password = str(click.prompt("Password", hide_input=True))
    connection = Connection(url, timeout=_TIMEOUT)
    try:
        with _server_errors():
            connection.login(username, password)
        tokens = connection.tokens
    finally:
        connection.close()
    if tokens is None:
        raise ServerFailure("the server returned no token")
    stored = Credentials(
        url=url,
        access_token=tokens.access_token,
        refresh_token=tokens.refresh_token,
        expires_on=tokens.expires_on,
    )
    path = credentials.save(credentials.config_dir(config_dir), stored)
    click.echo(f"logged in to {url} as {username} (credentials in {path})")


@click.command()
@config_dir_option
def logout(config_dir: Path | None) -> None:
    """Revoke the stored refresh token and forget the login."""
    directory = credentials.config_dir(config_dir)
    stored = credentials.load(directory)
    if stored is not None and stored.refresh_token is not None:
        connection = Connection(stored.url, timeout=_TIMEOUT)
        try:
            path = f"/login/refreshToken?refreshToken={_segment(stored.refresh_token)}"
            connection.request("DELETE", path)
        except (O16nError, httpx.HTTPError) as error:
            click.echo(f"warning: could not revoke the token on the server: {error}", err=True)
        finally:
            connection.close()
    if credentials.remove(directory):
        click.echo("logged out")
    else:
        click.echo("not logged in")


# --- services -----------------------------------------------------------------------------


def _service_json(info: ServiceInfo) -> dict[str, object]:
    return asdict(info)


def _parameters(types: dict[str, str]) -> str:
    return ", ".join(f"{name}: {kind}" for name, kind in types.items())


@click.group()
def services() -> None:
    """Published web services on the server you logged in to."""


@services.command("list")
@json_option
@config_dir_option
def list_services(as_json: bool, config_dir: Path | None) -> None:
    """List every service version you may see."""
    with remote(config_dir) as server:
        infos = server.client.services()
    if as_json:
        _print_json([_service_json(info) for info in infos])
        return
    rows = [
        (
            info.name,
            info.version,
            info.published_by,
            info.creation_time,
            _parameters(info.inputs),
            _parameters(info.outputs),
        )
        for info in infos
    ]
    columns = ("Name", "Version", "Published by", "Created", "Inputs", "Outputs")
    _print_table("Web services", columns, rows)


@services.command("show")
@click.argument("name")
@click.argument("version", required=False)
@json_option
@config_dir_option
def show_service(name: str, version: str | None, as_json: bool, config_dir: Path | None) -> None:
    """Show one version of a service (the latest when VERSION is omitted)."""
    with remote(config_dir) as server:
        info = server.client.service(name, version).info
    if as_json:
        _print_json(_service_json(info))
        return
    rows = [
        (key, "" if value is None else str(value))
        for key, value in (
            ("name", info.name),
            ("version", info.version),
            ("published by", info.published_by),
            ("created", info.creation_time),
            ("runtime", info.runtime_type),
            ("description", info.description),
            ("operation id", info.operation_id),
            ("snapshot", info.snapshot_id),
            ("inputs", _parameters(info.inputs)),
            ("outputs", _parameters(info.outputs)),
            ("output files", ", ".join(info.output_files)),
            ("permission", info.permission),
            ("init code", info.init_code),
            ("code", info.code),
        )
    ]
    _print_table(f"{info.name} {info.version}", ("Field", "Value"), rows)


@services.command("delete")
@click.argument("name")
@click.argument("version")
@config_dir_option
def delete_service(name: str, version: str, config_dir: Path | None) -> None:
    """Delete one version of a service."""
    with remote(config_dir) as server:
        server.client.delete(name, version)
    click.echo(f"deleted {name} {version}")


@services.command("swagger")
@click.argument("name")
@click.argument("version")
@config_dir_option
def swagger(name: str, version: str, config_dir: Path | None) -> None:
    """Print the Swagger 2.0 document of a service version."""
    with remote(config_dir) as server:
        document = server.client.service(name, version).swagger()
    _print_json(document)


def _inputs(pairs: Sequence[str], json_input: str | None) -> dict[str, object]:
    """The call's inputs: the JSON object of --json-input, then each --input k=v over it."""
    inputs: dict[str, object] = {}
    if json_input is not None:
        try:
            text = sys.stdin.read() if json_input == "-" else Path(json_input).read_text("utf-8")
            loaded: object = json.loads(text)
        except OSError as error:
            raise click.BadParameter(str(error), param_hint="--json-input") from error
        except ValueError as error:
            raise click.BadParameter(f"not JSON: {error}", param_hint="--json-input") from error
        if not isinstance(loaded, dict):
            raise click.BadParameter("expected a JSON object", param_hint="--json-input")
        inputs.update(loaded)
    for pair in pairs:
        key, equals, text = pair.partition("=")
        if not equals or not key:
            raise click.BadParameter(f"expected NAME=VALUE, got {pair!r}", param_hint="--input")
        try:
            inputs[key] = json.loads(text)
        except ValueError:
            inputs[key] = text
    return inputs


@click.command("call")
@click.argument("name")
@click.argument("version")
@click.option(
    "--input",
    "-i",
    "pairs",
    multiple=True,
    metavar="NAME=VALUE",
    help="An input (VALUE is parsed as JSON when it parses, else taken as a string).",
)
@click.option(
    "--json-input",
    metavar="FILE",
    help="A JSON object of inputs ('-': standard input); --input values override it.",
)
@config_dir_option
def call(
    name: str, version: str, pairs: tuple[str, ...], json_input: str | None, config_dir: Path | None
) -> None:
    """Call a service version and print its JSON result (exit 1 when the code failed)."""
    inputs = _inputs(pairs, json_input)
    with remote(config_dir) as server:
        result = server.client.service(name, version).consume(**inputs)
    _print_json(
        {
            "success": result.success,
            "errorMessage": result.error_message,
            "consoleOutput": result.console_output,
            "outputParameters": result.outputs,
            "outputFiles": {
                file: None if data is None else base64.b64encode(data).decode("ascii")
                for file, data in result.output_files.items()
            },
        }
    )
    if not result.success:
        raise ServerFailure(result.error_message or "the service's code failed")


# --- sessions and snapshots ---------------------------------------------------------------


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
        _print_json(records)
        return
    keys = ("id", "name", "owner", "runtimeType", "creationTime")
    rows = [_cells(record, keys) for record in records]
    _print_table("Sessions", ("Id", "Name", "Owner", "Runtime", "Created"), rows)


@sessions.command("close")
@click.argument("session_id", metavar="ID")
@click.option("--force", is_flag=True, help="Kill the interpreter instead of closing politely.")
@config_dir_option
def close_session(session_id: str, force: bool, config_dir: Path | None) -> None:
    """Close a session."""
    path = f"/sessions/{_segment(session_id)}" + ("/force" if force else "")
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
        _print_json(records)
        return
    keys = ("id", "name", "owner", "creationTime", "contentSize")
    rows = [_cells(record, keys) for record in records]
    _print_table("Snapshots", ("Id", "Name", "Owner", "Created", "Size (bytes)"), rows)


@snapshots.command("delete")
@click.argument("snapshot_id", metavar="ID")
@config_dir_option
def delete_snapshot(snapshot_id: str, config_dir: Path | None) -> None:
    """Delete a snapshot."""
    with remote(config_dir) as server:
        server.client.delete_snapshot(snapshot_id)
    click.echo(f"deleted snapshot {snapshot_id}")


COMMANDS: tuple[click.Command, ...] = (
    login,
    logout,
    services,
    call,
    sessions,
    snapshots,
)
