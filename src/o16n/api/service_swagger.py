"""The Swagger 2.0 document of one service version (reference §13.1), made from the same
declared operations as the core document."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from typing import Any

from o16n.api.metered import CONSUME_ROUTE
from o16n.api.openapi import document_path, error_definition, operation_document
from o16n.api.operation import Operation
from o16n.domain.models import Parameter, ParameterType, ServiceVersion

JsonObject = dict[str, Any]
DEFAULT_OPERATION_ID = "ConsumeWebService"
_SCHEMAS: dict[ParameterType, JsonObject] = {
    ParameterType.INTEGER: {"type": "integer", "format": "int32"},
    ParameterType.NUMERIC: {"type": "number"},
    ParameterType.CHARACTER: {"type": "string"},
    ParameterType.LOGICAL: {"type": "boolean"},
    ParameterType.VECTOR: {"type": "array", "items": {}},
    ParameterType.MATRIX: {"type": "array", "items": {"type": "array", "items": {}}},
    ParameterType.DATA_FRAME: {"type": "object"},
}
_STRINGS: JsonObject = {"type": "array", "items": {"type": "string"}}


def _properties(parameters: tuple[Parameter, ...]) -> JsonObject:
    return {p.name: {**_SCHEMAS[p.type], "description": p.type.value} for p in parameters}


def _batch_definitions() -> JsonObject:
    return {
        "StartBatchExecutionResponse": {
            "type": "object",
            "properties": {"batchExecutionId": {"type": "string"}},
        },
        "BatchWebServiceResult": {
            "type": "object",
            "properties": {
                "state": {
                    "type": "string",
                    "enum": ["Pending", "InProgress", "Complete", "Failed"],
                },
                "completedItemCount": {"type": "integer", "format": "int32"},
                "totalItemCount": {"type": "integer", "format": "int32"},
                "batchExecutionResults": {
                    "type": "array",
                    "items": {"$ref": "#/definitions/WebServiceResult"},
                },
            },
        },
    }


def _definitions(service: ServiceVersion) -> JsonObject:
    """The version's own definitions: its inputs, outputs, results and batch results."""
    result_properties = {
        "success": {"type": "boolean"},
        "errorMessage": {"type": "string"},
        "consoleOutput": {"type": "string"},
        "changedFiles": _STRINGS,
        "outputFiles": {
            "type": "object",
            "additionalProperties": {"type": "string", "format": "byte"},
        },
        "outputParameters": {"$ref": "#/definitions/OutputParameters"},
    }
    return {
        "InputParameters": {
            "type": "object",
            "properties": _properties(service.inputs),
            **({"required": [p.name for p in service.inputs]} if service.inputs else {}),
        },
        "OutputParameters": {"type": "object", "properties": _properties(service.outputs)},
        "WebServiceResult": {"type": "object", "properties": result_properties},
        **_batch_definitions(),
    }


def _for_version(operation: Operation, service: ServiceVersion, timeout: float) -> Operation:
    """The consume operation under the version's operationId, with its deadline."""
    if (operation.method, operation.path) != ("POST", CONSUME_ROUTE):
        return operation
    return replace(
        operation,
        operation_id=service.operation_id or DEFAULT_OPERATION_ID,
        summary="Consumes the web service",
        description=f"A call may run {timeout:g} s; one that runs longer is stopped and "
        "answered 504.",
    )


def service_document(
    service: ServiceVersion, timeout_seconds: float, operations: Iterable[Operation]
) -> JsonObject:
    """Swagger 2.0 for consuming `service` (whose calls may run `timeout_seconds`): the
    `operations` marked for the versions' documents, on this version's paths."""
    fixed = {"name": service.name, "version": service.version}
    definitions: JsonObject = {}
    error_definition(definitions)
    paths: dict[str, JsonObject] = {}
    for declared in operations:
        operation = _for_version(declared, service, timeout_seconds)
        tag = service.name if operation.path.startswith(CONSUME_ROUTE) else None
        methods = paths.setdefault(document_path(operation, fixed), {})
        methods[operation.method.lower()] = operation_document(
            operation, definitions, tag=tag, fixed=fixed
        )
    description = service.description or ""
    return {
        "swagger": "2.0",
        "info": {"description": description, "title": service.name, "version": service.version},
        "schemes": ["http", "https"],
        "securityDefinitions": {
            "Bearer": {"type": "apiKey", "name": "Authorization", "in": "header"}
        },
        "tags": [{"name": service.name, "description": description}],
        "consumes": ["application/json"],
        "produces": ["application/json"],
        "paths": paths,
        "definitions": definitions | _definitions(service),
    }
