"""Python environments of their own: requirement lines from a list or a requirements.txt,
and the state of a version's environment while the server builds it."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from os import PathLike
from pathlib import Path

from o16n.client.request import Flow, Request, json_list
from o16n.client.service import versions_path
from o16n.errors import EnvironmentFailed

Requirements = Sequence[str] | PathLike[str]
BUILD_TIMEOUT = 600.0


def requirement_lines(value: Requirements | None) -> list[str] | None:
    """Requirement lines from a list of them or from a requirements.txt (comments and blank
    lines left out); None when not given."""
    if value is None:
        return None
    if isinstance(value, str):
        raise TypeError("requirements: give a list of lines or the Path of a requirements.txt")
    if isinstance(value, PathLike):
        lines: Sequence[str] = Path(value).read_text().splitlines()
    else:
        lines = value
    kept = (line.split(" #", 1)[0].strip() for line in lines)
    return [line for line in kept if line and not line.startswith("#")]


def environment_members(
    requirements: Requirements | None, python_version: str | None
) -> dict[str, object]:
    """The wire members that declare an environment (none when nothing is declared)."""
    members: dict[str, object] = {}
    lines = requirement_lines(requirements)
    if lines is not None:
        members["requirements"] = lines
    if python_version is not None:
        members["pythonVersion"] = python_version
    return members


def readiness(name: str, version: str) -> Flow[str]:
    """The version's state (`building` or `ready`); EnvironmentFailed when its build failed."""
    entries = json_list((yield Request("GET", versions_path(name, version))))
    entry = entries[0] if entries and isinstance(entries[0], dict) else {}
    state = str(entry.get("state", "ready"))
    if state == "failed":
        raise EnvironmentFailed(str(entry.get("stateMessage")), field="requirements")
    return state


@contextmanager
def building_display(name: str, version: str, shown: bool) -> Iterator[None]:
    """A spinner on standard error while the environment builds (when `shown`)."""
    if not shown:
        yield
        return
    from rich.console import Console

    with Console(stderr=True).status(f"building the Python environment of {name}/{version}"):
        yield
