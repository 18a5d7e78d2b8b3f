"""Names users choose: Python identifiers (objects, parameters) and plain file names."""

from __future__ import annotations

import keyword

from o16n.errors import InvalidInput

MAX_FILE_NAME = 255


def identifier(name: str, field: str) -> str:
    """`name` if it can be a Python global (objects, parameters); InvalidInput otherwise."""
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
