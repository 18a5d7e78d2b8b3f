"""The core API document (Swagger 2.0, like Microsoft's), built from the declared operations."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from pydantic import BaseModel

from o16n.api.operation import ArrayOf, Operation, Schema
from o16n.api.schemas import Error

_PATH_PARAM = re.compile(r"{([^}:]+)(?::[^}]*)?}")
_REF_TEMPLATE = "#/definitions/{model}"
JSON = "application/json"
JsonObject = dict[str, Any]


def _swagger2(schema: Any) -> Any:
    """Rewrite JSON Schema that pydantic emits into what Swagger 2.0 allows."""
    if isinstance(schema, list):
        return [_swagger2(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    options = schema.get("anyOf")
    if options is not None:
        concrete = [option for option in options if option.get("type") != "null"]
        merged = {k: v for k, v in schema.items() if k != "anyOf"}
        if len(concrete) == 1:
            merged.update(concrete[0])
            if len(options) > 1:
                merged["x-nullable"] = True
        schema = merged  # several concrete types: Swagger 2.0 can only say "any" (null included)
    if "const" in schema:
        schema = {**schema, "enum": [schema["const"]]}
        del schema["const"]
    result: JsonObject = {}
    for key, value in schema.items():
        if key == "properties":
            result[key] = {name: _swagger2(member) for name, member in value.items()}
        elif key == "additionalProperties":
            values = _swagger2(value)
            result[key] = True if values == {} else values  # generators read {} as "objects"
        elif key != "title" and not (key == "default" and value is None):
            result[key] = _swagger2(value)  # a null default means "absent": generators quote it
    return result


def _schema_of(model: type[BaseModel], definitions: JsonObject) -> JsonObject:
    schema = model.model_json_schema(ref_template=_REF_TEMPLATE)
    for name, nested in schema.pop("$defs", {}).items():
        definitions[name] = _swagger2(nested)
    if "$ref" not in schema:
        definitions[model.__name__] = _swagger2(schema)
    return {"$ref": _REF_TEMPLATE.format(model=model.__name__)}


def _schema_or_ref(declared: Schema | None, definitions: JsonObject) -> JsonObject | None:
    if declared is None:
        return None
    if isinstance(declared, dict):
        return dict(declared)
    if isinstance(declared, ArrayOf):
        return {"type": "array", "items": _schema_of(declared.model, definitions)}
    return _schema_of(declared, definitions)


def _parameters(
    operation: Operation, definitions: JsonObject, fixed: Mapping[str, str]
) -> list[JsonObject]:
    types = {param.name: param.type for param in operation.path_params}
    parameters: list[JsonObject] = [
        {"name": name, "in": "path", "required": True, "type": types.get(name, "string")}
        for name in _PATH_PARAM.findall(operation.path)
        if name not in fixed
    ]
    parameters += [
        {"name": p.name, "in": "query", "required": p.required, "type": p.type}
        | ({"description": p.description} if p.description else {})
        for p in operation.query
    ]
    parameters += [
        {"name": name, "in": "formData", "required": True, "type": "file"}
        for name in operation.form_files
    ]
    parameters += [
        {"name": p.name, "in": "formData", "required": p.required, "type": p.type}
        | ({"description": p.description} if p.description else {})
        for p in operation.form_fields
    ]
    schema = _schema_or_ref(operation.body, definitions)
    if schema is not None:
        parameters.append(
            {"name": operation.body_name, "in": "body", "required": True, "schema": schema}
        )
    return parameters


def produces(media_type: str) -> list[str]:
    """What an operation answers: its media type, and JSON for its errors."""
    return [media_type] if media_type == JSON else [media_type, JSON]


def document_path(operation: Operation, fixed: Mapping[str, str] | None = None) -> str:
    """The operation's path as a document writes it: `{name}` for each path parameter, the
    value itself for those in `fixed`."""
    values = fixed or {}
    return _PATH_PARAM.sub(lambda m: values.get(m[1], f"{{{m[1]}}}"), operation.path)


def operation_document(
    operation: Operation,
    definitions: JsonObject,
    *,
    tag: str | None = None,
    fixed: Mapping[str, str] | None = None,
) -> JsonObject:
    """One operation of a Swagger 2.0 document (under `tag` if given, instead of its own),
    its path parameters in `fixed` left out; the schemas it names go into `definitions`."""
    success: JsonObject = {"description": operation.success.phrase}
    schema = _schema_or_ref(operation.response, definitions)
    if schema is not None:
        success["schema"] = schema
    document: JsonObject = {
        "tags": [tag or operation.tag],
        "summary": operation.summary,
        **({"description": operation.description} if operation.description else {}),
        "operationId": operation.operation_id,
        "consumes": [operation.consumes],
        "produces": produces(operation.produces),
        "parameters": _parameters(operation, definitions, fixed or {}),
        "responses": {
            str(int(operation.success)): success,
            "default": {"description": "Error", "schema": {"$ref": "#/definitions/Error"}},
        },
    }
    if operation.authenticated:
        document["security"] = [{"Bearer": []}]
    return document


def error_definition(definitions: JsonObject) -> None:
    """Add the one error shape every operation answers with to `definitions`."""
    _schema_of(Error, definitions)


def core_document(operations: Iterable[Operation], version: str) -> JsonObject:
    """The Swagger 2.0 document of every documented operation."""
    definitions: JsonObject = {}
    error_definition(definitions)
    paths: dict[str, JsonObject] = {}
    tags: list[str] = []
    for operation in operations:
        if not operation.documented:
            continue
        method = paths.setdefault(document_path(operation), {})
        method[operation.method.lower()] = operation_document(operation, definitions)
        if operation.tag not in tags:
            tags.append(operation.tag)
    return {
        "swagger": "2.0",
        "info": {
            "title": "o16n",
            "description": "Operationalize Python: ML Server compatible core API.",
            "version": version,
        },
        "schemes": ["http", "https"],
        "consumes": ["application/json"],
        "produces": ["application/json"],
        "securityDefinitions": {
            "Bearer": {"type": "apiKey", "name": "Authorization", "in": "header"}
        },
        "tags": [{"name": tag} for tag in tags],
        "paths": paths,
        "definitions": definitions,
    }
