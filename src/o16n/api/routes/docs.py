"""The API documents (the core one, and each version's own) and an offline Swagger UI."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import swagger_ui_bundle
from starlette.concurrency import run_in_threadpool
from starlette.responses import HTMLResponse, Response
from starlette.routing import BaseRoute, Mount
from starlette.staticfiles import StaticFiles

from o16n.api.operation import Call, Operation
from o16n.api.responses import JSONResponse
from o16n.api.routes.services import name_and_version
from o16n.api.service_swagger import service_document
from o16n.auth.roles import Action

_UI_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>o16n API</title>
<link rel="stylesheet" href="/docs/assets/swagger-ui.css"></head>
<body><div id="ui"></div>
<script src="/docs/assets/swagger-ui-bundle.js"></script>
<script>SwaggerUIBundle({url: "/swagger.json", dom_id: "#ui"});</script>
</body></html>"""


def operations(document: Callable[[], dict[str, object]]) -> tuple[Operation, ...]:
    """GET /swagger.json (the document) and GET /docs (the UI page), both anonymous."""

    async def swagger(call: Call) -> Response:
        return JSONResponse(document())

    async def ui(call: Call) -> Response:
        return HTMLResponse(_UI_PAGE)

    return (
        Operation(
            "GET",
            "/swagger.json",
            "getCoreSwagger",
            "The core API document",
            "Docs",
            swagger,
            action=None,
            documented=False,
        ),
        Operation(
            "GET",
            "/docs",
            "getDocsPage",
            "Swagger UI",
            "Docs",
            ui,
            action=None,
            documented=False,
        ),
    )


def assets() -> BaseRoute:
    """Swagger UI's JavaScript and CSS, served from the installed package (no CDN)."""
    directory = Path(swagger_ui_bundle.swagger_ui_path)
    return Mount("/docs/assets", app=StaticFiles(directory=directory), name="docs-assets")


def service_document_operation(parts: tuple[Operation, ...]) -> Operation:
    """GET /api/{name}/{version}/swagger.json: the version's document, made of `parts` (the
    operations marked for versions' documents)."""

    async def swagger(call: Call) -> Response:
        name, version = name_and_version(call)
        services = call.services.services
        service = await run_in_threadpool(services.get, name, version)
        return JSONResponse(service_document(service, services.timeout_of(service), parts))

    return Operation(
        "GET",
        "/api/{name}/{version}/swagger.json",
        "GetWebServiceSwagger",
        "Gets the Swagger document of a web service version",
        "Services",
        swagger,
        Action.READ_SERVICES,
        response={"type": "object"},
    )
