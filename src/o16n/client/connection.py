"""The HTTP connection: bearer token, automatic refresh and error mapping."""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass

import httpx

from o16n.client.failure import error_from

_REFRESH_MARGIN = 60.0


@dataclass(frozen=True)
class Tokens:
    """An access token, when it expires (epoch seconds) and its refresh token."""

    access_token: str
    expires_on: float
    lifetime: float
    refresh_token: str | None

    def due(self) -> bool:
        """Whether the access token should be renewed before the next request."""
        if self.refresh_token is None:
            return False
        margin = min(_REFRESH_MARGIN, self.lifetime / 4)
        return time.time() >= self.expires_on - margin


def _tokens(body: object) -> Tokens:
    if not isinstance(body, dict):
        raise TypeError("the token response is not a JSON object")
    refresh = body.get("refresh_token")
    return Tokens(
        access_token=str(body["access_token"]),
        expires_on=float(body["expires_on"]),
        lifetime=float(body.get("expires_in", 0)),
        refresh_token=refresh if isinstance(refresh, str) else None,
    )


class Connection:
    """An httpx client that authenticates every request and raises O16nError on failure."""

    def __init__(self, url: str, *, timeout: float) -> None:
        """Connect to the server at `url` (no request is sent yet)."""
        self._http = httpx.Client(base_url=url.rstrip("/"), timeout=timeout)
        self._tokens: Tokens | None = None

    @property
    def tokens(self) -> Tokens | None:
        """The current token pair, if any."""
        return self._tokens

    def login(self, username: str, password: str) -> None:
        """Exchange a username and password for a token pair."""
        body = {"username": username, "password": password}
        self._tokens = _tokens(self._send("POST", "/login", json=body, auth=False).json())

    def use_token(self, token: str) -> None:
        """Authenticate with a given access token (no refresh)."""
        self._tokens = Tokens(token, float("inf"), 0.0, None)

    def refresh(self) -> None:
        """Rotate the token pair with the refresh token."""
        if self._tokens is None or self._tokens.refresh_token is None:
            raise RuntimeError("no refresh token: log in with a username and password")
        body = {"refreshToken": self._tokens.refresh_token}
        response = self._send("POST", "/login/refreshToken", json=body, auth=False)
        self._tokens = _tokens(response.json())

    def request(
        self,
        method: str,
        path: str,
        *,
        json: object = None,
        content: bytes | None = None,
        files: Mapping[str, tuple[str, bytes, str]] | None = None,
        headers: Mapping[str, str] | None = None,
        data: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        """Send an authenticated request (`data`: form fields); non-2xx raises its O16nError."""
        if self._tokens is not None and self._tokens.due():
            self.refresh()
        return self._send(
            method, path, json=json, content=content, files=files, headers=headers, data=data
        )

    def _send(
        self,
        method: str,
        path: str,
        *,
        json: object = None,
        content: bytes | None = None,
        files: Mapping[str, tuple[str, bytes, str]] | None = None,
        headers: Mapping[str, str] | None = None,
        auth: bool = True,
        data: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        sent = dict(headers or {})
        if auth and self._tokens is not None:
            sent["Authorization"] = f"Bearer {self._tokens.access_token}"
        response = self._http.request(
            method, path, json=json, content=content, files=files, headers=sent, data=data
        )
        if not response.is_success:
            raise error_from(response)
        return response

    def close(self) -> None:
        """Close the underlying HTTP connections."""
        self._http.close()
