"""dill in the worker: the one place that unpickles, naming what could not be unpickled.

dill is imported on first use, once `__main__` is the namespace of the session or service, so
that objects pickled from `__main__` find their globals there.
"""

from __future__ import annotations

import io
import pickle
import sys
import types

from o16n.runtime.worker.failure import one_line
from o16n.runtime.worker.payload import RequestError, variable_name


def dill_module() -> types.ModuleType:
    """dill, imported on first use."""
    import dill

    module: types.ModuleType = dill
    return module


def unpickle(data: bytes, what: str) -> object:
    """The object in dill bytes; unpickle_failed naming `what`, and the object of a pickled
    dict of named objects whose value failed (with the missing module, say)."""
    try:
        return dill_module().loads(data)
    except Exception as exc:
        culprit = _culprit(data)
        failed = what if culprit is None else f"object {culprit!r} of {what}"
        raise RequestError(
            "unpickle_failed", f"cannot unpickle {failed}: {one_line(exc)}"
        ) from None


def named_objects(value: object) -> dict[str, object]:
    """A snapshot's workspace: a dict whose names are usable as globals; invalid_input if not."""
    if not isinstance(value, dict) or not all(type(name) is str for name in value):
        raise RequestError("invalid_input", "a snapshot must hold a dict of named objects")
    for name in value:
        variable_name(name)
    return value


class _Probe(pickle._Unpickler):
    """A pure-Python unpickler resolving names as dill's does, whose stack can be inspected."""

    def find_class(self, module: str, name: str) -> object:
        """dill's special names, then the usual lookup."""
        if (module, name) == ("__builtin__", "__main__"):
            return sys.modules["__main__"].__dict__
        if (module, name) == ("__builtin__", "NoneType"):
            return type(None)
        return super().find_class("dill._dill" if module == "dill.dill" else module, name)


def _culprit(data: bytes) -> str | None:
    """The name whose value was being unpickled when unpickling a dict of objects failed."""
    probe = _Probe(io.BytesIO(data))
    try:
        probe.load()
        return None
    except Exception:
        levels: list[list[object]] = [*getattr(probe, "metastack", []), getattr(probe, "stack", [])]
    outer = levels[0] if levels else []
    if not outer or type(outer[0]) is not dict:
        return None
    items = outer[1:] if len(outer) > 1 else (levels[1] if len(levels) > 1 else [])
    if len(items) % 2 == 1 and type(items[-1]) is str:
        return items[-1]
    return None
