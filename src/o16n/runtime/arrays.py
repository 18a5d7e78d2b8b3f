"""Numeric vector and matrix inputs sent to a worker as packed arrays, not as nested lists.

A 1,000-row matrix costs the worker more to unpack from msgpack and turn back into numpy than
its model spends predicting on it. When numpy reads a `vector` (1-D) or `matrix` (2-D) input
of at least `PACKED_MINIMUM` items (rows of a matrix) as float64 or int64, the web process
sends its bytes, dtype and shape instead (`arrays` of the consume payload); the worker rebuilds
the array and applies the declared type's decoder (numpy.array, numpy.matrix) to it, which
gives what it would have made of the list: numpy infers those two dtypes alike in every
version. Anything else (other dtypes, ragged rows, integers beyond 64 bits, short inputs) is
sent as JSON.
"""

from __future__ import annotations

import numpy

from o16n.domain.models import JsonValue

PACKED_MINIMUM = 16
_DIMENSIONS = {"vector": 1, "matrix": 2}
ARRAY_KINDS = frozenset(_DIMENSIONS)
_DTYPES = (numpy.dtype("<f8"), numpy.dtype("<i8"))


def packed_payload(inputs: dict[str, JsonValue], kinds: dict[str, str]) -> dict[str, object]:
    """The consume payload: `inputs`, the large numeric arrays among them moved to `arrays`."""
    arrays: dict[str, object] = {}
    for name, kind in kinds.items():
        value = inputs.get(name)
        if isinstance(value, list) and len(value) >= PACKED_MINIMUM:
            packed = _packed(value, _DIMENSIONS[kind])
            if packed is not None:
                arrays[name] = packed
    if not arrays:
        return {"inputs": inputs}
    rest = {name: value for name, value in inputs.items() if name not in arrays}
    return {"inputs": rest, "arrays": arrays}


def _packed(value: list[JsonValue], dimensions: int) -> list[object] | None:
    """[dtype, shape, bytes] of `value` read by numpy, or None when it must go as JSON."""
    try:
        array = numpy.asarray(value)
    except (ValueError, TypeError, OverflowError):  # ragged, or numbers numpy cannot hold
        return None
    if array.ndim != dimensions or array.dtype not in _DTYPES:
        return None
    return [array.dtype.str, list(array.shape), array.tobytes()]
