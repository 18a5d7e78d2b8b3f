"""Roles (reference §16): who may read status, and the permission table itself."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from o16n.auth.authorizer import is_allowed
from o16n.auth.roles import Action
from o16n.domain.models import Principal, Role
from o16n.ids import TokenFamilyId, UserId
from tests.harness import Server, assert_error, unique_name

PASSWORD = "Role-Pass-1234"
EVERYONE = {
    Action.READ_STATUS,
    Action.USE_SESSIONS,
    Action.USE_SNAPSHOTS,
    Action.READ_SERVICES,
    Action.CONSUME_SERVICES,
}
OWNER_ONLY = {
    Action.MANAGE_ANY_SERVICE,
    Action.SEE_ANY_CODE,
    Action.MANAGE_ANY_SESSION,
    Action.MANAGE_USERS,
    Action.MANAGE_ANY_BATCH,
    Action.READ_METRICS,
    Action.MANAGE_COMPUTE_NODES,
}


@pytest.fixture(scope="module")
def accounts(uncached_server: Server) -> dict[str, str]:
    names = {role: unique_name(role.lower()) for role in ("Owner", "Contributor", "Reader", "none")}

    def add(role: str) -> None:
        result = uncached_server.cli(
            "users", "add", names[role], "--role", role, "--password", PASSWORD
        )
        assert result.returncode == 0, result.stderr

    with ThreadPoolExecutor(max_workers=len(names)) as pool:
        list(pool.map(add, names))
    return names


def _status(server: Server, username: str) -> int:
    with server.client(server.token(username, PASSWORD)) as client:
        return client.get("/status").status_code


@pytest.mark.parametrize("role", ["Owner", "Contributor", "Reader"])
def test_every_role_reads_status(
    uncached_server: Server, accounts: dict[str, str], role: str
) -> None:
    assert _status(uncached_server, accounts[role]) == 200


def test_user_without_role_logs_in_but_is_forbidden(
    uncached_server: Server, accounts: dict[str, str]
) -> None:
    token = uncached_server.token(accounts["none"], PASSWORD)
    with uncached_server.client(token) as client:
        body = assert_error(client.get("/status"), 403)
    assert body["errorCode"] == "forbidden"


def test_set_role_takes_effect_on_existing_tokens(uncached_server: Server) -> None:
    name = unique_name("mover")
    added = uncached_server.cli("users", "add", name, "--role", "Reader", "--password", PASSWORD)
    assert added.returncode == 0, added.stderr
    with uncached_server.client(uncached_server.token(name, PASSWORD)) as client:
        assert client.get("/status").status_code == 200
        demoted = uncached_server.cli("users", "set-role", name, "none")
        assert demoted.returncode == 0, demoted.stderr
        assert_error(client.get("/status"), 403)
        promoted = uncached_server.cli("users", "set-role", name, "contributor")
        assert promoted.returncode == 0, promoted.stderr
        assert client.get("/status").status_code == 200
    listed = uncached_server.cli("users", "list")
    assert f"{name}\tContributor" in listed.stdout.splitlines()


def _principal(role: Role | None, user: str = "me") -> Principal:
    return Principal(UserId(user), user, role, TokenFamilyId("family"))


@pytest.mark.parametrize("role", [Role.OWNER, Role.CONTRIBUTOR, Role.READER])
def test_every_role_may_use_the_common_apis(role: Role) -> None:
    for action in EVERYONE:
        assert is_allowed(_principal(role), action), (role, action)


def test_reader_cannot_publish_or_manage() -> None:
    reader = _principal(Role.READER)
    assert not is_allowed(reader, Action.PUBLISH_SERVICES)
    assert not is_allowed(reader, Action.MANAGE_OWN_SERVICES, owner=UserId("me"))
    assert not is_allowed(reader, Action.MANAGE_OWN_SERVICES, owner=UserId("other"))
    for action in OWNER_ONLY:
        assert not is_allowed(reader, action), action


def test_contributor_manages_own_services_only() -> None:
    contributor = _principal(Role.CONTRIBUTOR)
    assert is_allowed(contributor, Action.PUBLISH_SERVICES)
    assert is_allowed(contributor, Action.MANAGE_OWN_SERVICES, owner=UserId("me"))
    assert not is_allowed(contributor, Action.MANAGE_OWN_SERVICES, owner=UserId("other"))
    for action in OWNER_ONLY:
        assert not is_allowed(contributor, action), action


def test_owner_manages_any_service() -> None:
    owner = _principal(Role.OWNER)
    assert is_allowed(owner, Action.PUBLISH_SERVICES)
    assert is_allowed(owner, Action.MANAGE_OWN_SERVICES, owner=UserId("me"))
    assert is_allowed(owner, Action.MANAGE_OWN_SERVICES, owner=UserId("other"))
    for action in OWNER_ONLY:
        assert is_allowed(owner, action), action


def test_user_without_role_may_do_nothing() -> None:
    nobody = _principal(None)
    for action in Action:
        assert not is_allowed(nobody, action), action
        assert not is_allowed(nobody, action, owner=UserId("me")), action
