"""Declared service parameters: checking definitions at publish, and input values per call."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

from o16n.domain.models import JsonValue, Parameter, ParameterType
from o16n.domain.names import identifier
from o16n.errors import InvalidInput


def definitions(raw: Sequence[tuple[str, str]], field: str) -> tuple[Parameter, ...]:
    """Parameters from (name, type) pairs: identifiers, known types, no duplicates."""
    seen: set[str] = set()
    parameters = []
    for index, (name, type_name) in enumerate(raw):
        identifier(name, f"{field}[{index}].name")
        if name in seen:
            raise InvalidInput(f"parameter {name!r} is declared twice", field=f"{field}[{index}]")
        seen.add(name)
        try:
            kind = ParameterType.parse(type_name)
        except ValueError as error:
            known = ", ".join(t.value for t in ParameterType)
            raise InvalidInput(
                f"unknown type {type_name!r}: use one of {known}", field=f"{field}[{index}].type"
            ) from error
        parameters.append(Parameter(name, kind))
    return tuple(parameters)


def _is_number(value: JsonValue) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _integer(value: JsonValue) -> JsonValue:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    raise ValueError("an integer")


def _numeric(value: JsonValue) -> JsonValue:
    if _is_number(value):
        return value
    raise ValueError("a number")


def _character(value: JsonValue) -> JsonValue:
    if isinstance(value, str):
        return value
    raise ValueError("a string")


def _logical(value: JsonValue) -> JsonValue:
    if isinstance(value, bool):
        return value
    if value in (0, 1) and _is_number(value):
        return bool(value)
    raise ValueError("true or false")


def _vector(value: JsonValue) -> JsonValue:
    if isinstance(value, list):
        return value
    raise ValueError("an array")


def _matrix(value: JsonValue) -> JsonValue:
    if isinstance(value, list) and all(isinstance(row, list) for row in value):
        widths = {len(row) for row in value if isinstance(row, list)}
        if len(widths) <= 1:
            return value
    raise ValueError("an array of rows of equal length")


def _data_frame(value: JsonValue) -> JsonValue:
    if isinstance(value, dict):
        return value
    if isinstance(value, list) and all(isinstance(row, dict) for row in value):
        return value
    raise ValueError("an object of columns or an array of row objects")


_CHECKS: dict[ParameterType, Callable[[JsonValue], JsonValue]] = {
    ParameterType.INTEGER: _integer,
    ParameterType.NUMERIC: _numeric,
    ParameterType.CHARACTER: _character,
    ParameterType.LOGICAL: _logical,
    ParameterType.VECTOR: _vector,
    ParameterType.MATRIX: _matrix,
    ParameterType.DATA_FRAME: _data_frame,
}


def inputs(declared: Sequence[Parameter], body: object) -> dict[str, JsonValue]:
    """The call's inputs checked against `declared`; InvalidInput naming the field otherwise.

    Every declared input is required; unknown members are refused; values are checked for
    their JSON shape here, and turned into numpy/pandas objects only inside the worker.
    """
    if not isinstance(body, dict):
        raise InvalidInput(
            "request body must be a JSON object of the service's inputs", field="body"
        )
    known = [parameter.name for parameter in declared]
    for name in body:
        if name not in known:
            takes = f"its inputs are: {', '.join(known)}" if known else "it takes no inputs"
            raise InvalidInput(f"{name!r} is not an input of this service; {takes}", field=name)
    checked: dict[str, JsonValue] = {}
    for parameter in declared:
        if parameter.name not in body:
            raise InvalidInput(f"input {parameter.name!r} is missing", field=parameter.name)
        value = body[parameter.name]
        try:
            checked[parameter.name] = _CHECKS[parameter.type](value)
        except ValueError as error:
            raise InvalidInput(
                f"input {parameter.name!r} ({parameter.type.value}) must be {error}",
                field=parameter.name,
            ) from error
        if isinstance(value, float) and not math.isfinite(value):
            raise InvalidInput(f"input {parameter.name!r} is not finite", field=parameter.name)
    return checked
