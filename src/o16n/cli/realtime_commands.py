"""Remote commands on realtime services: publish and patch an ONNX model."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from o16n.cli.remote import config_dir_option, json_option, print_json, remote

_MODEL = click.Path(exists=True, dir_okay=False, path_type=Path)
F = TypeVar("F", bound=Callable[..., Any])


def _batching_options(command: F) -> F:
    """Add --max-batch-size and --max-batch-wait-ms."""
    command = click.option(
        "--max-batch-wait-ms",
        type=click.FloatRange(0),
        help="How long a short batch waits for more calls (0: no wait).",
    )(command)
    return click.option(
        "--max-batch-size",
        type=click.IntRange(1),
        help="Rows merged into one model run (1: no batching).",
    )(command)


@click.group()
def realtime() -> None:
    """Realtime services: ONNX models scored in the server, calls batched."""


@realtime.command("publish")
@click.argument("name")
@click.argument("version", required=False)
@click.option("--model", "model_file", type=_MODEL, required=True, help="The .onnx file.")
@click.option("--description", help="Free text.")
@click.option("--operation-id", help="Alias of the consume operation (Swagger, SDKs).")
@_batching_options
@json_option
@config_dir_option
def publish(  # click passes the options by name
    *,
    name: str,
    version: str | None,
    model_file: Path,
    description: str | None,
    operation_id: str | None,
    max_batch_size: int | None,
    max_batch_wait_ms: float | None,
    as_json: bool,
    config_dir: Path | None,
) -> None:
    """Publish MODEL_FILE as NAME VERSION (a generated version when VERSION is omitted)."""
    with remote(config_dir) as server:
        published = server.client.publish_realtime(
            name,
            version,
            model=model_file.read_bytes(),
            description=description,
            operation_id=operation_id,
            max_batch_size=max_batch_size,
            max_batch_wait_ms=max_batch_wait_ms,
        )
    if as_json:
        print_json({"name": name, "version": published})
        return
    click.echo(f"published {name} {published}")


@realtime.command("patch")
@click.argument("name")
@click.argument("version")
@click.option("--model", "model_file", type=_MODEL, help="A new .onnx file.")
@click.option("--description", help="Free text.")
@_batching_options
@config_dir_option
def patch(
    *,
    name: str,
    version: str,
    model_file: Path | None,
    description: str | None,
    max_batch_size: int | None,
    max_batch_wait_ms: float | None,
    config_dir: Path | None,
) -> None:
    """Change a realtime version: its model, description or batching settings."""
    with remote(config_dir) as server:
        server.client.patch_realtime(
            name,
            version,
            model=None if model_file is None else model_file.read_bytes(),
            description=description,
            max_batch_size=max_batch_size,
            max_batch_wait_ms=max_batch_wait_ms,
        )
    click.echo(f"patched {name} {version}")
