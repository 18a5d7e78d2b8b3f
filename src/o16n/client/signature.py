"""A service version's operation, read from its Swagger document: a method with typed inputs."""

from __future__ import annotations

import inspect
import keyword
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

R = TypeVar("R")
_SCALARS: dict[str, type] = {"integer": int, "number": float, "string": str, "boolean": bool}


@dataclass(frozen=True)
class Operation:
    """The consume operation of one service version: its operationId and its signature."""

    name: str
    summary: str
    signature: inspect.Signature


def _member(value: object, key: str) -> dict[str, object]:
    item = value.get(key) if isinstance(value, dict) else None
    return item if isinstance(item, dict) else {}


def _annotation(schema: dict[str, object]) -> object:
    """The Python type of a Swagger schema (`object` for what it leaves open)."""
    kind = schema.get("type")
    if kind == "array":
        return list[_annotation(_member(schema, "items"))]  # type: ignore[misc]
    if kind == "object":
        return dict[str, object]
    return _SCALARS.get(kind, object) if isinstance(kind, str) else object


def _parameter(name: str, schema: dict[str, object]) -> inspect.Parameter:
    kind = inspect.Parameter.KEYWORD_ONLY
    return inspect.Parameter(name, kind, annotation=_annotation(schema))


def _usable(name: str) -> bool:
    return name.isidentifier() and not keyword.iskeyword(name)


def operation(document: object, path: str, returns: object) -> Operation | None:
    """The POST operation at `path` of a Swagger 2.0 `document`, returning `returns`."""
    post = _member(_member(_member(document, "paths"), path), "post")
    name = post.get("operationId")
    if not isinstance(name, str) or not _usable(name):
        return None
    properties = _member(_member(_member(document, "definitions"), "InputParameters"), "properties")
    if not all(_usable(key) for key in properties):
        return None
    parameters = [_parameter(key, _member(properties, key)) for key in properties]
    summary = post.get("summary")
    return Operation(
        name=name,
        summary=summary if isinstance(summary, str) else "",
        signature=inspect.Signature(parameters, return_annotation=returns),
    )


def attach(target: object, found: Operation | None, call: Callable[..., R]) -> None:
    """Give `target` a method named after the operation that checks its inputs, then `call`s."""
    if found is None or hasattr(target, found.name):
        return
    signature = found.signature

    def method(**inputs: object) -> R:
        signature.bind(**inputs)
        return call(**inputs)

    method.__name__ = method.__qualname__ = found.name
    method.__doc__ = found.summary or None
    vars(method)["__signature__"] = signature
    setattr(target, found.name, method)
