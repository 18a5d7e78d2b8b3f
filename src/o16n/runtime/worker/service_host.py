"""Worker request handlers for web services: prepare a version once, then consume it many times.

Standalone (the worker imports it): it imports nothing from o16n but runtime leaf modules.
`service_prepare` restores the snapshot archives, runs initCode once and compiles code once;
each `consume` runs that code on the post-init globals and puts them back afterwards (clear and
update in place: the same cost as a shallow copy), so nothing a call sets is seen by the next,
while functions that came from the snapshot or initCode (their globals are this namespace)
see the call's inputs as ML Server's do.
"""

from __future__ import annotations

import contextlib
import gc
import importlib
import io
import types
from collections.abc import Callable
from dataclasses import dataclass

from o16n.runtime.worker import files
from o16n.runtime.worker.arrays import unpacked
from o16n.runtime.worker.conversion import TYPES, Decoder, decoder, encode_outputs
from o16n.runtime.worker.directory import file_errors
from o16n.runtime.worker.failure import MAX_MESSAGE, describe, one_line, remember_source
from o16n.runtime.worker.payload import RequestError, check_keys, member, strings, variable_name
from o16n.runtime.worker.pickling import named_objects, unpickle

INIT_FILE = "<initCode>"
CODE_FILE = "<code>"
Handler = Callable[[dict[str, object]], dict[str, object]]
_PREPARE_KEYS = {"archives", "code", "inputs", "outputs", "output_files"}


@dataclass(frozen=True, slots=True)
class _Prepared:
    """What `service_prepare` left for every call of the version."""

    code: types.CodeType | None
    compile_error: str
    inputs: tuple[tuple[str, Decoder], ...]
    input_names: frozenset[str]
    outputs: tuple[tuple[str, str], ...]
    output_files: tuple[str, ...]
    globals: dict[str, object]


class ServiceHost:
    """The service version this worker is prepared for (at most one) and its handlers."""

    def __init__(self, namespace: dict[str, object], root: int) -> None:
        self.namespace = namespace
        self.root = root
        self._prepared: _Prepared | None = None

    def handlers(self) -> dict[str, Handler]:
        """Request kind -> handler."""
        return {"preload": self.preload, "service_prepare": self.prepare, "consume": self.consume}

    def preload(self, payload: dict[str, object]) -> dict[str, object]:
        """Import modules ahead of any service (blank workers); the ones that failed, and why."""
        check_keys(payload, {"modules"}, set())
        failed = []
        for name in strings(payload, "modules"):
            try:
                importlib.import_module(name)
            except Exception as exc:  # a missing optional module must not lose the worker
                failed.append(f"{name}: {one_line(exc)}")
        gc.freeze()  # what the imports made is never garbage: collections skip it
        return {"failed": failed}

    def prepare(self, payload: dict[str, object]) -> dict[str, object]:
        """Restore the archives, run initCode, compile code, remember the post-init globals."""
        check_keys(payload, _PREPARE_KEYS, {"init_code"})
        if self._prepared is not None:
            raise RequestError("bad_request", "this worker is already prepared for a service")
        code = member(payload, "code", str)
        init_code = payload.get("init_code")
        if init_code is not None and type(init_code) is not str:
            raise RequestError("bad_request", "init_code must be str or None")
        inputs = _declared(payload, "inputs")
        outputs = _declared(payload, "outputs")
        output_files = tuple(_file_name(name) for name in strings(payload, "output_files"))
        decoders = tuple((name, _decoder(name, kind)) for name, kind in inputs)
        archives = member(payload, "archives", list)
        for archive in archives:
            if type(archive) is not bytes:
                raise RequestError("bad_request", "archives must be a list of bytes")
            self._restore(archive)
        importlib.invalidate_caches()  # modules that came as snapshot files import
        if init_code:
            self._initialize(init_code)
        compiled, compile_error = _compiled(code)
        self._prepared = _Prepared(
            compiled,
            compile_error,
            decoders,
            frozenset(name for name, _ in inputs),
            tuple(outputs),
            output_files,
            dict(self.namespace),
        )
        gc.freeze()  # the version's modules and objects live as long as the worker
        return {}

    def _restore(self, archive: bytes) -> None:
        """Lay one snapshot archive over the working directory and the namespace."""
        with file_errors("the snapshot"):
            workspace, contents = files.unpack(archive)
            for name, content in contents.items():  # files first: pickles may import them
                files.write(self.root, name, content)
        importlib.invalidate_caches()
        self.namespace.update(named_objects(unpickle(workspace, "the snapshot")))

    def _initialize(self, init_code: str) -> None:
        """Run initCode once in the namespace; its failure is the error reply `init_failed`."""
        remember_source(INIT_FILE, init_code)
        console = io.StringIO()
        with contextlib.redirect_stdout(console), contextlib.redirect_stderr(console):
            try:
                exec(compile(init_code, INIT_FILE, "exec"), self.namespace)
            except BaseException as exc:  # user code may raise anything, SystemExit included
                raise RequestError("init_failed", describe(exc, __file__)) from None

    def consume(self, payload: dict[str, object]) -> dict[str, object]:
        """One call: bind inputs, run code, read outputs and output files, restore globals."""
        prepared = self._prepared
        if prepared is None:
            raise RequestError("bad_request", "this worker is not prepared for a service")
        inputs = payload.get("inputs")
        arrays = payload.get("arrays")
        if type(inputs) is not dict or len(payload) != 1 + (arrays is not None):
            raise RequestError("bad_request", "expected members ['inputs'] (a map), ['arrays']")
        if arrays is not None:
            inputs = {**inputs, **unpacked(arrays)}
        namespace = self.namespace
        try:
            _bind(prepared, inputs, namespace)
            for name in prepared.output_files:
                with contextlib.suppress(OSError):
                    files.delete(self.root, name)
            console = io.StringIO()
            with contextlib.redirect_stdout(console), contextlib.redirect_stderr(console):
                error = prepared.compile_error or _run(prepared.code, namespace)
            messages = [error] if error else []
            outputs = dict(encode_outputs(prepared.outputs, namespace, messages))
        finally:
            namespace.clear()
            namespace.update(prepared.globals)
        produced = {name: _read(self.root, name) for name in prepared.output_files}
        return {
            "success": not messages,
            "errorMessage": "\n".join(messages)[-MAX_MESSAGE:],
            "consoleOutput": console.getvalue(),
            "outputs": outputs,
            "outputFiles": produced,
            "changedFiles": [name for name, data in produced.items() if data is not None],
        }


def _bind(prepared: _Prepared, inputs: dict[object, object], namespace: dict[str, object]) -> None:
    """Decode each declared input into a global; invalid_input when one is missing or wrong."""
    if inputs.keys() != prepared.input_names:
        missing = sorted(prepared.input_names - inputs.keys())
        unknown = sorted(str(name) for name in inputs.keys() - prepared.input_names)
        raise RequestError("invalid_input", f"missing inputs {missing}, unknown inputs {unknown}")
    for name, decode in prepared.inputs:
        try:
            namespace[name] = decode(inputs[name])
        except Exception as exc:
            raise RequestError("invalid_input", f"input {name!r}: {one_line(exc)}") from None


def _run(code: types.CodeType | None, namespace: dict[str, object]) -> str:
    """Run the compiled code; '' on success, else the short traceback."""
    try:
        exec(code, namespace)  # type: ignore[arg-type]  # None only with a compile error
    except BaseException as exc:  # user code may raise anything, SystemExit included
        return describe(exc, __file__)
    return ""


def _read(root: int, name: str) -> bytes | None:
    """A declared output file's content, or None when the call did not produce it."""
    try:
        return files.read(root, name)
    except OSError:
        return None


def _compiled(code: str) -> tuple[types.CodeType | None, str]:
    """The code compiled once, or the SyntaxError every call will report."""
    remember_source(CODE_FILE, code)
    try:
        return compile(code, CODE_FILE, "exec"), ""
    except (SyntaxError, ValueError) as exc:
        return None, describe(exc, __file__)


def _declared(payload: dict[str, object], key: str) -> list[tuple[str, str]]:
    """[[name, type]] pairs of declared parameters, names usable as globals, types known."""
    pairs: list[tuple[str, str]] = []
    for pair in member(payload, key, list):
        if not (type(pair) is list and len(pair) == 2 and all(type(x) is str for x in pair)):
            raise RequestError("bad_request", f"{key} must be [name, type] pairs")
        name, kind = variable_name(pair[0]), pair[1]
        if kind not in TYPES:
            raise RequestError("invalid_input", f"{name!r} has an unknown type {kind!r}")
        pairs.append((name, kind))
    return pairs


def _decoder(name: str, kind: str) -> Decoder:
    """The input decoder of a type; a module it needs that is missing is named."""
    try:
        return decoder(kind)
    except ImportError as exc:
        raise RequestError("invalid_input", f"input {name!r} ({kind}): {one_line(exc)}") from None


def _file_name(name: str) -> str:
    """A declared output file name (a relative path inside the working directory)."""
    try:
        return files.relative_path(name)
    except ValueError as exc:
        raise RequestError("invalid_input", str(exc)) from None
