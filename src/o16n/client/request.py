"""Requests as data and flows of them: the client's logic, free of I/O (sans-IO).

A flow is a generator that yields the requests it needs and receives each response (or has the
error raised at its `yield`); the sync and async connections only drive flows, so both clients
share every request, every response parser and every multi-step sequence.
"""

from __future__ import annotations

from collections.abc import Generator, Mapping
from dataclasses import dataclass, field
from typing import TypeVar
from urllib.parse import quote

import httpx

from o16n.client.failure import error_from
from o16n.errors import O16nError

T = TypeVar("T")
Flow = Generator["Request", httpx.Response, T]
Reply = httpx.Response | BaseException | None
REQUEST_FAILURES = (O16nError, httpx.HTTPError)  # what a cleanup swallows while an error propagates


@dataclass(frozen=True)
class Request:
    """One HTTP request to the server, relative to its base URL."""

    method: str
    path: str
    json: object = None
    content: bytes | None = None
    files: Mapping[str, tuple[str, bytes, str]] | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    authenticated: bool = True
    data: Mapping[str, str] | None = None

    def build(
        self, http: httpx.Client | httpx.AsyncClient, headers: Mapping[str, str]
    ) -> httpx.Request:
        """The httpx request, with `headers` added to its own."""
        return http.build_request(
            self.method,
            self.path,
            json=self.json,
            content=self.content,
            files=self.files,
            data=self.data,
            headers={**self.headers, **headers},
        )


def segment(text: str) -> str:
    """`text` quoted as one path segment."""
    return quote(text, safe="")


def exchange(request: Request) -> Flow[httpx.Response]:
    """A flow of the one `request`, returning its response."""
    response = yield request
    return response


def advance(flow: Flow[T], reply: Reply) -> Request:
    """The flow's next request, after `reply` (None to start, or the error sending failed with)."""
    if reply is None:
        return next(flow)
    if isinstance(reply, BaseException):
        return flow.throw(reply)
    return flow.send(reply)


def checked(response: httpx.Response) -> httpx.Response:
    """The `response` if it succeeded; else its O16nError is raised."""
    if not response.is_success:
        raise error_from(response)
    return response


def json_list(response: httpx.Response) -> list[object]:
    """The response's JSON array (empty when it is anything else)."""
    body: object = response.json()
    return list(body) if isinstance(body, list) else []


def json_object(response: httpx.Response) -> dict[str, object]:
    """The response's JSON object (empty when it is anything else)."""
    body: object = response.json()
    return dict(body) if isinstance(body, dict) else {}
