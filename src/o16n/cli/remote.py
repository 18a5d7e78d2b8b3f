"""Remote commands' common ground (stored login, errors, output) and `login`/`logout`.

Exit codes: 0 ok, 1 the server (or the connection to it) failed, 2 usage error,
3 not logged in or not authenticated.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote

import click
import httpx
from rich.console import Console
from rich.table import Table

from o16n.cli import credentials
from o16n.cli.credentials import Credentials
from o16n.client import Client
from o16n.client.connection import Connection
from o16n.client.request import Request, exchange
from o16n.client.tokens import Credentials as ClientCredentials
from o16n.client.tokens import Tokens
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
def server_errors(*, hint: bool = False) -> Iterator[None]:
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


def segment(text: str) -> str:
    return quote(text, safe="")


def print_json(data: object) -> None:
    click.echo(json.dumps(data, indent=2, ensure_ascii=False))


def print_table(title: str | None, columns: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
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
    pair = ClientCredentials(username=None, password=None, token=stored.access_token)
    pair.tokens = Tokens(stored.access_token, stored.expires_on, 0.0, stored.refresh_token)
    connection = Connection(stored.url, pair, timeout=_TIMEOUT)
    try:
        connection.run(pair.refresh())
    finally:
        connection.close()
    renewed = _stored(stored.url, pair)
    credentials.save(directory, renewed)
    return renewed


def _stored(url: str, pair: ClientCredentials) -> Credentials:
    """What `o16n login` keeps of the client's token pair."""
    if pair.tokens is None:
        raise ServerFailure("the server returned no token")
    return Credentials(
        url=url,
        access_token=pair.tokens.access_token,
        refresh_token=pair.tokens.refresh_token,
        expires_on=pair.tokens.expires_on,
    )


@contextmanager
def remote(config_dir: Path | None) -> Iterator[Remote]:
    """The stored login as a Remote; errors of the block become exit codes."""
    directory = credentials.config_dir(config_dir)
    stored = credentials.load(directory)
    if stored is None:
        raise NotAuthenticated("not logged in: run `o16n login URL` first")
    with server_errors(hint=True):
        current = _refreshed(directory, stored)
        token = ClientCredentials(username=None, password=None, token=current.access_token)
        connection = Connection(current.url, token, timeout=_TIMEOUT)
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
    pair = ClientCredentials(username=username, password=password, token=None)
    connection = Connection(url, pair, timeout=_TIMEOUT)
    try:
        with server_errors():
            connection.run(pair.login())
    finally:
        connection.close()
    stored = _stored(url, pair)
    path = credentials.save(credentials.config_dir(config_dir), stored)
    click.echo(f"logged in to {url} as {username} (credentials in {path})")


@click.command()
@config_dir_option
def logout(config_dir: Path | None) -> None:
    """Revoke the stored refresh token and forget the login."""
    directory = credentials.config_dir(config_dir)
    stored = credentials.load(directory)
    if stored is not None and stored.refresh_token is not None:
        anonymous = ClientCredentials(username=None, password=None, token=stored.access_token)
        connection = Connection(stored.url, anonymous, timeout=_TIMEOUT)
        try:
            path = f"/login/refreshToken?refreshToken={segment(stored.refresh_token)}"
            connection.run(exchange(Request("DELETE", path, authenticated=False)))
        except (O16nError, httpx.HTTPError) as error:
            click.echo(f"warning: could not revoke the token on the server: {error}", err=True)
        finally:
            connection.close()
    if credentials.remove(directory):
        click.echo("logged out")
    else:
        click.echo("not logged in")


# --- services -----------------------------------------------------------------------------
