"""Checking request payloads in the worker; a refusal becomes an error reply.

Standalone (the worker imports it): it imports nothing from o16n.
"""

from __future__ import annotations

from typing import TypeVar

_T = TypeVar("_T")


class RequestError(Exception):
    """A refused request; becomes the error reply `"<code>: <message>"`."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code


def check_keys(payload: dict[str, object], required: set[str], optional: set[str]) -> None:
    """Refuse payloads with missing or unknown members (bad_request)."""
    keys = payload.keys()
    if not required <= keys or not keys <= required | optional:
        raise RequestError("bad_request", f"expected members {sorted(required | optional)}")


def member(payload: dict[str, object], key: str, kind: type[_T], default: _T | None = None) -> _T:
    """A payload member of an exact type (or the default when absent), else bad_request."""
    value = payload.get(key, default)
    if type(value) is not kind:
        raise RequestError("bad_request", f"{key} must be {kind.__name__}")
    return value


def variable_name(name: object) -> str:
    """A name user code can refer to: an identifier, not a dunder (else invalid_input)."""
    if type(name) is not str or not name.isidentifier() or name.startswith("__"):
        raise RequestError("invalid_input", f"{name!r} is not a usable variable name")
    return name


def strings(payload: dict[str, object], key: str) -> list[str]:
    """A payload member that must be a list of str, else bad_request."""
    value = member(payload, key, list)
    if not all(type(item) is str for item in value):
        raise RequestError("bad_request", f"{key} must be a list of strings")
    return value
