"""`o16n services publish`: a Python web service from files, on an environment of its own."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import click

from o16n.cli.remote import config_dir_option, json_option, print_json, remote
from o16n.client.calls import Members
from o16n.client.environment import requirement_lines

_FILE = click.Path(exists=True, dir_okay=False, path_type=Path)


def _declarations(pairs: Sequence[str], hint: str) -> dict[str, object]:
    """NAME=TYPE pairs as a mapping of names to ML Server type names."""
    declared: dict[str, object] = {}
    for pair in pairs:
        name, equals, kind = pair.partition("=")
        if not equals or not name or not kind:
            raise click.BadParameter(f"expected NAME=TYPE, got {pair!r}", param_hint=hint)
        declared[name] = kind
    return declared


def _requirements(file: Path | None, lines: Sequence[str]) -> list[str] | None:
    """The lines of -r FILE, then each --requirement; None when neither is given."""
    if file is None and not lines:
        return None
    return [*(requirement_lines(file) or []), *lines]


@click.command("publish")
@click.argument("name")
@click.argument("version", required=False)
@click.option("--code", "code_file", type=_FILE, required=True, help="The code, run per call.")
@click.option("--init", "init_file", type=_FILE, help="Code run once when a worker starts.")
@click.option("--input", "inputs", multiple=True, metavar="NAME=TYPE", help="An input.")
@click.option("--output", "outputs", multiple=True, metavar="NAME=TYPE", help="An output.")
@click.option("--description", help="Free text.")
@click.option("-r", "--requirements", "requirements_file", type=_FILE, help="A requirements.txt.")
@click.option(
    "--requirement", "requirements", multiple=True, metavar="LINE", help="One requirement."
)
@click.option("--python", "python_version", metavar="X.Y", help="An installed Python version.")
@json_option
@config_dir_option
def publish(  # click passes the options by name
    *,
    name: str,
    version: str | None,
    code_file: Path,
    init_file: Path | None,
    inputs: tuple[str, ...],
    outputs: tuple[str, ...],
    description: str | None,
    requirements_file: Path | None,
    requirements: tuple[str, ...],
    python_version: str | None,
    as_json: bool,
    config_dir: Path | None,
) -> None:
    """Publish the code of CODE as NAME VERSION (generated when omitted); with requirements,
    wait (with a spinner) until the server built their environment."""
    members: Members = {"code": code_file.read_text("utf-8")}
    if init_file is not None:
        members["init"] = init_file.read_text("utf-8")
    if inputs:
        members["inputs"] = _declarations(inputs, "--input")
    if outputs:
        members["outputs"] = _declarations(outputs, "--output")
    if description is not None:
        members["description"] = description
    lines = _requirements(requirements_file, requirements)
    if lines is not None:
        members["requirements"] = lines
    if python_version is not None:
        members["python_version"] = python_version
    with remote(config_dir) as server:
        published = server.client.publish(name, version, progress=not as_json, **members)
    if as_json:
        print_json({"name": name, "version": published})
        return
    click.echo(f"published {name} {published}")
