"""Credentials: log in, send the bearer token, refresh it before it expires (without I/O)."""

from __future__ import annotations

import time
from dataclasses import dataclass

from o16n.client.request import Flow, Request, json_object

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


def _tokens(body: dict[str, object]) -> Tokens:
    refresh = body.get("refresh_token")
    return Tokens(
        access_token=str(body["access_token"]),
        expires_on=float(str(body["expires_on"])),
        lifetime=float(str(body.get("expires_in", 0))),
        refresh_token=refresh if isinstance(refresh, str) else None,
    )


class Credentials:
    """A username and password to log in with, or a given access token (never refreshed)."""

    def __init__(self, *, username: str | None, password: str | None, token: str | None) -> None:
        """Keep the password until the first login, or use `token` as it is."""
        self.tokens: Tokens | None = None
        self._password: tuple[str, str] | None = None
        if username is not None and password is not None:
            self._password = (username, password)
        elif token is not None:
            self.tokens = Tokens(token, float("inf"), 0.0, None)
        else:
            raise ValueError("give a username and password, or a token")

    @property
    def access_token(self) -> str:
        """The current access token ("" before the first login)."""
        return self.tokens.access_token if self.tokens is not None else ""

    def login(self) -> Flow[None]:
        """Exchange the username and password for a token pair."""
        if self._password is None:
            raise RuntimeError("no password to log in with")
        username, password = self._password
        body = {"username": username, "password": password}
        response = yield Request("POST", "/login", json=body, authenticated=False)
        self.tokens = _tokens(json_object(response))

    def refresh(self) -> Flow[None]:
        """Rotate the token pair with the refresh token."""
        if self.tokens is None or self.tokens.refresh_token is None:
            raise RuntimeError("no refresh token: log in with a username and password")
        body = {"refreshToken": self.tokens.refresh_token}
        response = yield Request("POST", "/login/refreshToken", json=body, authenticated=False)
        self.tokens = _tokens(json_object(response))

    def due(self, request: Request) -> bool:
        """Whether a login or refresh must run before `request`."""
        if not request.authenticated:
            return False
        return self.tokens is None or self.tokens.due()

    def renewal(self) -> Flow[None]:
        """The first login, or else a refresh."""
        return self.login() if self.tokens is None else self.refresh()

    def headers(self, request: Request) -> dict[str, str]:
        """The Authorization header `request` needs."""
        if not request.authenticated or self.tokens is None:
            return {}
        return {"Authorization": f"Bearer {self.tokens.access_token}"}
