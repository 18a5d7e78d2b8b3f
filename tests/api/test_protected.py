"""Every operation that declares security refuses callers without a valid bearer token;
the anonymous routes (/health, /swagger.json, /docs and its assets) need none."""

from __future__ import annotations

import re

import httpx
import pytest

from tests.harness import Server, assert_error

_PLACEHOLDER = re.compile(r"{[^}]+}")
_ASSET = re.compile(r"""(?:src|href)=["'](/docs/assets/[^"']+)["']""")


def _secured_operations(server: Server) -> list[tuple[str, str, str]]:
    document = httpx.get(f"{server.url}/swagger.json", timeout=30).json()
    found = []
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            if operation.get("security"):
                concrete = _PLACEHOLDER.sub("placeholder-0", path)
                found.append((method.upper(), concrete, operation["operationId"]))
    return found


def _refusals(server: Server, headers: dict[str, str]) -> list[tuple[str, httpx.Response]]:
    results = []
    with httpx.Client(base_url=server.url, timeout=30) as client:
        for method, path, operation_id in _secured_operations(server):
            response = client.request(method, path, headers=headers, json={})
            results.append((operation_id, response))
    return results


def test_secured_operations_are_listed(server: Server) -> None:
    operation_ids = {operation_id for _, _, operation_id in _secured_operations(server)}
    assert "status" in operation_ids
    assert not operation_ids & {"login", "renewToken", "revokeRefreshToken"}


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer garbage"},
        {"Authorization": "Bearer"},
        {"Authorization": "Basic x"},
        {"Authorization": "Basic YWRtaW46QWRtaW4tUGFzcy0xMjM="},
        {"Authorization": "garbage"},
        {"Authorization": "Bearer a.b.c"},
    ],
    ids=["none", "garbage", "empty-bearer", "basic", "basic-admin", "no-scheme", "fake-jwt"],
)
def test_every_secured_operation_refuses_without_a_valid_token(
    server: Server, headers: dict[str, str]
) -> None:
    refusals = _refusals(server, headers)
    assert refusals
    for operation_id, response in refusals:
        assert response.status_code == 401, (operation_id, response.text)
        assert_error(response, 401)
        assert response.headers.get("www-authenticate", "").lower().startswith("bearer"), (
            operation_id
        )


def test_bearer_scheme_is_case_insensitive(server: Server, admin_token: str) -> None:
    response = httpx.get(
        f"{server.url}/status", headers={"Authorization": f"bearer {admin_token}"}, timeout=30
    )
    assert response.status_code == 200, response.text


def test_status_accepts_json_content_type_on_get(server: Server, admin_token: str) -> None:
    headers = {
        "Authorization": f"Bearer {admin_token}",
        "Content-Type": "application/json",
        "Accept": "application/json",
        "User-Agent": "azureml-model-management-sdk/1.0.1b6.post1/python",
    }
    response = httpx.get(f"{server.url}/status", headers=headers, timeout=30)
    assert response.status_code == 200, response.text
    assert response.json()["statusCode"] in {"pass", "warn", "fail"}


def test_status_reports_the_health_tree(server: Server, admin_token: str) -> None:
    with server.client(admin_token) as client:
        body = client.get("/status").json()
    assert body["statusCode"] == "pass"
    assert isinstance(body["details"], dict)
    database = body["components"]["database"]
    assert database["statusCode"] == "pass"
    assert database["components"] == {}, "a leaf's components are empty, not null"
    assert database["details"]["state"] == "Open"


def test_health_needs_no_token(server: Server) -> None:
    response = httpx.get(f"{server.url}/health", timeout=30)
    assert response.status_code == 200
    assert response.json()["statusCode"] == "pass"


def test_swagger_json_is_anonymous(server: Server) -> None:
    response = httpx.get(f"{server.url}/swagger.json", timeout=30)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    assert response.json()["swagger"] == "2.0"


def test_docs_page_is_anonymous_and_offline(server: Server) -> None:
    response = httpx.get(f"{server.url}/docs", timeout=30)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    page = response.text
    assert "http://" not in page and "https://" not in page
    assets = _ASSET.findall(page)
    assert any(asset.endswith(".js") for asset in assets), page
    assert "/swagger.json" in page


def test_docs_assets_are_served_locally(server: Server) -> None:
    page = httpx.get(f"{server.url}/docs", timeout=30).text
    assets = _ASSET.findall(page)
    assert assets
    for asset in assets:
        response = httpx.get(f"{server.url}{asset}", timeout=30)
        assert response.status_code == 200, asset
        assert response.content, asset
        if asset.endswith(".js"):
            assert "javascript" in response.headers["content-type"], response.headers
        if asset.endswith(".css"):
            assert "text/css" in response.headers["content-type"], response.headers


def test_missing_docs_asset_is_404(server: Server) -> None:
    response = httpx.get(f"{server.url}/docs/assets/no-such-file.js", timeout=30)
    assert_error(response, 404)
