"""Failed-login throttling per account name: 429 with Retry-After, then a cooling period."""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from tests.harness import ADMIN_PASSWORD, Server, assert_error, unique_name

MAX_FAILURES = 5
COOLDOWN_SECONDS = 2
COOLDOWN_DEADLINE_SECONDS = 15.0
BYSTANDER_PASSWORD = "Bystander-Pass-1"


@pytest.fixture(scope="module")
def throttled(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    directory = tmp_path_factory.mktemp("throttled") / "data"
    env = {
        "O16N_LOGIN_COOLDOWN_SECONDS": str(COOLDOWN_SECONDS),
        "O16N_LOGIN_MAX_FAILURES": str(MAX_FAILURES),
    }
    running = Server(directory, env=env).start()
    yield running
    running.stop()


def _login(server: Server, username: str, password: str) -> httpx.Response:
    return httpx.post(
        f"{server.url}/login", json={"username": username, "password": password}, timeout=60
    )


def _retry_after(response: httpx.Response) -> int:
    value = response.headers.get("retry-after", "")
    assert value.isdigit(), response.headers
    return int(value)


def test_sixth_attempt_is_429_until_the_cooling_period_ends(throttled: Server) -> None:
    bystander = unique_name("bystander")
    added = throttled.cli(
        "users", "add", bystander, "--role", "Reader", "--password", BYSTANDER_PASSWORD
    )
    assert added.returncode == 0, added.stderr
    for _ in range(MAX_FAILURES):
        assert_error(_login(throttled, "admin", "wrong-password"), 401)

    refused = _login(throttled, "admin", ADMIN_PASSWORD)
    assert_error(refused, 429)
    assert 0 < _retry_after(refused) <= COOLDOWN_SECONDS

    assert _login(throttled, bystander, BYSTANDER_PASSWORD).status_code == 200

    deadline = time.monotonic() + COOLDOWN_DEADLINE_SECONDS
    response = refused
    while response.status_code == 429 and time.monotonic() < deadline:
        time.sleep(min(_retry_after(response), 1))
        response = _login(throttled, "admin", ADMIN_PASSWORD)
    assert response.status_code == 200, response.text


def test_wrong_password_while_cooling_is_also_429(throttled: Server) -> None:
    name = unique_name("ghost")
    for _ in range(MAX_FAILURES):
        assert_error(_login(throttled, name, "wrong-password"), 401)
    response = _login(throttled, name, "wrong-password")
    assert_error(response, 429)
    assert _retry_after(response) > 0


def test_concurrent_guesses_cannot_exceed_the_failure_limit(throttled: Server) -> None:
    name = unique_name("target")
    attempts = 12
    with ThreadPoolExecutor(max_workers=attempts) as pool:
        responses = list(pool.map(lambda n: _login(throttled, name, f"guess-{n}"), range(attempts)))
    statuses = sorted(response.status_code for response in responses)
    assert set(statuses) <= {401, 429}, statuses
    assert statuses.count(401) <= MAX_FAILURES, statuses
