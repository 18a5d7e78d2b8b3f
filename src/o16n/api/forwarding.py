"""Session requests that reach a web node other than the one holding the session are
forwarded there (many web nodes behind any load balancer, no sticky sessions).

A session lives in one node's memory. A request for `/sessions/{id}/…` whose session is not
here is authenticated here, then sent as it came (method, path, query, headers, body) to the
node that the session directory names, with the cluster's secret in `X-O16n-Cluster-Key`;
that node's answer goes back as it is. A request that carries the secret is never forwarded
again (a session that moved or ended answers 404 there); a wrong secret is a 403. A node
that does not answer makes a 502 `node_unavailable` naming it.
"""

from __future__ import annotations

import hmac
import re

import httpx
from starlette.types import ASGIApp, Receive, Scope, Send

from o16n.api.body import received_bytes
from o16n.api.dependencies import ApiServices, Cluster
from o16n.api.operation import authenticated
from o16n.errors import Forbidden, NodeUnavailable

CLUSTER_KEY = "x-o16n-cluster-key"
_SESSION_PATH = re.compile(r"^/sessions/([^/]+)(/.*)?$")
_HOP_BY_HOP = frozenset(
    {
        b"connection",
        b"keep-alive",
        b"proxy-authenticate",
        b"proxy-authorization",
        b"te",
        b"trailer",
        b"transfer-encoding",
        b"upgrade",
        b"host",
        CLUSTER_KEY.encode(),
    }
)


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key.lower() == name:
            return str(value.decode("latin-1"))
    return None


def _forwarded_to_us(scope: Scope, cluster: Cluster) -> bool:
    """Whether another node sent this request (Forbidden when the key is wrong)."""
    key = _header(scope, CLUSTER_KEY.encode())
    if key is None:
        return False
    if not hmac.compare_digest(key.encode(), cluster.secret.encode()):
        raise Forbidden("a wrong cluster key", field=CLUSTER_KEY)
    return True


def _services(scope: Scope) -> ApiServices | None:
    """What the composition root gave the app (None before its lifespan ran)."""
    services: ApiServices | None = getattr(scope["app"].state, "services", None)
    return services


class SessionForwarding:
    """Pure ASGI middleware: forward session requests to the node that holds the session."""

    def __init__(self, app: ASGIApp) -> None:
        self._app = app
        self._client: httpx.AsyncClient | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Forward when the session lives on another node; otherwise pass the request on."""
        match = _SESSION_PATH.match(scope["path"]) if scope["type"] == "http" else None
        services = _services(scope) if match is not None else None
        cluster = services.cluster if services is not None else None
        if match is None or services is None or cluster is None:
            await self._app(scope, receive, send)
            return
        if not _forwarded_to_us(scope, cluster):
            await authenticated(scope, services, _header(scope, b"authorization") or "")
            node = await services.sessions.node_of(match[1])
            if node is not None:
                await self._forward(node, scope, receive, send, services=services, cluster=cluster)
                return
        await self._app(scope, receive, send)

    async def _forward(
        self,
        node: str,
        scope: Scope,
        receive: Receive,
        send: Send,
        *,
        services: ApiServices,
        cluster: Cluster,
    ) -> None:
        declared = _header(scope, b"content-length")
        body = await received_bytes(receive, declared, services.limits.upload_bytes)
        headers = [(k, v) for k, v in scope["headers"] if k.lower() not in _HOP_BY_HOP]
        headers.append((CLUSTER_KEY.encode(), cluster.secret.encode()))
        target = node.rstrip("/") + scope["raw_path"].decode("latin-1")
        if scope.get("query_string"):
            target += "?" + scope["query_string"].decode("latin-1")
        client = self._http(cluster)
        request = client.build_request(scope["method"], target, headers=headers, content=body)
        try:
            response = await client.send(request, stream=True)
        except httpx.HTTPError as error:
            raise NodeUnavailable(
                f"the session lives on the web node {node}, which does not answer "
                f"({type(error).__name__}: {error}); if that node stopped, the session is "
                "lost: open a new one (snapshots are kept)"
            ) from error
        try:
            kept = [
                (k.encode("latin-1"), v.encode("latin-1"))
                for k, v in response.headers.multi_items()
                if k.lower().encode() not in _HOP_BY_HOP
            ]
            await send({"type": "http.response.start", "status": response.status_code,
                        "headers": kept})  # fmt: skip
            async for chunk in response.aiter_raw():
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
            await send({"type": "http.response.body", "body": b""})
        finally:
            await response.aclose()

    def _http(self, cluster: Cluster) -> httpx.AsyncClient:
        """One connection pool to the other nodes, made on first use."""
        if self._client is None:
            timeout = httpx.Timeout(cluster.request_seconds, connect=5.0)
            self._client = httpx.AsyncClient(timeout=timeout)
        return self._client
