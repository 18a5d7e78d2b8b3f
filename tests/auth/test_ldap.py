"""Logins checked by a real OpenLDAP server: roles from groups, shadow accounts, outages."""

from __future__ import annotations

import shutil
import socket
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from tests.directory import GROUPS, ROOT_DN, ROOT_PASSWORD, SUFFIX, Directory
from tests.harness import ADMIN_PASSWORD, Server, assert_error, run_o16n, traversable_tmp_dir
from tests.services.publishing import consume_response, publish, service_name

PASSWORDS = {
    "owen": "Owen-Pass-1234",
    "carol": "Carol-Pass-1234",
    "reed": "Reed-Pass-12345",
    "nora": "Nora-Pass-12345",
    "mover": "Mover-Pass-1234",
    "leaver": "Leaver-Pass-123",
    "tess": "Tess-Pass-12345",
    "pat": "Pat-Pass-123456",
    "admin": "Ldap-Admin-Pass1",
}
GROUP_MEMBERS = {
    "o16n-owners": ["owen"],
    "o16n-contributors": ["owen", "carol"],
    "o16n-readers": ["reed", "mover", "leaver", "tess", "pat"],
    "o16n-nothing": ["nora"],
}
CODE = "answer = x * 2"
INPUTS = [{"name": "x", "type": "numeric"}]
OUTPUTS = [{"name": "answer", "type": "numeric"}]


def ldap_env(directory: Directory, **overrides: str) -> dict[str, str]:
    """O16N_ settings for a server that checks logins locally and in `directory`."""
    return {
        "O16N_IDENTITY_SOURCES": "local,ldap",
        "O16N_LDAP_URL": directory.url,
        "O16N_LDAP_BIND_DN": ROOT_DN,
        "O16N_LDAP_BIND_PASSWORD": ROOT_PASSWORD,
        "O16N_LDAP_SEARCH_BASE": SUFFIX,
        "O16N_LDAP_GROUP_SEARCH_BASE": GROUPS,
        # A DN in another spelling, and bare group names: both must match.
        "O16N_LDAP_OWNER_GROUPS": "CN=o16n-owners, OU=groups, DC=o16n, DC=test",
        "O16N_LDAP_CONTRIBUTOR_GROUPS": "o16n-contributors",
        "O16N_LDAP_READER_GROUPS": "no-such-group;O16N-Readers",
        "O16N_LDAP_CONNECT_TIMEOUT_SECONDS": "2",
        "O16N_LDAP_TIMEOUT_SECONDS": "2",
        "O16N_AUTH_CACHE_SECONDS": "0",
        "O16N_LOG_LEVEL": "debug",
        **overrides,
    }


@pytest.fixture(scope="module")
def directory() -> Iterator[Directory]:
    running = Directory.start(PASSWORDS, GROUP_MEMBERS)
    yield running
    running.stop()


@pytest.fixture(scope="module")
def ldap_server(directory: Directory) -> Iterator[Server]:
    root = traversable_tmp_dir("o16n-ldap-server-")
    running = Server(root / "data", env=ldap_env(directory)).start()
    yield running
    running.stop()
    shutil.rmtree(root, ignore_errors=True)


def _login(server: Server, username: str, password: str) -> httpx.Response:
    return httpx.post(
        f"{server.url}/login", json={"username": username, "password": password}, timeout=60
    )


def _token(server: Server, username: str) -> str:
    response = _login(server, username, PASSWORDS[username])
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


def _roles(server: Server) -> dict[str, str]:
    listed = server.cli("users", "list")
    assert listed.returncode == 0, listed.stderr
    return dict(line.split("\t")[:2] for line in listed.stdout.splitlines() if "\t" in line)


def _publishes(server: Server, token: str) -> httpx.Response:
    with server.client(token) as client:
        return publish(
            client,
            service_name("ldap"),
            "v1",
            CODE,
            inputParameterDefinitions=INPUTS,
            outputParameterDefinitions=OUTPUTS,
        )


def test_contributor_publishes_and_reader_consumes_but_may_not_publish(
    ldap_server: Server,
) -> None:
    carol = _token(ldap_server, "carol")
    name = service_name("ldap")
    with ldap_server.client(carol) as client:
        response = publish(
            client,
            name,
            "v1",
            CODE,
            inputParameterDefinitions=INPUTS,
            outputParameterDefinitions=OUTPUTS,
        )
        assert response.status_code == 201, response.text
    with ldap_server.client(_token(ldap_server, "reed")) as client:
        consumed = consume_response(client, name, "v1", {"x": 21})
        assert consumed.status_code == 200, consumed.text
        assert consumed.json()["outputParameters"] == {"answer": 42}
        assert_error(publish(client, service_name("ldap"), "v1", CODE), 403)
    # A second login is the same account: carol still owns her service.
    with ldap_server.client(_token(ldap_server, "carol")) as client:
        assert client.delete(f"/services/{name}/v1").status_code == 200
    _token(ldap_server, "owen")
    roles = _roles(ldap_server)
    assert roles["carol"] == "Contributor"
    assert roles["reed"] == "Reader"
    assert roles["owen"] == "Owner"  # in the Owner and the Contributor groups: the higher wins


def _parallel_first_logins(server: Server, username: str) -> None:
    # Fewer than O16N_LOGIN_MAX_FAILURES: attempts in flight count as failures until they pass.
    with ThreadPoolExecutor(max_workers=4) as pool:
        answers = list(pool.map(lambda _: _login(server, username, PASSWORDS[username]), range(4)))
    assert [answer.status_code for answer in answers] == [200] * 4, [a.text for a in answers]
    assert list(_roles(server)).count(username) == 1


def test_parallel_first_logins_share_one_shadow_account(ldap_server: Server) -> None:
    _parallel_first_logins(ldap_server, "pat")


def test_person_in_no_mapped_group_logs_in_but_is_forbidden(ldap_server: Server) -> None:
    with ldap_server.client(_token(ldap_server, "nora")) as client:
        body = assert_error(client.get("/status"), 403)
    assert body["errorCode"] == "forbidden"


@pytest.mark.parametrize(
    ("username", "password"),
    [
        ("carol", "Wrong-Pass-1234"),
        ("nobody-here", "Carol-Pass-1234"),
        ("carol", " "),
    ],
)
def test_wrong_credentials_are_401(ldap_server: Server, username: str, password: str) -> None:
    body = assert_error(_login(ldap_server, username, password), 401)
    assert body["errorCode"] == "invalid_credentials"


@pytest.mark.parametrize(
    "username", ["*", "carol*", "*)(uid=*", ")(uid=*", "carol)(|(uid=*", "c*l", "\\2a"]
)
def test_filter_injection_logs_nobody_in(ldap_server: Server, username: str) -> None:
    assert_error(_login(ldap_server, username, PASSWORDS["carol"]), 401)


def test_a_local_account_name_is_never_checked_by_the_directory(ldap_server: Server) -> None:
    assert_error(_login(ldap_server, "admin", PASSWORDS["admin"]), 401)
    assert ldap_server.token() != ""
    assert _roles(ldap_server)["admin"] == "Owner"


def test_directory_users_have_no_local_password(ldap_server: Server) -> None:
    _token(ldap_server, "carol")
    refused = ldap_server.cli("users", "set-password", "carol", "--password", "Local-Pass-123")
    assert refused.returncode != 0
    assert "directory" in refused.stderr + refused.stdout
    with ldap_server.client(_token(ldap_server, "carol")) as client:
        assert client.get("/status").status_code == 200
    with ldap_server.client(ldap_server.token()) as owner:
        listed = {user["username"]: user for user in owner.get("/users").json()}
        assert listed["carol"]["source"] == "ldap" and listed["admin"]["source"] == "local"
        body = {"password": "Local-Pass-123"}
        assert_error(owner.patch("/users/carol", json=body), 400, "username")


def test_role_change_in_the_directory_takes_effect_at_next_login(
    ldap_server: Server, directory: Directory
) -> None:
    before = _token(ldap_server, "mover")
    assert_error(_publishes(ldap_server, before), 403)
    directory.add_member("mover", "o16n-contributors")
    directory.remove_member("mover", "o16n-readers")
    assert _publishes(ldap_server, _token(ldap_server, "mover")).status_code == 201
    assert _roles(ldap_server)["mover"] == "Contributor"


def test_renewal_rechecks_the_directory(ldap_server: Server, directory: Directory) -> None:
    pair = _login(ldap_server, "leaver", PASSWORDS["leaver"]).json()
    directory.remove_member("leaver", "o16n-readers")
    renewed = httpx.post(
        f"{ldap_server.url}/login/refreshToken",
        json={"refreshToken": pair["refresh_token"]},
        timeout=60,
    )
    assert renewed.status_code == 200, renewed.text
    with ldap_server.client(renewed.json()["access_token"]) as client:
        assert_error(client.get("/status"), 403)
    directory.delete("leaver")
    refused = httpx.post(
        f"{ldap_server.url}/login/refreshToken",
        json={"refreshToken": renewed.json()["refresh_token"]},
        timeout=60,
    )
    assert_error(refused, 401)


def test_failed_directory_logins_are_throttled(ldap_server: Server) -> None:
    # The directory matches names without case and outer blanks: so does the counting.
    for variant in ("tess", "Tess", "TESS", " tess", "tEsS  "):
        assert_error(_login(ldap_server, variant, "Wrong-Pass-1234"), 401)
    assert_error(_login(ldap_server, "tess", PASSWORDS["tess"]), 429)


def test_directory_down_is_503_and_local_logins_keep_working(
    ldap_server: Server, directory: Directory
) -> None:
    directory.pause()
    try:
        body = assert_error(_login(ldap_server, "reed", PASSWORDS["reed"]), 503)
        assert body["errorCode"] == "identity_source_unavailable"
        assert ldap_server.token() != ""
    finally:
        directory.resume()
    assert _token(ldap_server, "reed") != ""


def test_silent_directory_times_out_with_503(
    directory: Directory, start_server: Callable[..., Server]
) -> None:
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        url = f"ldap://127.0.0.1:{silent.getsockname()[1]}"
        server = start_server(**ldap_env(directory, O16N_LDAP_URL=url))
        response = _login(server, "reed", PASSWORDS["reed"])
    assert_error(response, 503)
    assert response.elapsed.total_seconds() < 15


def test_refused_service_account_is_503_and_its_password_is_not_logged(
    directory: Directory, start_server: Callable[..., Server]
) -> None:
    wrong = "Wrong-Bind-Secret-987"
    server = start_server(**ldap_env(directory, O16N_LDAP_BIND_PASSWORD=wrong))
    body = assert_error(_login(server, "carol", PASSWORDS["carol"]), 503)
    assert "service account" in str(body["message"])
    assert server.token() != ""
    assert wrong not in server.log()


def test_bind_password_never_reaches_workers_or_the_log(ldap_server: Server) -> None:
    fragment = ROOT_PASSWORD[:-4]  # the code itself must not hold the whole secret
    code = (
        f"import os\nseen = [k for k, v in os.environ.items() if 'LDAP' in k or {fragment!r} in v]"
    )
    with ldap_server.client(_token(ldap_server, "carol")) as client:
        session = client.post("/sessions", json={"runtimeType": "Python"}).json()["sessionId"]
        body = client.post(
            f"/sessions/{session}/execute",
            json={"code": code, "outputParameters": ["seen"]},
        )
        assert client.delete(f"/sessions/{session}").status_code == 200
    assert body.status_code == 200, body.text
    assert body.json()["success"] is True, body.json()["errorMessage"]
    assert body.json()["outputParameters"] == [{"name": "seen", "value": []}]
    assert_error(_login(ldap_server, "carol", "Wrong-Pass-1234"), 401)
    log = ldap_server.log()
    assert "ldap" in log.lower() or "login" in log.lower()
    assert ROOT_PASSWORD not in log
    assert PASSWORDS["carol"] not in log


def test_member_of_alone_maps_roles_and_ldap_only_disables_local_logins(
    start_server: Callable[..., Server],
) -> None:
    overlaid = Directory.start(PASSWORDS, GROUP_MEMBERS, member_of=True)
    try:
        env = ldap_env(overlaid, O16N_IDENTITY_SOURCES="ldap", O16N_LDAP_GROUP_FILTER="")
        server = start_server(**env)
        for username in ("owen", "carol", "reed", "nora"):
            _token(server, username)
        assert_error(_login(server, "admin", ADMIN_PASSWORD), 401)
        roles = _roles(server)
    finally:
        overlaid.stop()
    assert roles["owen"] == "Owner"
    assert roles["carol"] == "Contributor"
    assert roles["reed"] == "Reader"
    assert roles["nora"] == "none"


def test_ldaps_and_starttls_check_the_certificate(start_server: Callable[..., Server]) -> None:
    secured = Directory.start(PASSWORDS, GROUP_MEMBERS, tls=True)
    try:
        ca = str(secured.certificate)
        ldaps = f"ldaps://127.0.0.1:{secured.tls_port}"
        over_ldaps = start_server(**ldap_env(secured, O16N_LDAP_URL=ldaps, O16N_LDAP_CA_FILE=ca))
        assert _token(over_ldaps, "carol") != ""
        starttls = ldap_env(secured, O16N_LDAP_START_TLS="true", O16N_LDAP_CA_FILE=ca)
        assert _token(start_server(**starttls), "carol") != ""
        # Without the CA, both are refused: the certificate really was checked.
        for env in (
            ldap_env(secured, O16N_LDAP_URL=ldaps),
            ldap_env(secured, O16N_LDAP_START_TLS="true"),
        ):
            assert_error(_login(start_server(**env), "carol", PASSWORDS["carol"]), 503)
    finally:
        secured.stop()


def test_incomplete_ldap_settings_are_refused_without_printing_secrets(
    open_tmp_path: Path,
) -> None:
    env = {
        "O16N_DATA_DIR": str(open_tmp_path),
        "O16N_IDENTITY_SOURCES": "local,ldap",
        "O16N_LDAP_URL": "ldap://127.0.0.1:1",
        "O16N_LDAP_BIND_PASSWORD": "Never-Printed-4711",
    }
    refused = run_o16n("users", "list", env=env)
    assert refused.returncode != 0
    assert "ldap_search_base" in refused.stderr
    assert "Never-Printed-4711" not in refused.stderr + refused.stdout
    unknown = run_o16n("users", "list", env={**env, "O16N_IDENTITY_SOURCES": "kerberos"})
    assert "identity_sources" in unknown.stderr
