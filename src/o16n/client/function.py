"""Service code from Python functions, as azureml-model-management-sdk's `code_fn` made it."""

from __future__ import annotations

import inspect
import textwrap
from collections.abc import Callable


def _source(fn: Callable[..., object], role: str) -> str:
    """The dedented source of a named, top-level-style function."""
    name = getattr(fn, "__name__", "")
    if not inspect.isfunction(fn) or not name.isidentifier():
        raise TypeError(f"{role} must be a named Python function (def), not {fn!r}")
    try:
        return textwrap.dedent(inspect.getsource(fn))
    except (OSError, TypeError) as error:
        raise TypeError(f"the source of {role} {name!r} is not available: {error}") from error


def code_of(
    fn: Callable[..., object], inputs: dict[str, object], outputs: dict[str, object]
) -> str:
    """`fn`'s source, then a call with the inputs as arguments bound to the outputs.

    Several outputs unpack what `fn` returns in their order; none discard it.
    """
    source = _source(fn, "fn")
    parameters = list(inspect.signature(fn).parameters)
    missing = [name for name in parameters if name not in inputs]
    if missing:
        raise ValueError(f"fn parameters {missing} are not declared in inputs")
    call = f"{fn.__name__}({', '.join(f'{name}={name}' for name in parameters)})"
    targets = ", ".join(outputs)
    return f"{source}\n{targets} = {call}\n" if targets else f"{source}\n{call}\n"


def init_of(init: str | Callable[[], object] | None) -> str | None:
    """initCode: text as given, or a function's source and a call of it."""
    if init is None or isinstance(init, str):
        return init
    if inspect.signature(init).parameters:
        raise TypeError("init must take no arguments")
    return f"{_source(init, 'init')}\n{init.__name__}()\n"
