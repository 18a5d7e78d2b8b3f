"""Options shared by the commands that work on a data directory."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click
from pydantic import ValidationError

from o16n.settings import Settings

F = TypeVar("F", bound=Callable[..., Any])


def data_dir_options(command: F) -> F:
    """Add --data-dir and --config (environment O16N_DATA_DIR / O16N_CONFIG_FILE also work)."""
    command = click.option(
        "--config",
        "config_file",
        type=click.Path(dir_okay=False, path_type=Path),
        help="TOML settings file.",
    )(command)
    return click.option(
        "--data-dir",
        type=click.Path(file_okay=False, path_type=Path),
        help="Data directory [env O16N_DATA_DIR].",
    )(command)


def settings_from(**overrides: object) -> Settings:
    """Settings from flags that were given, then environment, then the config file."""
    given = {name: value for name, value in overrides.items() if value is not None}
    try:
        return Settings(**given)  # type: ignore[arg-type]
    except ValidationError as error:
        # Without the input values: a model-wide error would print every setting, secrets too.
        problems = "; ".join(
            f"{'.'.join(map(str, problem['loc'])) or 'settings'}: {problem['msg']}"
            for problem in error.errors(include_url=False, include_input=False)
        )
        raise click.UsageError(f"invalid settings: {problems}") from error
