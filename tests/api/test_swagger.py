"""GET /swagger.json: a Swagger 2.0 document of the core API that resolves in itself."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.harness import Server

CORE_OPERATIONS = {
    "login": ("post", "/login", "200"),
    "renewToken": ("post", "/login/refreshToken", "200"),
    "revokeRefreshToken": ("delete", "/login/refreshToken", "200"),
    "status": ("get", "/status", "200"),
}
SWAGGER2_FORBIDDEN_KEYWORDS = {"anyOf", "oneOf", "const", "$defs", "prefixItems", "nullable"}


@pytest.fixture(scope="module")
def document(server: Server) -> dict[str, Any]:
    response = httpx.get(f"{server.url}/swagger.json", timeout=30)
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


def _operations(document: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in document["paths"].items():
        for method, operation in item.items():
            yield path, method, operation


def _walk(node: object) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from _walk(value)


def _resolve(document: dict[str, Any], ref: str) -> dict[str, Any]:
    assert ref.startswith("#/definitions/"), ref
    name = ref.removeprefix("#/definitions/")
    assert name in document["definitions"], ref
    target: dict[str, Any] = document["definitions"][name]
    return target


def test_is_swagger_2(document: dict[str, Any]) -> None:
    assert document["swagger"] == "2.0"
    assert document["info"]["title"]
    assert document["info"]["version"]
    assert isinstance(document["paths"], dict) and document["paths"]


def test_core_operations_with_their_success_codes(document: dict[str, Any]) -> None:
    by_id = {op["operationId"]: (method, path, op) for path, method, op in _operations(document)}
    for operation_id, (method, path, success) in CORE_OPERATIONS.items():
        assert operation_id in by_id, operation_id
        found_method, found_path, operation = by_id[operation_id]
        assert (found_method, found_path) == (method, path)
        assert success in operation["responses"], operation["responses"]


def test_operation_ids_are_unique(document: dict[str, Any]) -> None:
    ids = [op["operationId"] for _, _, op in _operations(document)]
    assert len(ids) == len(set(ids))


def test_bearer_security_definition(document: dict[str, Any]) -> None:
    bearer = document["securityDefinitions"]["Bearer"]
    assert bearer == {"type": "apiKey", "name": "Authorization", "in": "header"}
    by_id = {op["operationId"]: op for _, _, op in _operations(document)}
    assert by_id["status"]["security"] == [{"Bearer": []}]
    for anonymous in ("login", "renewToken", "revokeRefreshToken"):
        assert not by_id[anonymous].get("security"), anonymous


def test_login_declares_its_body_and_token_response(document: dict[str, Any]) -> None:
    by_id = {op["operationId"]: op for _, _, op in _operations(document)}
    body = [p for p in by_id["login"]["parameters"] if p["in"] == "body"]
    assert len(body) == 1 and body[0]["required"] is True
    request = _resolve(document, body[0]["schema"]["$ref"])
    assert set(request["required"]) == {"username", "password"}
    response = _resolve(document, by_id["login"]["responses"]["200"]["schema"]["$ref"])
    assert set(response["properties"]) == {
        "token_type",
        "access_token",
        "expires_in",
        "expires_on",
        "refresh_token",
    }


def test_revoke_declares_its_query_parameter(document: dict[str, Any]) -> None:
    by_id = {op["operationId"]: op for _, _, op in _operations(document)}
    parameters = by_id["revokeRefreshToken"]["parameters"]
    assert {"name": "refreshToken", "in": "query", "required": True, "type": "string"} in [
        {key: p[key] for key in ("name", "in", "required", "type")} for p in parameters
    ]


def test_every_ref_resolves_inside_definitions(document: dict[str, Any]) -> None:
    refs = [node["$ref"] for node in _walk(document) if "$ref" in node]
    assert refs
    for ref in refs:
        _resolve(document, ref)


def test_every_definition_has_content(document: dict[str, Any]) -> None:
    for name, schema in document["definitions"].items():
        assert "$ref" not in schema, f"definition {name} is only a reference: {schema}"
        assert "type" in schema, (name, schema)
        if schema["type"] == "object":
            assert "properties" in schema or "additionalProperties" in schema, (name, schema)


def test_uses_only_swagger_2_schema_keywords(document: dict[str, Any]) -> None:
    for node in _walk(document):
        used = SWAGGER2_FORBIDDEN_KEYWORDS & set(node)
        assert not used, f"{sorted(used)} are not Swagger 2.0: {node}"
        assert node.get("type") != "null", node


def test_generators_read_no_null_default_and_no_empty_map(document: dict[str, Any]) -> None:
    """A null default becomes the string 'null' in generated models; `{}` values, dicts."""
    for node in _walk(document):
        assert node.get("default", "absent") is not None, node
        assert node.get("additionalProperties") != {}, node
    details = document["definitions"]["StatusResponse"]["properties"]["details"]
    assert details["additionalProperties"] is True


def test_operations_answering_bytes_or_text_also_produce_json_errors(server: Server) -> None:
    document = httpx.get(f"{server.url}/swagger.json", timeout=30).json()
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            produced = operation["produces"]
            assert "application/json" in produced, (method, path, produced)
    files = document["paths"]["/sessions/{id}/files"]["post"]["produces"]
    assert files == ["text/plain", "application/json"]
