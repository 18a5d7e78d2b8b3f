"""Declared Python environments: what a publish, patch or session asks for, checked before the
installer sees it, and which environment a version or session then runs on."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from o16n.domain.models import Environment, EnvironmentState
from o16n.domain.ports import EnvironmentBuilder
from o16n.errors import EnvironmentBuilding, EnvironmentFailed, InvalidInput

MAX_REQUIREMENTS = 200
_SPECIFIER = r"(===|==|!=|~=|<=|>=|<|>)\s*[A-Za-z0-9.*+!_-]+"
# A name, extras, version specifiers and a marker: no options (-e, --index-url, -r), no URLs or
# paths (packages come only from the indexes the administrator configured).
_REQUIREMENT = re.compile(
    r"^[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?"
    r"(\s*\[\s*[A-Za-z0-9._-]+(\s*,\s*[A-Za-z0-9._-]+)*\s*\])?"
    rf"(\s*\(?\s*{_SPECIFIER}(\s*,\s*{_SPECIFIER})*\s*\)?)?"
    r"(\s*;\s*[^@\\]+)?$"
)
_PYTHON = re.compile(r"^3\.\d{1,2}$")


@dataclass(frozen=True)
class Declaration:
    """What a request declares; None means "not given" (empty requirements clear them)."""

    requirements: tuple[str, ...] | None = None
    python_version: str | None = None

    @property
    def given(self) -> bool:
        """Whether the request declares an environment at all."""
        return self.requirements is not None or self.python_version is not None


NOTHING_DECLARED = Declaration()


def checked_requirements(lines: Sequence[str] | None) -> tuple[str, ...] | None:
    """Requirement lines (pip's specifier syntax, one requirement each), or None."""
    if lines is None:
        return None
    if len(lines) > MAX_REQUIREMENTS:
        raise InvalidInput(f"at most {MAX_REQUIREMENTS} requirements", field="requirements")
    checked = []
    for index, line in enumerate(lines):
        text = line.strip()
        if not _REQUIREMENT.match(text):
            raise InvalidInput(
                f"{line!r} is not a requirement: give a package name with optional extras, "
                "versions and a marker, like 'scikit-learn==1.5.2' (no options, URLs or paths)",
                field=f"requirements[{index}]",
            )
        checked.append(text)
    return tuple(checked)


def checked_python_version(text: str | None) -> str | None:
    """A Python version like "3.12", or None."""
    if text is not None and not _PYTHON.match(text):
        raise InvalidInput(f"pythonVersion {text!r} must look like 3.12", field="pythonVersion")
    return text


def declaration(requirements: Sequence[str] | None, python_version: str | None) -> Declaration:
    """What a publish, patch or session declares, checked."""
    return Declaration(checked_requirements(requirements), checked_python_version(python_version))


def declared(
    builder: EnvironmentBuilder,
    declaration: Declaration,
    otherwise: Environment | None,
) -> Environment | None:
    """The environment a declaration asks for (resolved now, blocking), else `otherwise`;
    no requirements and no Python version means the server's own Python."""
    if not declaration.given:
        return otherwise
    requirements = declaration.requirements
    if requirements is None:
        requirements = otherwise.requirements if otherwise is not None else ()
    if not requirements and declaration.python_version is None:
        return None
    return builder.resolve(requirements, declaration.python_version)


def check_ready(builder: EnvironmentBuilder, environment: Environment, label: str) -> None:
    """Raise EnvironmentBuilding (503, retry) or EnvironmentFailed unless it is ready here."""
    state = builder.state(environment)
    if state.state == "building":
        raise EnvironmentBuilding(f"the Python environment of {label} is being built")
    if state.state == "failed":
        raise EnvironmentFailed(
            f"the Python environment of {label} could not be built: {state.message}",
            field="requirements",
        )


def state_of(builder: EnvironmentBuilder, environment: Environment | None) -> EnvironmentState:
    """The state of what a version runs on (the server's own Python is always ready)."""
    return EnvironmentState("ready") if environment is None else builder.state(environment)
