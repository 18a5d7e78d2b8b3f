"""Pipelined calls over a worker's socket: batched writes, FIFO replies, per-call deadlines.

Many calls may be in flight: request frames are queued in the socket (written once per
event-loop pass, scatter/gather) and one reader (`loop.add_reader`) matches replies to calls in
order. The worker runs calls one at a time, so a call's deadline starts when the call before
it has been answered.
"""

from __future__ import annotations

import asyncio
import itertools
import math
import socket
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from types import MappingProxyType

from o16n.errors import (
    InvalidInput,
    NotFound,
    O16nError,
    PayloadTooLarge,
    WorkerCrashed,
    WorkerError,
    WorkerProtocolError,
    WorkerTimeout,
)
from o16n.runtime.protocol import (
    FrameBuffer,
    FrameTooLarge,
    ProtocolViolation,
    Reply,
    Request,
    decode_reply,
    encode_request,
)

_CHUNK = 1 << 18
_IOV_MAX = 512
_ERRORS: MappingProxyType[str, type[O16nError]] = MappingProxyType(
    {
        "not_found": NotFound,
        "invalid_input": InvalidInput,
        "unpickle_failed": InvalidInput,
        "bad_request": InvalidInput,
        "too_large": PayloadTooLarge,
    }
)


def never_started(error: BaseException) -> bool:
    """Whether a failed call never reached the worker's user code, so it is safe to retry."""
    return getattr(error, "never_started", False) is True


def crashed(message: str, *, never_started: bool) -> WorkerCrashed:
    """A WorkerCrashed flagged with whether its call had started."""
    error = WorkerCrashed(message)
    error.never_started = never_started  # type: ignore[attr-defined]
    return error


def reply_error(text: str) -> O16nError:
    """The o16n error for a worker's `"<code>: <message>"` error reply (see `reply_code`)."""
    code, _, message = text.partition(": ")
    error = _ERRORS.get(code, WorkerError)(message or text)
    error.reply_code = code  # type: ignore[attr-defined]
    return error


def reply_code(error: BaseException) -> str | None:
    """The worker's own code (`init_failed`, `unpickle_failed`...) of an error reply, if any."""
    code = getattr(error, "reply_code", None)
    return code if isinstance(code, str) else None


@dataclass(slots=True)
class _Call:
    """One request in flight."""

    id: int
    kind: str
    timeout: float
    future: asyncio.Future[dict[str, object]]
    timer: asyncio.TimerHandle | None = None


class Pipeline:
    """The calls in flight on one worker socket.

    `on_broken` must kill the worker (a deadline passed or a frame broke the protocol);
    `on_closed` is told when the worker closed its end (it exits, or must be made to).
    """

    def __init__(
        self,
        sock: socket.socket,
        max_frame: int,
        on_broken: Callable[[], None],
        on_closed: Callable[[], None],
    ) -> None:
        self._loop = asyncio.get_running_loop()
        self._sock: socket.socket | None = sock
        self._on_broken = on_broken
        self._on_closed = on_closed
        self._closed = False
        self.max_frame = max_frame
        self._frames = FrameBuffer(max_frame)
        self._chunk = bytearray(_CHUNK)
        self._calls: deque[_Call] = deque()
        self._out: deque[memoryview] = deque()
        self._flush_scheduled = False
        self._writing = False
        self._next_id = 0
        self.failure: str | None = None
        sock.setblocking(False)
        self._loop.add_reader(sock.fileno(), self.receive)

    @property
    def in_flight(self) -> int:
        """Calls sent and not yet answered (the first one is running)."""
        return len(self._calls)

    @property
    def open(self) -> bool:
        """Whether new calls are accepted: nothing failed and the worker did not hang up."""
        return self.failure is None and not self._closed

    async def call(
        self, kind: str, payload: dict[str, object], timeout: float
    ) -> dict[str, object]:
        """Send one request, await its reply payload; error replies raise O16nError types."""
        if self.failure is not None or self._closed:
            reason = self.failure or "the worker closed its channel"
            raise crashed(reason, never_started=True)
        self._next_id += 1
        try:
            frame = encode_request(Request(self._next_id, kind, payload), self.max_frame)
        except FrameTooLarge as exc:
            raise PayloadTooLarge(f"the {kind} request {exc}") from exc
        except ProtocolViolation as exc:
            raise InvalidInput(f"the {kind} request cannot be sent: {exc}") from exc
        call = _Call(self._next_id, kind, timeout, self._loop.create_future())
        self._calls.append(call)
        if len(self._calls) == 1:
            self._arm(call)
        self._out.append(memoryview(frame))
        if not (self._flush_scheduled or self._writing):
            self._flush_scheduled = True
            self._loop.call_soon(self._flush)
        return await call.future

    def fail(self, first: O16nError, behind: O16nError | None = None) -> None:
        """Fail every call in flight, close, refuse new calls: `first` for the running call;
        the calls behind it get a copy of `behind`, or a WorkerCrashed flagged never started."""
        if self.failure is None:
            self.failure = first.message
        self._close()
        while self._calls:
            call = self._calls.popleft()
            if call.timer is not None:
                call.timer.cancel()
            if not call.future.done():
                call.future.set_exception(first)
            if behind is not None:
                first = type(behind)(behind.message)
            else:
                first = crashed(f"{self.failure} (this call never started)", never_started=True)

    def receive(self) -> None:
        """Read what the worker sent and resolve the calls it answers (also called at exit)."""
        sock = self._sock
        try:
            while sock is not None and sock.fileno() >= 0:
                try:
                    count = sock.recv_into(self._chunk)
                except BlockingIOError:
                    return
                except OSError:
                    count = 0
                if count == 0:  # closed or dead: the process exit explains it
                    self._loop.remove_reader(sock.fileno())
                    self._closed = True
                    self._on_closed()
                    return
                for body in self._frames.feed(memoryview(self._chunk)[:count]):
                    self._resolve(decode_reply(body))
                if count < _CHUNK:
                    return
        except ProtocolViolation as exc:
            self._on_broken()
            self.fail(WorkerProtocolError(f"the worker broke the protocol and was killed: {exc}"))

    def _resolve(self, reply: Reply) -> None:
        """Complete the oldest call with `reply`, which must carry its id."""
        if not self._calls or self._calls[0].id != reply.id:
            raise ProtocolViolation(f"reply {reply.id} does not answer the oldest request")
        call = self._calls.popleft()
        if call.timer is not None:
            call.timer.cancel()
        if self._calls:
            self._arm(self._calls[0])
        if call.future.done():  # the caller stopped waiting
            return
        if reply.ok:
            call.future.set_result(reply.payload)
        else:
            call.future.set_exception(reply_error(reply.error or ""))

    def _arm(self, call: _Call) -> None:
        """Start the deadline of the call the worker is now running."""
        if math.isfinite(call.timeout):
            call.timer = self._loop.call_later(call.timeout, self._on_deadline, call)

    def _on_deadline(self, call: _Call) -> None:
        """A call passed its deadline: kill the worker, fail that call and the queued ones."""
        self._on_broken()
        message = f"{call.kind} passed its {call.timeout:g} s deadline; the worker was killed"
        self.fail(WorkerTimeout(message))

    def _flush(self) -> None:
        """Write queued frames; when the socket is full, continue once it is writable."""
        self._flush_scheduled = False
        sock = self._sock
        while self._out and sock is not None:
            buffers = list(itertools.islice(self._out, _IOV_MAX))
            try:
                sent = sock.sendmsg(buffers, [], socket.MSG_NOSIGNAL)
            except BlockingIOError:
                sent = 0
            except OSError:  # the worker is gone: the reader or the exit watcher reports it
                self._out.clear()
                break
            if not self._consume(sent, sum(map(len, buffers))):
                if not self._writing:
                    self._loop.add_writer(sock.fileno(), self._flush)
                    self._writing = True
                return
        if self._writing and sock is not None:
            self._loop.remove_writer(sock.fileno())
        self._writing = False

    def _consume(self, sent: int, offered: int) -> bool:
        """Drop what was sent from the queue; True when all that was offered went out."""
        remaining = sent
        while remaining:
            head = self._out[0]
            if len(head) > remaining:
                self._out[0] = head[remaining:]
                break
            remaining -= len(head)
            self._out.popleft()
        return sent == offered

    def _close(self) -> None:
        """Stop reading and writing the socket, and close it."""
        if self._sock is not None:
            self._loop.remove_reader(self._sock.fileno())
            self._loop.remove_writer(self._sock.fileno())
            self._sock.close()
            self._sock = None
        self._out.clear()
        self._writing = False
