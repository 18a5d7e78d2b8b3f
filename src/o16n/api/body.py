"""Reading request bodies: size limit, media type, JSON, case-insensitive member binding."""

from __future__ import annotations

from typing import TypeVar

import orjson
from pydantic import BaseModel, ValidationError
from starlette.requests import Request

from o16n.errors import InvalidInput, PayloadTooLarge, UnsupportedMediaType

ModelT = TypeVar("ModelT", bound=BaseModel)
BODY = "body"  # the field named by errors about the request body as a whole


async def read_bytes(request: Request, limit: int) -> bytes:
    """The whole body, refusing (413) anything larger than `limit` bytes."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"request body exceeds the limit of {limit} bytes")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(f"request body exceeds the limit of {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def _is_json(content_type: str) -> bool:
    media_type = content_type.split(";", 1)[0].strip().lower()
    return media_type == "application/json" or media_type.endswith("+json")


async def read_json(request: Request, limit: int) -> object:
    """The parsed JSON body; 415 for another media type, 400 for malformed JSON."""
    content_type = request.headers.get("content-type", "")
    if not _is_json(content_type):
        raise UnsupportedMediaType(
            f"expected Content-Type application/json, got {content_type or 'none'}"
        )
    raw = await read_bytes(request, limit)
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
