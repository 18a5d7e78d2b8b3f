"""The remote commands' stored login: `credentials.json` in the user's config directory."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

CONFIG_DIR_ENV = "O16N_CLIENT_CONFIG_DIR"
FILE_NAME = "credentials.json"
DIR_MODE = 0o700
FILE_MODE = 0o600


@dataclass(frozen=True)
class Credentials:
    """The server's URL and the token pair of the last `o16n login`."""

    url: str
    access_token: str
    refresh_token: str | None
    expires_on: float


def config_dir(override: Path | None = None) -> Path:
    """`override`, else $O16N_CLIENT_CONFIG_DIR, else $XDG_CONFIG_HOME/o16n, else ~/.config/o16n."""
    if override is not None:
        return override
    explicit = os.environ.get(CONFIG_DIR_ENV)
    if explicit:
        return Path(explicit)
    xdg = os.environ.get("XDG_CONFIG_HOME")
    base = Path(xdg) if xdg else Path.home() / ".config"
    return base / "o16n"


def load(directory: Path) -> Credentials | None:
    """The stored credentials, or None when there are none (or they are unreadable)."""
    try:
        data: object = json.loads((directory / FILE_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict):
        return None
    url, access, refresh, expires = (
        data.get("url"),
        data.get("access_token"),
        data.get("refresh_token"),
        data.get("expires_on"),
    )
    if not isinstance(url, str) or not isinstance(access, str):
        return None
    return Credentials(
        url=url,
        access_token=access,
        refresh_token=refresh if isinstance(refresh, str) else None,
        expires_on=float(expires) if isinstance(expires, int | float) else 0.0,
    )


def save(directory: Path, credentials: Credentials) -> Path:
    """Write the credentials atomically: directory 0700, file 0600; the file's path."""
    directory.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
    directory.chmod(DIR_MODE)
    path = directory / FILE_NAME
    staging = directory / f".{FILE_NAME}.{os.getpid()}"
    descriptor = os.open(staging, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as file:
            json.dump(asdict(credentials), file, indent=2)
            file.write("\n")
        staging.chmod(FILE_MODE)
        staging.replace(path)
    except BaseException:
        staging.unlink(missing_ok=True)
        raise
    return path


def remove(directory: Path) -> bool:
    """Delete the stored credentials; whether there were any."""
    path = directory / FILE_NAME
    existed = path.exists()
    path.unlink(missing_ok=True)
    return existed
