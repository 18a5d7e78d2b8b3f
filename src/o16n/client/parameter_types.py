"""Parameter types as publish and patch take them: ML Server's type names, or the Python types
(and type names) that Microsoft's azureml-model-management-sdk maps to them."""

from __future__ import annotations

# Python type (its module and name, so that numpy and pandas need not be imported) -> ML type.
_PYTHON_TYPES = {
    ("builtins", "int"): "integer",
    ("builtins", "float"): "numeric",
    ("builtins", "str"): "character",
    ("builtins", "bool"): "logical",
    ("builtins", "list"): "vector",
    ("numpy", "ndarray"): "vector",
    ("numpy", "array"): "vector",  # the function, as the SDK also takes it
    ("numpy", "matrix"): "matrix",
    ("pandas", "DataFrame"): "data.frame",
}
# Python type names the SDK takes in place of the type; other text is sent as it is (an ML
# type name, which the server checks).
_PYTHON_NAMES = {
    "int": "integer",
    "float": "numeric",
    "str": "character",
    "bool": "logical",
    "list": "vector",
    "array": "vector",
    "ndarray": "vector",
    "DataFrame": "data.frame",
}
_ACCEPTED = "int, float, str, bool, list, numpy.ndarray, numpy.matrix, pandas.DataFrame"


def _public_module(kind: object) -> str:
    """`numpy` for numpy.ndarray, `pandas` for pandas.DataFrame (defined deeper in each)."""
    return str(getattr(kind, "__module__", "")).split(".")[0]


def type_name(kind: object, what: str) -> str:
    """The ML Server type name of `kind` (a type name or a Python type) for the parameter
    `what`; TypeError naming it for anything else."""
    if isinstance(kind, str):
        return _PYTHON_NAMES.get(kind, kind)
    key = (_public_module(kind), str(getattr(kind, "__name__", "")))
    if key in _PYTHON_TYPES:
        return _PYTHON_TYPES[key]
    raise TypeError(
        f"{what}: {kind!r} is not a parameter type; give a type name (integer, numeric,"
        f" character, logical, vector, matrix, data.frame) or one of {_ACCEPTED}"
    )


def definitions(types: dict[str, object] | None, role: str) -> list[dict[str, str]] | None:
    """Parameter definitions of `types` (name -> type); `role` ("input", "output") names the
    parameter in errors."""
    if types is None:
        return None
    return [
        {"name": name, "type": type_name(kind, f"{role} {name!r}")} for name, kind in types.items()
    ]
