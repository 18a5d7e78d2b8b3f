"""Frames: encoding, decoding, the schema check and the size limit."""

from __future__ import annotations

import struct

import msgpack
import pytest

from o16n.runtime.protocol import (
    ExecuteResult,
    FrameBuffer,
    FrameTooLarge,
    ProtocolViolation,
    Reply,
    Request,
    decode_reply,
    decode_request,
    encode_reply,
    encode_request,
)


def body(frame: bytes) -> bytes:
    """The body of one complete frame, checking its header."""
    (size,) = struct.unpack(">I", frame[:4])
    assert size == len(frame) - 4
    return frame[4:]


def raw(obj: object) -> bytes:
    """A msgpack body built by hand, bypassing the encoder's checks."""
    return bytes(msgpack.packb(obj, use_bin_type=True))


def test_request_and_reply_round_trip() -> None:
    request = Request(7, "execute", {"code": "x = 1", "inputs": {"a": [1, 2.5, None, b"\x00"]}})
    assert decode_request(body(encode_request(request))) == request
    reply = Reply(7, False, {}, "not_found: no object named 'x'")
    assert decode_reply(body(encode_reply(reply))) == reply
    assert decode_reply(body(encode_reply(Reply(8, True, {"n": 1})))) == Reply(8, True, {"n": 1})


@pytest.mark.parametrize(
    "obj",
    [
        {"id": 1, "kind": "ping"},
        {"id": 1, "kind": "ping", "payload": {}, "extra": 1},
        {"id": "1", "kind": "ping", "payload": {}},
        {"id": True, "kind": "ping", "payload": {}},
        {"id": -1, "kind": "ping", "payload": {}},
        {"id": 1, "kind": 5, "payload": {}},
        {"id": 1, "kind": "ping", "payload": []},
        {"id": 1, "kind": "ping", "payload": {b"k": 1}},
        [1, "ping", {}],
    ],
)
def test_requests_off_schema_are_refused(obj: object) -> None:
    with pytest.raises(ProtocolViolation):
        decode_request(raw(obj))


@pytest.mark.parametrize(
    "obj",
    [
        {"id": 1, "ok": 1, "payload": {}, "error": None},
        {"id": 1, "ok": True, "payload": {}, "error": "x"},
        {"id": 1, "ok": False, "payload": {}, "error": None},
        {"id": 1, "ok": False, "payload": {}, "error": 3},
        {"id": 1, "ok": True, "payload": {}},
        {"id": 1, "ok": True, "payload": {}, "error": None, "pickle": b""},
    ],
)
def test_replies_off_schema_are_refused(obj: object) -> None:
    with pytest.raises(ProtocolViolation):
        decode_reply(raw(obj))


@pytest.mark.parametrize(
    "data",
    [
        b"\xc1",
        b"\x92\x01",
        bytes(msgpack.packb(msgpack.ExtType(1, b"pickled"))),
        raw({"id": 1, "ok": True, "payload": {"x": msgpack.ExtType(3, b"")}, "error": None}),
    ],
)
def test_malformed_bodies_and_ext_types_are_refused(data: bytes) -> None:
    with pytest.raises(ProtocolViolation):
        decode_reply(data)


def test_only_msgpack_native_payloads_can_be_encoded() -> None:
    with pytest.raises(ProtocolViolation):
        encode_request(Request(1, "execute", {"value": object()}))
    with pytest.raises(ProtocolViolation):
        encode_reply(Reply(1, True, {"value": 2**70}))


def test_encoding_refuses_frames_over_the_limit() -> None:
    with pytest.raises(FrameTooLarge):
        encode_request(Request(1, "workspace_put", {"data": bytes(2000)}), max_frame=1000)


def test_frame_buffer_splits_a_stream_into_frames() -> None:
    frames = [encode_request(Request(i, "ping", {"pad": "x" * i})) for i in range(50)]
    stream = b"".join(frames)
    buffer = FrameBuffer()
    bodies: list[bytes] = []
    for start in range(0, len(stream), 7):
        bodies += buffer.feed(stream[start : start + 7])
    assert [decode_request(b).id for b in bodies] == list(range(50))
    assert buffer.pending == 0
    assert len(buffer.feed(stream)) == 50


def test_frame_buffer_refuses_an_oversized_header_before_the_body_arrives() -> None:
    buffer = FrameBuffer(max_frame=1024)
    assert buffer.feed(struct.pack(">I", 1024) + b"x" * 10) == []
    with pytest.raises(FrameTooLarge):
        FrameBuffer(max_frame=1024).feed(struct.pack(">I", 1025))
    with pytest.raises(FrameTooLarge):
        FrameBuffer().feed(b"\xff\xff\xff\xff")


def test_execute_result_round_trips_and_is_checked() -> None:
    result = ExecuteResult(True, "out\n", "", [("x", 1), ("y", None)], ["a.txt"])
    assert ExecuteResult.from_payload(result.to_payload()) == result
    payload = result.to_payload()
    for broken in (
        payload | {"success": 1},
        payload | {"outputs": [["x"]]},
        payload | {"outputs": [[1, 2]]},
        payload | {"changedFiles": [1]},
        payload | {"extra": 1},
        {k: v for k, v in payload.items() if k != "consoleOutput"},
    ):
        with pytest.raises(ProtocolViolation):
            ExecuteResult.from_payload(broken)
