"""Declared service parameter types in the worker: decoding inputs, shaping outputs (ref. §15).

Standalone (the worker imports it): it imports nothing from o16n but runtime leaf modules.
numpy and pandas are imported when a worker is prepared for a service that declares a type
needing them, never per call.
"""

from __future__ import annotations

import importlib
import warnings
from collections.abc import Callable, Sequence
from typing import Any

from o16n.runtime.worker.values import encode_value

Decoder = Callable[[Any], object]
TYPES = frozenset({"integer", "numeric", "character", "logical", "vector", "matrix", "data.frame"})


_SCALARS: dict[str, Decoder] = {"integer": int, "numeric": float, "character": str, "logical": bool}


def decoder(kind: str) -> Decoder:
    """The function that turns a JSON value into the Python value of declared type `kind`."""
    if kind in _SCALARS:
        return _SCALARS[kind]
    if kind == "vector":
        numpy: Any = importlib.import_module("numpy")
        return numpy.array  # type: ignore[no-any-return]
    if kind == "matrix":
        numpy = importlib.import_module("numpy")
        # numpy.matrix is what the reference's clients send and expect; its warning is noise
        warnings.filterwarnings("ignore", "the matrix subclass", PendingDeprecationWarning)
        return numpy.matrix  # type: ignore[no-any-return]
    if kind == "data.frame":
        frame: Any = importlib.import_module("pandas").DataFrame
        return lambda value: _data_frame(frame, value)
    raise ValueError(f"unknown parameter type {kind!r}")


def _data_frame(frame: Any, value: object) -> object:
    """A DataFrame from {column: [values]}, a list of row objects, or one row {column: value}."""
    if isinstance(value, dict) and value and not any(isinstance(v, list) for v in value.values()):
        return frame([value])
    return frame(value)


def encode_outputs(
    declared: Sequence[tuple[str, str | None]], namespace: dict[str, object], messages: list[str]
) -> list[tuple[str, object]]:
    """Each (name, type) output of `namespace` as JSON data: None when it cannot be encoded,
    with a message (an encoder failure must not fail the request); type None: as it is."""
    values: list[tuple[str, object]] = []
    for name, kind in declared:
        try:
            values.append((name, encode_output(kind, namespace.get(name))))
        except Exception as exc:
            values.append((name, None))
            messages.append(f"output {name!r} cannot be encoded: {exc}")
    return values


def encode_output(kind: str | None, value: object) -> object:
    """An output value as JSON data; a `matrix` that is one-dimensional becomes one row."""
    encoded = encode_value(value)
    one_dimensional = isinstance(encoded, list) and not all(isinstance(r, list) for r in encoded)
    return [encoded] if kind == "matrix" and one_dimensional else encoded
