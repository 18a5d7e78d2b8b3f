"""The Swagger 2.0 document of one service version (reference §13.1)."""

from __future__ import annotations

from typing import Any

from o16n.api.openapi import produces
from o16n.domain.models import Parameter, ParameterType, ServiceVersion

JsonObject = dict[str, Any]
DEFAULT_OPERATION_ID = "ConsumeWebService"
_BEARER: list[JsonObject] = [{"Bearer": []}]
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
_ERROR = {"description": "Error", "schema": {"$ref": "#/definitions/Error"}}


def _properties(parameters: tuple[Parameter, ...]) -> JsonObject:
    return {p.name: {**_SCHEMAS[p.type], "description": p.type.value} for p in parameters}


def _path(name: str, kind: str) -> JsonObject:
    return {"name": name, "in": "path", "required": True, "type": kind}


def _operation(tag: str, operation_id: str, summary: str, **members: Any) -> JsonObject:
    responses = members.pop("responses")
    return {
        "tags": [tag],
        "summary": summary,
        "operationId": operation_id,
        "security": _BEARER,
        "consumes": ["application/json"],
        "produces": ["application/json"],
        **members,
        "responses": {**responses, "default": _ERROR},
    }


def _ok(schema: JsonObject, status: str = "200") -> JsonObject:
    return {status: {"description": "OK", "schema": schema}}


def _batch_paths(tag: str, base: str) -> JsonObject:
    """The batch routes of reference §14, with Microsoft's operationIds."""
    execution = _path("executionId", "string")
    index = _path("index", "integer")
    records = {"type": "array", "items": {"$ref": "#/definitions/InputParameters"}}
    start = _operation(
        tag,
        "StartBatchExecution",
        "Starts a batch execution: one consume per record",
        parameters=[
            {
                "name": "BatchWebServiceParameters",
                "in": "body",
                "required": True,
                "schema": records,
            },
            {
                "name": "parallelCount",
                "in": "query",
                "required": False,
                "type": "integer",
                "format": "int32",
            },
        ],
        responses=_ok({"$ref": "#/definitions/StartBatchExecutionResponse"}, "202"),
    )
    partial = {"name": "showPartialResults", "in": "query", "required": False, "type": "boolean"}
    files = base + "/batch/{executionId}/{index}/files"
    return {
        base + "/batch": {
            "post": start,
            "get": _operation(
                tag, "GetBatchExecutions", "Lists batch executions", responses=_ok(_STRINGS)
            ),
        },
        base + "/batch/{executionId}": {
            "get": _operation(
                tag,
                "GetBatchExecutionStatus",
                "Gets the state and results of a batch execution",
                parameters=[execution, partial],
                responses=_ok({"$ref": "#/definitions/BatchWebServiceResult"}),
            ),
            "delete": _operation(
                tag,
                "CancelAndDeleteBatchExecution",
                "Cancels a batch execution and deletes it with its files",
                parameters=[execution],
                responses=_ok(_STRINGS),
            ),
        },
        files: {
            "get": _operation(
                tag,
                "GetBatchExecutionFiles",
                "Lists the files one record produced",
                parameters=[execution, index],
                responses=_ok(_STRINGS),
            )
        },
        files + "/{fileName}": {
            "get": {
                **_operation(
                    tag,
                    "GetBatchExecutionFile",
                    "Gets one file one record produced",
                    parameters=[execution, index, _path("fileName", "string")],
                    responses=_ok({"type": "file"}),
                ),
                "produces": produces("application/octet-stream"),
            }
        },
    }


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


def _login_paths() -> JsonObject:
    token = {"200": {"description": "OK", "schema": {"$ref": "#/definitions/AccessTokenResponse"}}}
    return {
        "/login": {
            "post": {
                "tags": ["User"],
                "operationId": "login",
                "summary": "Logs the user in",
                "parameters": [
                    {
                        "name": "loginRequest",
                        "in": "body",
                        "required": True,
                        "schema": {"$ref": "#/definitions/LoginRequest"},
                    }
                ],
                "responses": {**token, "default": _ERROR},
            }
        },
        "/login/refreshToken": {
            "post": {
                "tags": ["User"],
                "operationId": "renewToken",
                "summary": "Renews a token",
                "parameters": [
                    {
                        "name": "renewTokenRequest",
                        "in": "body",
                        "required": True,
                        "schema": {"$ref": "#/definitions/RenewTokenRequest"},
                    }
                ],
                "responses": {**token, "default": _ERROR},
            },
            "delete": {
                "tags": ["User"],
                "operationId": "revokeRefreshToken",
                "summary": "Revokes a refresh token",
                "parameters": [
                    {"name": "refreshToken", "in": "query", "required": True, "type": "string"}
                ],
                "responses": {**token, "default": _ERROR},
            },
        },
    }


def _definitions(service: ServiceVersion) -> JsonObject:
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
        "Error": {
            "type": "object",
            "properties": {
                "code": {"type": "integer", "format": "int32"},
                "message": {"type": "string"},
                "fields": {"type": "string"},
            },
        },
        "LoginRequest": {
            "type": "object",
            "properties": {"username": {"type": "string"}, "password": {"type": "string"}},
        },
        "RenewTokenRequest": {"type": "object", "properties": {"refreshToken": {"type": "string"}}},
        "AccessTokenResponse": {
            "type": "object",
            "properties": {
                "token_type": {"type": "string"},
                "access_token": {"type": "string"},
                "expires_in": {"type": "integer"},
                "expires_on": {"type": "integer"},  # Microsoft's says string; both send integers
                "refresh_token": {"type": "string"},
            },
        },
    }


def service_document(service: ServiceVersion, timeout_seconds: float) -> JsonObject:
    """Swagger 2.0 for consuming `service`, whose calls may run `timeout_seconds`."""
    tag, base = service.name, f"/api/{service.name}/{service.version}"
    consume = _operation(
        tag,
        service.operation_id or DEFAULT_OPERATION_ID,
        "Consumes the web service",
        description=f"A call may run {timeout_seconds:g} s; one that runs longer is stopped "
        "and answered 504.",
        parameters=[
            {
                "name": "WebServiceParameters",
                "in": "body",
                "required": True,
                "schema": {"$ref": "#/definitions/InputParameters"},
            }
        ],
        responses={
            "200": {"description": "OK", "schema": {"$ref": "#/definitions/WebServiceResult"}}
        },
    )
    paths = {**_login_paths(), base: {"post": consume}, **_batch_paths(tag, base)}
    description = service.description or ""
    return {
        "swagger": "2.0",
        "info": {"description": description, "title": service.name, "version": service.version},
        "schemes": ["http", "https"],
        "securityDefinitions": {
            "Bearer": {"type": "apiKey", "name": "Authorization", "in": "header"}
        },
        "tags": [{"name": tag, "description": description}],
        "consumes": ["application/json"],
        "produces": ["application/json"],
        "paths": paths,
        "definitions": _definitions(service),
    }
