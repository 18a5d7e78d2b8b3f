"""Reading request bodies: size limit, media type, JSON, case-insensitive member binding."""

from __future__ import annotations

from typing import TypeVar

import orjson
from pydantic import BaseModel, ValidationError
from starlette.requests import Request
from starlette.types import Receive

from o16n.errors import InvalidInput, PayloadTooLarge, UnsupportedMediaType

ModelT = TypeVar("ModelT", bound=BaseModel)
BODY = "body"  # the field named by errors about the request body as a whole


async def read_bytes(request: Request, limit: int) -> bytes:
    """The whole body, refusing (413) anything larger than `limit` bytes."""
    return await received_bytes(request.receive, request.headers.get("content-length"), limit)


async def received_bytes(receive: Receive, declared: str | None, limit: int) -> bytes:
    """The body as ASGI `receive` delivers it (`declared`: its Content-Length), at most
    `limit` bytes (413 beyond)."""
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"request body exceeds the limit of {limit} bytes")
    chunks: list[bytes] = []
    size, more = 0, True
    while more:
        message = await receive()
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(f"request body exceeds the limit of {limit} bytes")
        chunks.append(chunk)
        more = message.get("more_body", False)
    return b"".join(chunks)


def _is_json(content_type: str) -> bool:
    media_type = content_type.split(";", 1)[0].strip().lower()
    return media_type == "application/json" or media_type.endswith("+json")


async def read_json(request: Request, limit: int) -> object:
    """The parsed JSON body; 415 for another media type, 400 for malformed JSON."""
    headers = request.headers
    content_type, declared = headers.get("content-type", ""), headers.get("content-length")
    return await received_json(request.receive, content_type, declared, limit)


async def received_json(
    receive: Receive, content_type: str, declared: str | None, limit: int
) -> object:
    """`received_bytes` parsed as JSON; 415 for another media type, 400 for malformed JSON."""
    if not _is_json(content_type):
        raise UnsupportedMediaType(
            f"expected Content-Type application/json, got {content_type or 'none'}"
        )
    raw = await received_bytes(receive, declared, limit)
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as error:
        raise InvalidInput(f"request body is not valid JSON: {error}", field=BODY) from error


def _fold_keys(model: type[BaseModel], data: dict[str, object]) -> dict[str, object]:
    """Rename members to the model's spelling, ignoring case (ASP.NET binds that way)."""
    spellings: dict[str, str] = {}
    for name, field in model.model_fields.items():
        for spelling in (name, field.alias):
            if spelling:
                spellings[spelling.lower()] = field.alias or name
    return {spellings.get(key.lower(), key): value for key, value in data.items()}


def bind(model: type[ModelT], data: object) -> ModelT:
    """`data` validated as `model`; InvalidInput naming the first offending field."""
    if not isinstance(data, dict):
        raise InvalidInput("request body must be a JSON object", field=BODY)
    try:
        return model.model_validate(_fold_keys(model, data))
    except ValidationError as error:
        first = error.errors()[0]
        field = ".".join(str(part) for part in first["loc"]) or BODY
        raise InvalidInput(f"{field}: {first['msg']}", field=field) from error


async def read_model(request: Request, model: type[ModelT], limit: int) -> ModelT:
    """The JSON body bound to `model`."""
    return bind(model, await read_json(request, limit))
