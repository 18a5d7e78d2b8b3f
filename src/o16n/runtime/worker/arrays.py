"""Rebuilding the packed numeric arrays of a consume payload (see `o16n.runtime.arrays`).

Standalone (the worker imports it): numpy is imported only when a payload carries arrays,
which only a version declaring a vector or matrix input gets.
"""

from __future__ import annotations

import importlib
from typing import Any

from o16n.runtime.worker.payload import RequestError

_DTYPES = frozenset({"<f8", "<i8"})


def unpacked(arrays: object) -> dict[str, object]:
    """Each `name: [dtype, shape, bytes]` as a read-only numpy array (the input's decoder
    copies it); bad_request when one does not describe its bytes exactly."""
    if type(arrays) is not dict:
        raise RequestError("bad_request", "arrays must be a map")
    numpy: Any = importlib.import_module("numpy")
    rebuilt: dict[str, object] = {}
    for name, packed in arrays.items():
        if not (type(packed) is list and len(packed) == 3):
            raise RequestError("bad_request", f"array {name!r} must be [dtype, shape, bytes]")
        dtype, shape, data = packed
        valid_shape = type(shape) is list and all(type(n) is int and n >= 0 for n in shape)
        if dtype not in _DTYPES or not valid_shape or type(data) is not bytes:
            raise RequestError("bad_request", f"array {name!r} is not a packed array")
        count = 1
        for size in shape:
            count *= size
        if count * 8 != len(data):
            raise RequestError("bad_request", f"array {name!r} does not match its shape")
        rebuilt[name] = numpy.frombuffer(data, dtype=dtype).reshape(shape)
    return rebuilt
