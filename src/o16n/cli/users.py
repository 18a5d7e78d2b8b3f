"""`o16n users …`: account administration directly on the database."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import click

from o16n.cli.options import data_dir_options, settings_from
from o16n.cli.remote import json_option, print_json
from o16n.domain.models import Role
from o16n.errors import O16nError

if TYPE_CHECKING:
    from o16n.domain.accounts import Accounts

_ROLE_CHOICES = click.Choice(["Owner", "Contributor", "Reader", "none"], case_sensitive=False)


def _role(text: str) -> Role | None:
    return None if text.lower() == "none" else Role.parse(text)


@contextmanager
def _accounts(data_dir: Path | None, config_file: Path | None) -> Iterator[Accounts]:
    from o16n.app import accounts_for, open_store, signer_for
    from o16n.store import schema

    settings = settings_from(data_dir=data_dir, config_file=config_file)
    try:
        with open_store(settings, create=True) as store:
            schema.prepare(store.engine)
            yield accounts_for(settings, store, signer_for(settings, store))
    except O16nError as error:
        raise click.ClickException(error.message) from error


@click.group("users")
def users() -> None:
    """Manage accounts (works whether the server runs or not)."""


@users.command("add")
@click.argument("name")
@click.option("--role", type=_ROLE_CHOICES, required=True, help="Owner, Contributor or Reader.")
@click.password_option(help="Prompted for when omitted.")
@data_dir_options
def add(
    name: str, role: str, password: str, data_dir: Path | None, config_file: Path | None
) -> None:
    """Create an account."""
    with _accounts(data_dir, config_file) as accounts:
        user = accounts.add_user(name, password, _role(role))
    click.echo(f"added {user.username} ({user.role or 'no role'})")


@users.command("list")
@json_option
@data_dir_options
def list_users(as_json: bool, data_dir: Path | None, config_file: Path | None) -> None:
    """List accounts and their roles (one per line, tab-separated)."""
    with _accounts(data_dir, config_file) as accounts:
        listed = [(user.username, user.role) for user in accounts.users()]
    if as_json:
        print_json([{"username": name, "role": role} for name, role in listed])
        return
    for name, role in listed:
        click.echo(f"{name}\t{role or 'none'}")


@users.command("remove")
@click.argument("name")
@data_dir_options
def remove(name: str, data_dir: Path | None, config_file: Path | None) -> None:
    """Delete an account; its tokens stop working."""
    with _accounts(data_dir, config_file) as accounts:
        accounts.remove_user(name)
    click.echo(f"removed {name}")


@users.command("set-role")
@click.argument("name")
@click.argument("role", type=_ROLE_CHOICES)
@data_dir_options
def set_role(name: str, role: str, data_dir: Path | None, config_file: Path | None) -> None:
    """Give an account another role ("none": no rights)."""
    with _accounts(data_dir, config_file) as accounts:
        user = accounts.set_role(name, _role(role))
    click.echo(f"{user.username} is now {user.role or 'without a role'}")


@users.command("set-password")
@click.argument("name")
@click.password_option(help="Prompted for when omitted.")
@data_dir_options
def set_password(name: str, password: str, data_dir: Path | None, config_file: Path | None) -> None:
    """Replace an account's password; its tokens stop working."""
    with _accounts(data_dir, config_file) as accounts:
        accounts.set_password(name, password)
    click.echo(f"password of {name} changed")
