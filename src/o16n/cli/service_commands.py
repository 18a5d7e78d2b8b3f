"""Remote commands on web services: list, show, delete, swagger, and call."""

from __future__ import annotations

import base64
import json
import sys
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path

import click

from o16n.cli.remote import (
    ServerFailure,
    config_dir_option,
    json_option,
    print_json,
    print_table,
    remote,
)
from o16n.client import ServiceInfo, ServiceResult


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
        print_json([_service_json(info) for info in infos])
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
    print_table("Web services", columns, rows)


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
        print_json(_service_json(info))
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
    print_table(f"{info.name} {info.version}", ("Field", "Value"), rows)


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
@json_option
@config_dir_option
def swagger(name: str, version: str, as_json: bool, config_dir: Path | None) -> None:
    """Print the Swagger 2.0 document of a service version (JSON with or without --json)."""
    with remote(config_dir) as server:
        document = server.client.service(name, version).swagger()
    print_json(document)


def result_json(result: ServiceResult) -> dict[str, object]:
    """A call's result as ML Server's WebServiceResult (output files in base64)."""
    return {
        "success": result.success,
        "errorMessage": result.error_message,
        "consoleOutput": result.console_output,
        "outputParameters": result.outputs,
        "outputFiles": {
            file: None if data is None else base64.b64encode(data).decode("ascii")
            for file, data in result.output_files.items()
        },
    }


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
    print_json(result_json(result))
    if not result.success:
        raise ServerFailure(result.error_message or "the service's code failed")


# --- sessions and snapshots ---------------------------------------------------------------
