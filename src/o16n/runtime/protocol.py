"""Typed, versioned frames between the web process and a worker: 4-byte length + msgpack.

Standalone on purpose: the worker imports it, so it imports nothing from o16n.
Payload values are msgpack-native only (None, bool, int, float, str, bytes, list, dict).
"""

from __future__ import annotations

import socket
import struct
from collections import deque
from dataclasses import dataclass, field
from typing import TypeVar

import msgpack

PROTOCOL_VERSION = 1
DEFAULT_MAX_FRAME = 256 * 1024 * 1024
HEADER_SIZE = 4

_HEADER = struct.Struct(">I")
_REQUEST_KEYS = frozenset({"id", "kind", "payload"})
_REPLY_KEYS = frozenset({"id", "ok", "payload", "error"})
_MAX_ID = 2**63 - 1
_T = TypeVar("_T")


class ProtocolViolation(Exception):
    """A frame that cannot be encoded or does not match the frame schema."""


class FrameTooLarge(ProtocolViolation):
    """A frame whose length exceeds the agreed maximum."""


@dataclass(frozen=True, slots=True)
class Request:
    """One request from the web process to a worker."""

    id: int
    kind: str
    payload: dict[str, object] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Reply:
    """The worker's answer to the request with the same id."""

    id: int
    ok: bool
    payload: dict[str, object] = field(default_factory=dict)
    error: str | None = None


@dataclass(frozen=True, slots=True)
class ExecuteResult:
    """The payload of a successful `execute` reply, typed."""

    success: bool
    console_output: str
    error_message: str
    outputs: list[tuple[str, object]]
    changed_files: list[str]

    def to_payload(self) -> dict[str, object]:
        """The reply payload the worker sends."""
        return {
            "success": self.success,
            "consoleOutput": self.console_output,
            "errorMessage": self.error_message,
            "outputs": [[name, value] for name, value in self.outputs],
            "changedFiles": list(self.changed_files),
        }

    @classmethod
    def from_payload(cls, payload: dict[str, object]) -> ExecuteResult:
        """Check and convert a reply payload; raises ProtocolViolation on any mismatch."""
        _check_keys(payload, _EXECUTE_KEYS, "execute reply")
        outputs: list[tuple[str, object]] = []
        for pair in _typed(payload["outputs"], list, "outputs"):
            if not (isinstance(pair, list) and len(pair) == 2 and isinstance(pair[0], str)):
                raise ProtocolViolation("execute reply: outputs must be [name, value] pairs")
            outputs.append((pair[0], json_data(pair[1])))
        return cls(
            success=_typed(payload["success"], bool, "success"),
            console_output=_typed(payload["consoleOutput"], str, "consoleOutput"),
            error_message=_typed(payload["errorMessage"], str, "errorMessage"),
            outputs=outputs,
            changed_files=string_list(payload["changedFiles"], "changedFiles"),
        )


_EXECUTE_KEYS = frozenset({"success", "consoleOutput", "errorMessage", "outputs", "changedFiles"})


# The typed replies of the other request kinds, one decoder each: the web process reads a
# reply only through these (`Worker.request` of `backend`), and any mismatch is a ProtocolViolation.


def empty_reply(payload: dict[str, object]) -> None:
    """The reply of a request that only acts (put, delete, service_prepare, shutdown)."""
    _check_keys(payload, frozenset(), "reply")


def names_reply(payload: dict[str, object]) -> list[str]:
    """The reply of workspace_list, file_list and workspace_load: {names}."""
    _check_keys(payload, _NAMES_KEYS, "names reply")
    return string_list(payload["names"], "names")


def data_reply(payload: dict[str, object]) -> bytes:
    """The reply of workspace_get and file_get: {data}."""
    _check_keys(payload, _DATA_KEYS, "data reply")
    return _typed(payload["data"], bytes, "data")


def dump_reply(payload: dict[str, object]) -> tuple[bytes, list[str]]:
    """The reply of workspace_dump and snapshot_save: {data, skipped}."""
    _check_keys(payload, _DUMP_KEYS, "dump reply")
    return _typed(payload["data"], bytes, "data"), string_list(payload["skipped"], "skipped")


def restored_reply(payload: dict[str, object]) -> list[str]:
    """The reply of snapshot_load: {names, files}; the names of the objects it brought."""
    _check_keys(payload, _RESTORED_KEYS, "snapshot_load reply")
    string_list(payload["files"], "files")
    return string_list(payload["names"], "names")


def preload_reply(payload: dict[str, object]) -> list[str]:
    """The reply of preload: {failed}, the modules that could not be imported."""
    _check_keys(payload, _PRELOAD_KEYS, "preload reply")
    return string_list(payload["failed"], "failed")


def hello_reply(payload: dict[str, object]) -> int:
    """The reply of hello: {pid, version} in this protocol version; the worker's pid."""
    _check_keys(payload, _HELLO_KEYS, "hello reply")
    if payload["version"] != PROTOCOL_VERSION:
        raise ProtocolViolation(f"the worker speaks protocol version {payload['version']!r}")
    return _typed(payload["pid"], int, "pid")


@dataclass(frozen=True, slots=True)
class ConsumeReply:
    """The payload of a successful `consume` reply, typed (outputs as JSON data)."""

    success: bool
    error_message: str
    console_output: str
    outputs: dict[str, object]
    output_files: dict[str, bytes | None]
    changed_files: list[str]


def consume_reply(
    payload: dict[str, object], outputs: frozenset[str], files: frozenset[str]
) -> ConsumeReply:
    """A consume reply for a version with these declared outputs and output files."""
    _check_keys(payload, _CONSUME_KEYS, "consume reply")
    values, produced = payload["outputs"], payload["outputFiles"]
    if not (isinstance(values, dict) and values.keys() == outputs):
        raise ProtocolViolation("consume reply: outputs do not match the declared ones")
    if not (isinstance(produced, dict) and produced.keys() == files):
        raise ProtocolViolation("consume reply: outputFiles do not match the declared ones")
    if not all(data is None or type(data) is bytes for data in produced.values()):
        raise ProtocolViolation("consume reply: outputFiles must be bytes or None")
    return ConsumeReply(
        success=_typed(payload["success"], bool, "success"),
        error_message=_typed(payload["errorMessage"], str, "errorMessage"),
        console_output=_typed(payload["consoleOutput"], str, "consoleOutput"),
        outputs={name: json_data(value) for name, value in values.items()},
        output_files=produced,
        changed_files=string_list(payload["changedFiles"], "changedFiles"),
    )


_SCALARS = frozenset({type(None), bool, int, float, str})


def json_data(value: object) -> object:
    """`value` if it is JSON data (what the worker sends as values); else ProtocolViolation."""
    if type(value) in _SCALARS:
        return value
    if isinstance(value, list):
        if all(type(item) in _SCALARS for item in value):
            return value  # a flat list (the common output) needs no recursion
        return [json_data(item) for item in value]
    if isinstance(value, dict) and all(isinstance(key, str) for key in value):
        return {key: json_data(item) for key, item in value.items()}
    raise ProtocolViolation(f"the worker sent a {type(value).__name__} where JSON was due")


_NAMES_KEYS = frozenset({"names"})
_DATA_KEYS = frozenset({"data"})
_DUMP_KEYS = frozenset({"data", "skipped"})
_RESTORED_KEYS = frozenset({"names", "files"})
_PRELOAD_KEYS = frozenset({"failed"})
_HELLO_KEYS = frozenset({"pid", "version"})
_CONSUME_KEYS = frozenset(
    {"success", "errorMessage", "consoleOutput", "outputs", "outputFiles", "changedFiles"}
)


def _typed(value: object, kind: type[_T], name: str) -> _T:
    """`value` if it is exactly of type `kind` (bool is not an int here)."""
    if type(value) is not kind:
        raise ProtocolViolation(f"{name} must be {kind.__name__}, not {type(value).__name__}")
    return value


def string_list(value: object, name: str) -> list[str]:
    """`value` as a list of str, or ProtocolViolation naming the member."""
    items = _typed(value, list, name)
    if not all(type(item) is str for item in items):
        raise ProtocolViolation(f"{name} must be a list of strings")
    return items


def _check_keys(data: dict[str, object], keys: frozenset[str], what: str) -> None:
    """Exactly `keys`, no more and no fewer."""
    if data.keys() != keys:
        unknown = sorted(str(k) for k in data.keys() - keys)
        missing = sorted(keys - data.keys())
        raise ProtocolViolation(f"{what}: unknown keys {unknown}, missing keys {missing}")


def _check_id(value: object) -> int:
    """A non-negative 64-bit request id."""
    number = _typed(value, int, "id")
    if not 0 <= number <= _MAX_ID:
        raise ProtocolViolation("id out of range")
    return number


def _payload(value: object) -> dict[str, object]:
    """A payload map whose keys are all str."""
    data = _typed(value, dict, "payload")
    if not all(type(key) is str for key in data):
        raise ProtocolViolation("payload keys must be strings")
    return data


def _pack(obj: object, max_frame: int) -> bytes:
    """Header + msgpack body, refusing non-native values and oversized bodies."""
    try:
        body: bytes = msgpack.packb(obj, use_bin_type=True, datetime=False)
    except (TypeError, ValueError, OverflowError) as exc:
        raise ProtocolViolation(f"payload is not msgpack-native: {exc}") from exc
    if len(body) > max_frame:
        raise FrameTooLarge(f"frame of {len(body)} bytes exceeds the limit of {max_frame}")
    return _HEADER.pack(len(body)) + body


def _unpack(body: bytes | memoryview) -> dict[str, object]:
    """A msgpack map with str keys, ext types refused."""
    try:
        data = msgpack.unpackb(body, raw=False, strict_map_key=True, ext_hook=_refuse_ext)
    except ProtocolViolation:
        raise
    except Exception as exc:  # msgpack raises a zoo of ValueError/TypeError subclasses
        raise ProtocolViolation(f"malformed frame: {type(exc).__name__}: {exc}") from exc
    if type(data) is not dict:
        raise ProtocolViolation(f"frame must be a map, not {type(data).__name__}")
    return data


def _refuse_ext(code: int, data: bytes) -> object:
    """msgpack ext types are not part of the protocol."""
    raise ProtocolViolation(f"msgpack ext type {code} is not allowed")


def encode_request(request: Request, max_frame: int = DEFAULT_MAX_FRAME) -> bytes:
    """A complete frame (header included) for `request`."""
    return _pack({"id": request.id, "kind": request.kind, "payload": request.payload}, max_frame)


def encode_reply(reply: Reply, max_frame: int = DEFAULT_MAX_FRAME) -> bytes:
    """A complete frame (header included) for `reply`."""
    obj = {"id": reply.id, "ok": reply.ok, "payload": reply.payload, "error": reply.error}
    return _pack(obj, max_frame)


def decode_request(body: bytes | memoryview) -> Request:
    """The Request in a frame body; raises ProtocolViolation if it does not fit the schema."""
    data = _unpack(body)
    _check_keys(data, _REQUEST_KEYS, "request")
    kind = _typed(data["kind"], str, "kind")
    return Request(_check_id(data["id"]), kind, _payload(data["payload"]))


def decode_reply(body: bytes | memoryview) -> Reply:
    """The Reply in a frame body; raises ProtocolViolation if it does not fit the schema."""
    data = _unpack(body)
    _check_keys(data, _REPLY_KEYS, "reply")
    ok = _typed(data["ok"], bool, "ok")
    error = data["error"]
    if ok != (error is None) or not (error is None or type(error) is str):
        raise ProtocolViolation("error must be a string exactly when ok is false")
    return Reply(_check_id(data["id"]), ok, _payload(data["payload"]), error)


class FrameBuffer:
    """Splits a byte stream into frame bodies, refusing a frame as soon as its header is too big."""

    def __init__(self, max_frame: int = DEFAULT_MAX_FRAME) -> None:
        self.max_frame = max_frame
        self._buffer = bytearray()

    def feed(self, data: bytes | bytearray | memoryview) -> list[bytes]:
        """Append `data`; return the bodies of every frame now complete, in order."""
        buffer = self._buffer
        buffer += data
        frames: list[bytes] = []
        position, available = 0, len(buffer)
        while available - position >= HEADER_SIZE:
            (size,) = _HEADER.unpack_from(buffer, position)
            if size > self.max_frame:
                raise FrameTooLarge(f"frame of {size} bytes exceeds the limit of {self.max_frame}")
            end = position + HEADER_SIZE + size
            if end > available:
                break
            frames.append(bytes(buffer[position + HEADER_SIZE : end]))
            position = end
        if position:
            del buffer[:position]
        return frames

    @property
    def pending(self) -> int:
        """Bytes received that do not yet form a complete frame."""
        return len(self._buffer)


class Channel:
    """Blocking frame I/O on a socket (the worker's side): requests in, replies out, in order."""

    def __init__(self, sock: socket.socket, max_frame: int = DEFAULT_MAX_FRAME) -> None:
        self.sock = sock
        self.frames = FrameBuffer(max_frame)
        self._pending: deque[bytes] = deque()
        self._chunk = bytearray(1 << 18)

    def receive(self) -> Request | None:
        """The next request, or None at end of stream."""
        while not self._pending:
            count = self.sock.recv_into(self._chunk)
            if count == 0:
                return None
            self._pending.extend(self.frames.feed(memoryview(self._chunk)[:count]))
        return decode_request(self._pending.popleft())

    def send(self, reply: Reply) -> None:
        """Send a reply; one over the frame limit is replaced by a `too_large` error reply."""
        try:
            frame = encode_reply(reply, self.frames.max_frame)
        except FrameTooLarge as exc:
            frame = encode_reply(Reply(reply.id, False, {}, f"too_large: the reply {exc}"))
        except ProtocolViolation as exc:
            frame = encode_reply(Reply(reply.id, False, {}, f"internal_error: {exc}"))
        self.sock.sendall(frame)
