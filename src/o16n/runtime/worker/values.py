"""Encode output values of user code as msgpack/JSON-native data (imported by the worker).

numpy and pandas are looked up in `sys.modules` only: if user code never imported them, no
value can be one of theirs, and encoding never pays for importing them.
"""

from __future__ import annotations

import datetime
import math
import sys
import types
from collections.abc import Callable
from typing import Any

_MIN_INT = -(2**63)
_MAX_INT = 2**64 - 1
_MAX_DEPTH = 200


class UnencodableValue(Exception):
    """A value with no JSON-native form; the message says what and where."""


def encode_value(value: object) -> object:
    """`value` as None/bool/int/float/str/list/dict (str keys), or raise UnencodableValue."""
    return _encode(value, 0)


def _encode(value: object, depth: int) -> object:
    """Recursive worker of encode_value."""
    if depth > _MAX_DEPTH:
        raise UnencodableValue(f"nested more than {_MAX_DEPTH} levels deep")
    kind = type(value)
    if value is None or kind is bool or kind is str:
        return value
    if kind is int:
        return _encode_int(value)  # type: ignore[arg-type]
    if kind is float:
        return value if math.isfinite(value) else None  # type: ignore[arg-type]
    if kind is list or kind is tuple:
        return [_encode(item, depth + 1) for item in value]  # type: ignore[attr-defined]
    if kind is dict:
        items = value.items()  # type: ignore[attr-defined]
        return {_key(key): _encode(item, depth + 1) for key, item in items}
    return _encode_other(value, depth)


def _encode_other(value: object, depth: int) -> object:
    """numpy and pandas objects, subclasses of the natives, sets and dates."""
    numpy = sys.modules.get("numpy")
    pandas = sys.modules.get("pandas")
    if pandas is not None and (value is pandas.NaT or value is pandas.NA):
        return None
    if numpy is not None and isinstance(value, numpy.ndarray | numpy.generic):
        return _encode_numpy(value, numpy, depth)
    if pandas is not None and isinstance(value, pandas.DataFrame | pandas.Series | pandas.Index):
        return _encode_pandas(value, depth)
    for kinds, encoder in _ENCODERS:
        if isinstance(value, kinds):
            return encoder(value, depth)
    raise UnencodableValue(f"values of type {_type_name(value)} have no JSON form")


def _encode_pandas(value: Any, depth: int) -> object:
    """A DataFrame as {column: [values]} (column order kept); a Series or Index as a list."""
    if hasattr(value, "columns"):
        return {_key(name): _encode_series(column, depth) for name, column in value.items()}
    return _encode_series(value, depth)


def _encode_int(value: int) -> int:
    """An int that fits msgpack's 64 bits."""
    if not _MIN_INT <= value <= _MAX_INT:
        raise UnencodableValue("an integer does not fit in 64 bits")
    return value


def _encode_numpy(value: Any, numpy: Any, depth: int) -> object:
    """numpy arrays as nested lists, numpy scalars as Python scalars."""
    kind = value.dtype.kind
    if kind == "M":
        return _encode_datetime64(value, numpy)
    if kind == "f":
        return _encode_floats(value, numpy)
    if kind in "biuU":
        return value.tolist()
    return _encode(value.tolist(), depth + 1)


def _encode_floats(value: Any, numpy: Any) -> object:
    """Float arrays and scalars with NaN and infinities as None."""
    if value.dtype.itemsize > 8:
        value = value.astype(numpy.float64)
    if value.ndim == 0:
        number = float(value)
        return number if math.isfinite(number) else None
    finite = numpy.isfinite(value)
    if finite.all():
        return value.tolist()
    boxed = value.astype(object)
    boxed[~finite] = None
    return boxed.tolist()


def _encode_datetime64(value: Any, numpy: Any) -> object:
    """datetime64 values as ISO strings, NaT as None."""
    text = numpy.datetime_as_string(value)
    nat = numpy.isnat(value)
    if value.ndim == 0:
        return None if nat else str(text)
    return numpy.where(nat, None, text).tolist()


def _encode_series(series: Any, depth: int) -> object:
    """A pandas Series or Index as a flat list (NaN, NaT and NA as None)."""
    numpy = sys.modules["numpy"]
    plain = isinstance(series.dtype, numpy.dtype)
    try:
        array = series.to_numpy() if plain else series.to_numpy(dtype=object)
    except (TypeError, ValueError) as exc:
        raise UnencodableValue(f"{_type_name(series)} cannot become an array: {exc}") from exc
    if array.dtype.kind == "O":
        return [_encode(item, depth + 1) for item in array.tolist()]
    return _encode(array, depth)


def _key(key: object) -> str:
    """Mapping keys become strings, as JSON requires."""
    return key if type(key) is str else str(key)


def _ordered(items: set[Any] | frozenset[Any]) -> list[Any]:
    """Sorted when the members allow it, so a set encodes the same way every time."""
    try:
        return sorted(items)
    except TypeError:
        return list(items)


def _type_name(value: object) -> str:
    """`module.Class` of a value, for messages."""
    kind = type(value)
    module = kind.__module__
    return kind.__qualname__ if module == "builtins" else f"{module}.{kind.__qualname__}"


_ENCODERS: tuple[tuple[type | types.UnionType, Callable[[Any, int], object]], ...] = (
    (str, lambda value, depth: str(value)),
    (int, lambda value, depth: _encode_int(int(value))),
    (float, lambda value, depth: _encode(float(value), depth)),
    (datetime.date | datetime.time, lambda value, depth: value.isoformat()),
    (list | tuple, lambda value, depth: [_encode(item, depth + 1) for item in value]),
    (set | frozenset, lambda value, depth: [_encode(item, depth + 1) for item in _ordered(value)]),
    (dict, lambda value, depth: {_key(k): _encode(v, depth + 1) for k, v in value.items()}),
)
