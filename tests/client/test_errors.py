"""Every failure answer becomes the server's O16nError subclass, with message, field and id."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from o16n.client import Client, error_from, request_id_of
from o16n.errors import (
    CapacityExceeded,
    Forbidden,
    InternalError,
    InvalidCredentials,
    InvalidInput,
    MethodNotAllowed,
    NotFound,
    O16nError,
    ServiceExists,
    ServiceNotFound,
    TooManyAttempts,
    Unauthenticated,
    WorkerError,
)
from tests.harness import Server, unique_name

PASSWORD = "Client-Pass-456"


def _user(server: Server, role: str) -> str:
    name = unique_name(role.lower())
    result = server.cli("users", "add", name, "--role", role, "--password", PASSWORD)
    assert result.returncode == 0, result.stderr
    return name


def test_a_wrong_password_raises_invalid_credentials(server: Server) -> None:
    user = _user(server, "Reader")
    with pytest.raises(InvalidCredentials) as caught:
        Client(server.url, username=user, password="not-the-password")
    assert isinstance(caught.value, Unauthenticated)
    assert caught.value.message
    assert request_id_of(caught.value)


def test_credentials_are_required(server: Server) -> None:
    with pytest.raises(ValueError, match="username and password"):
        Client(server.url, username="admin")


def test_a_bad_token_raises_unauthenticated(server: Server) -> None:
    with Client(server.url, token="not-a-token") as client, pytest.raises(Unauthenticated):
        client.services()


def test_an_unknown_service_raises_service_not_found(client: Client) -> None:
    with pytest.raises(ServiceNotFound) as caught:
        client.service("No_Such_Service_Here", "v1")
    assert isinstance(caught.value, NotFound)
    assert request_id_of(caught.value)
    with pytest.raises(ServiceNotFound) as caught:
        client.delete("No_Such_Service_Here", "v1")
    assert request_id_of(caught.value)
    with pytest.raises(ServiceNotFound):
        client.service("No_Such_Service_Here")


def test_a_bad_input_raises_invalid_input_naming_the_field(
    client: Client, new_name: Callable[[str], str]
) -> None:
    name = new_name("Double")
    client.publish(name, "v1", code="y = x * 2", inputs={"x": "numeric"}, outputs={"y": "numeric"})
    service = client.service(name)
    assert service(x=21).outputs == {"y": 42}
    with pytest.raises(InvalidInput) as caught:
        service(z=1)
    assert caught.value.field == "z"
    with pytest.raises(InvalidInput) as caught:
        client.publish(name, "v2", code="y = 1", operation_id="not an identifier")
    assert caught.value.field == "operationId"


def test_publishing_an_existing_version_raises_service_exists(
    client: Client, new_name: Callable[[str], str]
) -> None:
    name = new_name("Twice")
    assert client.publish(name, "v1", code="pass") == "v1"
    with pytest.raises(ServiceExists):
        client.publish(name, "v1", code="pass")


def test_a_reader_may_not_publish(server: Server, new_name: Callable[[str], str]) -> None:
    user = _user(server, "Reader")
    reader = Client(server.url, username=user, password=PASSWORD)
    with reader, pytest.raises(Forbidden) as caught:
        reader.publish(new_name("Refused"), "v1", code="pass")
    assert request_id_of(caught.value)


def test_a_closed_session_is_not_found(client: Client) -> None:
    with client.session() as session:
        pass
    with pytest.raises(NotFound):
        session.execute("x = 1")


def _response(status: int, body: object = None, **headers: str) -> httpx.Response:
    request = httpx.Request("GET", "http://o16n.invalid/x")
    if body is None:
        return httpx.Response(status, text="plain failure", headers=headers, request=request)
    return httpx.Response(status, json=body, headers=headers, request=request)


def test_unknown_codes_fall_back_to_the_status() -> None:
    body = {"message": "m", "errorCode": "from_the_future", "requestId": "r1"}
    assert type(error_from(_response(404, body))) is NotFound
    assert type(error_from(_response(502, body))) is WorkerError
    assert type(error_from(_response(500))) is InternalError
    assert type(error_from(_response(418))) is O16nError
    plain = error_from(_response(599, **{"X-Request-Id": "r2"}))
    assert plain.message == "plain failure"
    assert request_id_of(plain) == "r2"
    assert request_id_of(ValueError("x")) is None


def test_extra_members_come_from_the_headers() -> None:
    body = {"message": "slow down", "errorCode": "too_many_attempts", "requestId": "r"}
    attempts = error_from(_response(429, body, **{"Retry-After": "7"}))
    assert isinstance(attempts, TooManyAttempts)
    assert attempts.retry_after == 7
    busy = error_from(_response(503, {**body, "errorCode": "capacity_exceeded"}))
    assert isinstance(busy, CapacityExceeded)
    assert busy.retry_after == 1
    method = error_from(
        _response(405, {**body, "errorCode": "method_not_allowed"}, Allow="GET, POST")
    )
    assert isinstance(method, MethodNotAllowed)
    assert method.allowed == ["GET", "POST"]
