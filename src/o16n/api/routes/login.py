"""Login, token renewal and revocation (reference §3)."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from o16n.api.body import read_model
from o16n.api.operation import Call, Operation, Param
from o16n.api.responses import JSONResponse
from o16n.api.schemas import AccessTokenResponse, LoginRequest, RenewTokenRequest
from o16n.errors import InvalidCredentials, InvalidInput, TooManyAttempts


def _tokens(response: AccessTokenResponse) -> JSONResponse:
    return JSONResponse(response.model_dump(), headers={"Cache-Control": "no-store"})


async def login(call: Call) -> Response:
    """Exchange a username and password for a token pair."""
    request = await read_model(call.request, LoginRequest, call.services.limits.json_bytes)
    try:
        pair = await run_in_threadpool(
            call.services.accounts.login, request.username, request.password
        )
    except (InvalidCredentials, TooManyAttempts):
        call.services.metrics.login_failed()
        raise
    return _tokens(AccessTokenResponse.of(pair))


async def renew_token(call: Call) -> Response:
    """Rotate a refresh token into a new pair."""
    request = await read_model(call.request, RenewTokenRequest, call.services.limits.json_bytes)
    pair = await run_in_threadpool(call.services.accounts.refresh, request.refreshToken)
    call.services.authenticator.forget_all()
    return _tokens(AccessTokenResponse.of(pair))


async def revoke_refresh_token(call: Call) -> Response:
    """Revoke a refresh token and the access tokens issued from its family."""
    token = call.request.query_params.get("refreshToken")
    if not token:
        raise InvalidInput("query parameter refreshToken is required", field="refreshToken")
    await run_in_threadpool(call.services.accounts.revoke, token)
    call.services.authenticator.forget_all()
    return JSONResponse({"revoked": True})


OPERATIONS = (
    Operation(
        "POST",
        "/login",
        "login",
        "Logs the user in",
        "User",
        login,
        action=None,
        body=LoginRequest,
        body_name="loginRequest",
        response=AccessTokenResponse,
        in_service_document=True,
    ),
    Operation(
        "POST",
        "/login/refreshToken",
        "renewToken",
        "Renews a token pair",
        "User",
        renew_token,
        action=None,
        body=RenewTokenRequest,
        body_name="renewTokenRequest",
        response=AccessTokenResponse,
        in_service_document=True,
    ),
    Operation(
        "DELETE",
        "/login/refreshToken",
        "revokeRefreshToken",
        "Revokes a refresh token",
        "User",
        revoke_refresh_token,
        action=None,
        query=(Param("refreshToken", "string", required=True),),
        response={"type": "object", "properties": {"revoked": {"type": "boolean"}}},
        in_service_document=True,
    ),
)
