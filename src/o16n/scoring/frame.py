"""Data frames on the wire <-> the tensors of a model: inputs in, output columns out."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from o16n.domain.models import JsonValue
from o16n.errors import InvalidInput

Array = npt.NDArray[Any]
Feeds = dict[str, Array]
INPUT = "inputData"
_DTYPES: dict[str, npt.DTypeLike] = {
    "tensor(float)": np.float32,
    "tensor(double)": np.float64,
    "tensor(int64)": np.int64,
    "tensor(int32)": np.int32,
    "tensor(bool)": np.bool_,
    "tensor(string)": np.object_,
}


@dataclass(frozen=True)
class Tensor:
    """One input of a model: name, element type, rank and (when fixed) width of a row."""

    name: str
    dtype: np.dtype[Any]
    rank: int
    width: int | None


def tensor(name: str, onnx_type: str, shape: Sequence[object]) -> Tensor:
    """The input `name` of a model; InvalidInput (field `model`) for a kind we cannot feed."""
    dtype = _DTYPES.get(onnx_type)
    if dtype is None or len(shape) not in (1, 2):
        raise InvalidInput(
            f"model input {name!r} is {onnx_type} of rank {len(shape)}: realtime services "
            f"take numeric, boolean or string tensors of rank 1 or 2",
            field="model",
        )
    width = shape[1] if len(shape) == 2 and isinstance(shape[1], int) else None
    return Tensor(name, np.dtype(dtype), len(shape), width)


def _columns(data: JsonValue) -> dict[str, list[JsonValue]]:
    """Column-wise data.frame `{col: [values]}` (a scalar is one row), or a list of row objects."""
    if isinstance(data, dict) and data:
        return {name: value if isinstance(value, list) else [value] for name, value in data.items()}
    if isinstance(data, list) and data and all(isinstance(row, dict) for row in data):
        rows: list[dict[str, JsonValue]] = data  # type: ignore[assignment]
        names = list(rows[0])
        for index, row in enumerate(rows):
            if list(row) != names:
                raise InvalidInput(f"row {index} has other columns than row 0", field=INPUT)
        return {name: [row[name] for row in rows] for name in names}
    raise InvalidInput(
        "inputData must be a data.frame: {column: [values]} or a non-empty list of rows",
        field=INPUT,
    )


def _array(name: str, values: list[JsonValue], dtype: np.dtype[Any]) -> Array:
    if dtype == np.object_ and not all(isinstance(value, str) for value in values):
        raise InvalidInput(f"column {name!r} must hold strings", field=f"{INPUT}.{name}")
    try:
        return np.asarray(values, dtype=dtype)
    except (TypeError, ValueError) as error:
        raise InvalidInput(
            f"column {name!r} does not convert to {dtype}: {error}", field=f"{INPUT}.{name}"
        ) from error


def _row_count(columns: dict[str, list[JsonValue]]) -> int:
    counts = {len(values) for values in columns.values()}
    if len(counts) > 1:
        first = len(next(iter(columns.values())))
        name = next(n for n, values in columns.items() if len(values) != first)
        raise InvalidInput(f"column {name!r} has another number of rows", field=f"{INPUT}.{name}")
    return counts.pop()


def feeds(inputs: tuple[Tensor, ...], data: JsonValue) -> tuple[Feeds, int]:
    """The model's inputs from `data`, and the number of rows.

    One input of rank 2 takes the columns in order as its row; otherwise each input takes the
    column of its own name.
    """
    columns = _columns(data)
    rows = _row_count(columns)
    if len(inputs) == 1 and inputs[0].rank == 2 and inputs[0].name not in columns:
        return {inputs[0].name: _matrix(inputs[0], columns, rows)}, rows
    return _by_name(inputs, columns, rows), rows


def _matrix(model_input: Tensor, columns: dict[str, list[JsonValue]], rows: int) -> Array:
    if model_input.width is not None and len(columns) != model_input.width:
        raise InvalidInput(
            f"the model takes {model_input.width} columns, got {len(columns)}: "
            f"{', '.join(columns)}",
            field=INPUT,
        )
    if model_input.dtype != np.object_:
        try:  # one conversion for the common case; column by column to name a bad one
            matrix = np.array(list(columns.values()), dtype=model_input.dtype).T
        except (TypeError, ValueError):
            pass
        else:
            if matrix.ndim == 2:
                return matrix
    matrix = np.empty((rows, len(columns)), dtype=model_input.dtype)
    for index, (name, values) in enumerate(columns.items()):
        try:
            matrix[:, index] = _array(name, values, model_input.dtype)
        except ValueError as error:  # e.g. nested lists where numbers belong
            raise InvalidInput(f"column {name!r}: {error}", field=f"{INPUT}.{name}") from error
    return matrix


def _by_name(inputs: tuple[Tensor, ...], columns: dict[str, list[JsonValue]], rows: int) -> Feeds:
    wanted = {model_input.name for model_input in inputs}
    for name in columns:
        if name not in wanted:
            raise InvalidInput(
                f"unknown column {name!r}: the model takes {', '.join(sorted(wanted))}",
                field=f"{INPUT}.{name}",
            )
    result: Feeds = {}
    for model_input in inputs:
        values = columns.get(model_input.name)
        if values is None:
            raise InvalidInput(
                f"missing column {model_input.name!r}", field=f"{INPUT}.{model_input.name}"
            )
        array = _array(model_input.name, values, model_input.dtype)
        if model_input.rank == 2 and array.ndim == 1:
            array = array.reshape(rows, 1)  # one value per row: a column vector
        result[model_input.name] = array
    return result


def column(value: object) -> JsonValue:
    """One output as a JSON column: one value per row ([N] and [N, 1] tensors flattened,
    wider rows as lists, maps with string keys)."""
    if isinstance(value, np.ndarray):
        if value.ndim == 2 and value.shape[1] == 1:
            value = value.reshape(-1)
        listed: JsonValue = value.tolist()
        return listed
    if isinstance(value, list):
        return [_plain(item) for item in value]
    raise TypeError(f"unexpected model output {type(value).__name__}")


def _plain(item: object) -> JsonValue:
    if isinstance(item, dict):
        return {str(key): _plain(inner) for key, inner in item.items()}
    if isinstance(item, np.generic):
        plain: JsonValue = item.item()
        return plain
    return item  # type: ignore[return-value]
