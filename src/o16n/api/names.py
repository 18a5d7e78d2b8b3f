"""Validation of names that come in the path: objects, files and parameters."""

from __future__ import annotations

import keyword

from o16n.errors import InvalidInput

MAX_FILE_NAME = 255


def object_name(name: str, field: str) -> str:
    """`name` if it is a Python identifier (objects become globals); InvalidInput otherwise."""
    if not name.isidentifier() or keyword.iskeyword(name):
        raise InvalidInput(f"{name!r} is not a valid Python identifier", field=field)
    return name


def file_name(name: str, field: str) -> str:
    """`name` if it is a plain file name: no directories, no traversal, no NUL."""
    bad = (
        not name
        or name in {".", ".."}
        or "/" in name
        or "\\" in name
        or "\x00" in name
        or len(name.encode()) > MAX_FILE_NAME
    )
    if bad:
        raise InvalidInput(
            f"{name!r} is not a plain file name (no directories, '..', NUL or empty)", field=field
        )
    return name
