"""The worker's request loop and session handlers (`python -m o16n.runtime.worker <fd>`).

It talks to the web process over the socket `fd` only; its stdout and stderr are not the
protocol channel.
"""

from __future__ import annotations

import _thread
import builtins
import contextlib
import functools
import importlib
import io
import linecache
import os
import signal
import socket
import sys
import threading
import types
from collections import deque
from collections.abc import Callable
from types import FrameType

from o16n.runtime.limits import LIMIT_KEYS, apply_limits
from o16n.runtime.protocol import (
    DEFAULT_MAX_FRAME,
    PROTOCOL_VERSION,
    Channel,
    ExecuteResult,
    Reply,
    Request,
)
from o16n.runtime.worker import files
from o16n.runtime.worker.conversion import encode_outputs
from o16n.runtime.worker.directory import Directory, file_errors
from o16n.runtime.worker.failure import MAX_MESSAGE, describe, one_line, remember_source
from o16n.runtime.worker.payload import RequestError, check_keys, member, variable_name
from o16n.runtime.worker.pickling import dill_module, named_objects, unpickle
from o16n.runtime.worker.service_host import ServiceHost

_SOURCES_KEPT = 200


class Session:
    """The persistent user namespace (installed as `__main__`) and the handlers acting on it."""

    def __init__(self, root: int) -> None:
        self.root = root
        self.module = types.ModuleType("__main__")
        self.namespace: dict[str, object] = self.module.__dict__
        self.namespace["__builtins__"] = builtins
        sys.modules["__main__"] = self.module
        self._interruptible = False
        self._repeater: threading.Event | None = None
        self._sources: deque[str] = deque()
        self._count = 0
        self.handlers: dict[str, Callable[[dict[str, object]], dict[str, object]]] = {
            "ping": lambda payload: {},
            "shutdown": lambda payload: {},
            "execute": self.execute,
            "workspace_list": lambda payload: {"names": self._user_names()},
            "workspace_get": self.workspace_get,
            "workspace_put": self.workspace_put,
            "workspace_delete": self.workspace_delete,
            "workspace_dump": self.workspace_dump,
            "workspace_load": self.workspace_load,
            **Directory(root).handlers(),
            "snapshot_save": self.snapshot_save,
            "snapshot_load": self.snapshot_load,
            **ServiceHost(self.namespace, root).handlers(),
        }

    def on_interrupt(self, signum: int, frame: FrameType | None) -> None:
        """SIGINT handler: interrupts user code, and is ignored between requests.

        A KeyboardInterrupt raised while a finalizer runs is swallowed by Python, so once
        interrupted the call is interrupted again every 0.2 s until it ends.
        """
        if not self._interruptible:
            return
        if self._repeater is None:
            self._repeater = threading.Event()
            threading.Thread(target=_repeat_interrupt, args=(self._repeater,), daemon=True).start()
        raise KeyboardInterrupt("execution interrupted")

    def guarded(self, action: Callable[[], object]) -> tuple[object, BaseException | None]:
        """Run user-controlled `action` interruptibly; return its result or what it raised."""
        self._interruptible = True
        try:
            return action(), None
        except BaseException as exc:  # user code may raise anything, SystemExit included
            return None, exc
        finally:
            self._interruptible = False
            if self._repeater is not None:
                self._repeater.set()
                self._repeater = None

    def execute(self, payload: dict[str, object]) -> dict[str, object]:
        """Bind inputs, run code in the session namespace, read outputs."""
        check_keys(payload, {"code"}, {"inputs", "outputs"})
        code = member(payload, "code", str)
        inputs = member(payload, "inputs", dict, {})
        outputs = member(payload, "outputs", list, [])
        if not all(type(name) is str for name in outputs):
            raise RequestError("invalid_input", "output names must be strings")
        for name in inputs:
            variable_name(name)
        before = files.scan(self.root)
        importlib.invalidate_caches()  # modules written by earlier calls or uploads import
        self.namespace.update(inputs)
        console = io.StringIO()
        with contextlib.redirect_stdout(console), contextlib.redirect_stderr(console):
            error = self._run(code)
        messages = [error] if error else []
        values = encode_outputs([(name, None) for name in outputs], self.namespace, messages)
        changed = files.changed(before, files.scan(self.root))
        message = "\n".join(messages)[-MAX_MESSAGE:]
        result = ExecuteResult(not messages, console.getvalue(), message, values, changed)
        return result.to_payload()

    def _run(self, code: str) -> str:
        """Compile and run `code`; '' on success, else the formatted error."""
        self._count += 1
        filename = f"<execute-{self._count}>"
        self._remember_source(filename, code)
        _, error = self.guarded(lambda: exec(compile(code, filename, "exec"), self.namespace))
        return "" if error is None else describe(error, __file__)

    def _remember_source(self, filename: str, code: str) -> None:
        """Let tracebacks quote the lines of recent executions."""
        remember_source(filename, code)
        self._sources.append(filename)
        if len(self._sources) > _SOURCES_KEPT:
            linecache.cache.pop(self._sources.popleft(), None)

    def _user_names(self) -> list[str]:
        """User globals: no dunder names, modules or builtins."""
        return [name for name, value in self.namespace.items() if _is_user_object(name, value)]

    def _lookup(self, payload: dict[str, object]) -> str:
        """The `name` member, which must name an existing user global."""
        check_keys(payload, {"name"}, set())
        name = member(payload, "name", str)
        if name not in self.namespace or (name.startswith("__") and name.endswith("__")):
            raise RequestError("not_found", f"no object named {name!r} in the workspace")
        return name

    def workspace_get(self, payload: dict[str, object]) -> dict[str, object]:
        """One global, pickled with dill."""
        name = self._lookup(payload)
        return {"data": self._pickle(f"object {name!r}", self.namespace[name])}

    def workspace_put(self, payload: dict[str, object]) -> dict[str, object]:
        """Unpickle dill bytes and bind them as a global."""
        check_keys(payload, {"name", "data"}, set())
        name = variable_name(member(payload, "name", str))
        self.namespace[name] = self._unpickle(f"object {name!r}", member(payload, "data", bytes))
        return {}

    def workspace_delete(self, payload: dict[str, object]) -> dict[str, object]:
        """Remove a global."""
        del self.namespace[self._lookup(payload)]
        return {}

    def workspace_dump(self, payload: dict[str, object]) -> dict[str, object]:
        """Every picklable user global in one dill blob; the others are listed as skipped."""
        check_keys(payload, set(), set())
        data, skipped = self._dump()
        return {"data": data, "skipped": skipped}

    def workspace_load(self, payload: dict[str, object]) -> dict[str, object]:
        """Merge a workspace_dump blob into the namespace (its objects win)."""
        check_keys(payload, {"data"}, set())
        return {"names": self._load(member(payload, "data", bytes))}

    def snapshot_save(self, payload: dict[str, object]) -> dict[str, object]:
        """The workspace and the working-directory files as one zip archive."""
        check_keys(payload, set(), set())
        data, skipped = self._dump()
        with file_errors("the working directory"):
            return {"data": files.pack(data, self.root), "skipped": skipped}

    def snapshot_load(self, payload: dict[str, object]) -> dict[str, object]:
        """Merge a snapshot_save archive: its objects and files win."""
        check_keys(payload, {"data"}, set())
        with file_errors("the snapshot"):
            workspace, contents = files.unpack(member(payload, "data", bytes))
        names = self._load(workspace)
        with file_errors("the snapshot"):
            for name, content in contents.items():
                files.write(self.root, name, content)
        return {"names": names, "files": sorted(contents)}

    def _dump(self) -> tuple[bytes, list[str]]:
        """dill bytes of the dict of picklable user globals, and the names left out."""
        objects = {n: v for n, v in self.namespace.items() if _is_user_object(n, v)}
        data, error = self.guarded(functools.partial(dill_module().dumps, objects))
        skipped: list[str] = []
        if error is not None:
            for name, value in list(objects.items()):
                if self.guarded(functools.partial(dill_module().dumps, value))[1] is not None:
                    skipped.append(name)
                    del objects[name]
            data = self._pickle("the workspace", objects)
        assert isinstance(data, bytes)
        return data, skipped

    def _load(self, data: bytes) -> list[str]:
        """Unpickle a _dump blob and merge it into the namespace; the names it held."""
        objects = named_objects(self._unpickle("the snapshot", data))
        self.namespace.update(objects)
        return list(objects)

    def _pickle(self, what: str, value: object) -> bytes:
        """dill bytes of `value`, or invalid_input naming `what`."""
        data, error = self.guarded(lambda: dill_module().dumps(value))
        if error is not None or not isinstance(data, bytes):
            raise RequestError("invalid_input", f"{what} cannot be pickled: {one_line(error)}")
        return data

    def _unpickle(self, what: str, data: bytes) -> object:
        """The object in dill bytes (interruptibly), or unpickle_failed naming `what`."""
        value, error = self.guarded(lambda: unpickle(data, what))
        if isinstance(error, RequestError):
            raise error
        if error is not None:
            raise RequestError("unpickle_failed", f"cannot unpickle {what}: {one_line(error)}")
        return value


def _is_user_object(name: str, value: object) -> bool:
    """Whether a global belongs in workspace listings and dumps."""
    if (name.startswith("__") and name.endswith("__")) or isinstance(value, types.ModuleType):
        return False
    return getattr(builtins, name, None) is not value


def _repeat_interrupt(stop: threading.Event) -> None:
    """Simulate SIGINT every 0.2 s until `stop` is set (the handler ignores late ones)."""
    while not stop.wait(0.2):
        _thread.interrupt_main(signal.SIGINT)


def answer(session: Session, request: Request) -> Reply:
    """Run one request and turn any failure into an error reply."""
    handler = session.handlers.get(request.kind)
    try:
        if handler is None:
            raise RequestError("bad_request", f"unknown request kind {request.kind!r}")
        return Reply(request.id, True, handler(request.payload))
    except RequestError as exc:
        return Reply(request.id, False, {}, str(exc))
    except KeyboardInterrupt:
        return Reply(request.id, False, {}, "interrupted: the request was interrupted")
    except Exception as exc:  # a worker bug must not leave the request unanswered
        return Reply(request.id, False, {}, f"internal_error: {one_line(exc)}")


def greet(channel: Channel) -> bool:
    """Handle the `hello` request: apply limits and answer with pid and protocol version."""
    request = channel.receive()
    if request is None:
        return False
    try:
        if request.kind != "hello":
            raise RequestError("bad_request", "the first request must be hello")
        check_keys(request.payload, {"version"}, {"max_frame", *LIMIT_KEYS})
        if request.payload["version"] != PROTOCOL_VERSION:
            raise RequestError("bad_request", f"this worker speaks version {PROTOCOL_VERSION}")
        channel.frames.max_frame = member(request.payload, "max_frame", int, DEFAULT_MAX_FRAME)
        apply_limits(request.payload)
    except ValueError as exc:
        channel.send(Reply(request.id, False, {}, f"invalid_input: {exc}"))
        return False
    except RequestError as exc:
        channel.send(Reply(request.id, False, {}, str(exc)))
        return False
    payload: dict[str, object] = {"pid": os.getpid(), "version": PROTOCOL_VERSION}
    channel.send(Reply(request.id, True, payload))
    return True


def _die_with_parent() -> None:
    """Ask Linux to kill this worker if the web process dies (best effort)."""
    with contextlib.suppress(Exception):
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


def _yield_to_the_server() -> None:
    """Run as a batch task: a request frame then wakes the worker without preempting the web
    process, which goes on reading requests and writing frames until its loop pass ends, so a
    pipelined worker finds several calls waiting and two processes sharing a core switch far
    less than twice per call."""
    with contextlib.suppress(AttributeError, OSError):
        os.sched_setscheduler(0, os.SCHED_BATCH, os.sched_param(0))


def main(argv: list[str]) -> int:
    """Serve requests on the socket whose fd is argv[1] until shutdown or EOF."""
    fd = int(argv[1])
    os.set_inheritable(fd, False)
    channel = Channel(socket.socket(fileno=fd))
    sys.argv = [""]
    _die_with_parent()
    _yield_to_the_server()
    import faulthandler

    faulthandler.enable()
    session = Session(os.open(".", os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC))
    signal.signal(signal.SIGINT, session.on_interrupt)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})  # a Ray actor's is blocked
    if not greet(channel):
        return 2
    sys.path.insert(0, "")
    while (request := channel.receive()) is not None:
        channel.send(answer(session, request))
        if request.kind == "shutdown":
            break
    return 0
