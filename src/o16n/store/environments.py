"""How a version's or snapshot's environment is stored: one JSON column, its id beside it."""

from __future__ import annotations

from typing import Any

from o16n.domain.models import Environment


def environment_values(environment: Environment | None) -> dict[str, object]:
    """The `environment` and `environment_id` column values."""
    if environment is None:
        return {"environment": None, "environment_id": None}
    document = {
        "requirements": list(environment.requirements),
        "pythonVersion": environment.python_version,
        "lock": environment.lock,
    }
    return {"environment": document, "environment_id": environment.id}


def environment_of(document: dict[str, Any] | None) -> Environment | None:
    """The environment stored in an `environment` column."""
    if document is None:
        return None
    return Environment(
        requirements=tuple(document["requirements"]),
        python_version=document["pythonVersion"],
        lock=document["lock"],
    )
