"""schemathesis on a live server, with a fixed seed and a bounded budget: Microsoft's 9.3.0
document, o16n's own /swagger.json and a published service's swagger.json. Every operation is
reached, no answer is a 5xx, invalid JSON, or outside its documented schema (but for the
checks that Microsoft's document contradicts itself on, one check for one operation each, as
the README's deviations section lists them), and every 400 names the field at fault."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.conformance.fuzzing import (
    CHECKS,
    Exclusion,
    operation_ids,
    operation_labels,
    path_parameters,
    run,
    write_config,
)
from tests.harness import Server, traversable_tmp_dir, unique_name
from tests.services.publishing import (
    execute,
    open_session,
    params,
    published,
    service_name,
    take_snapshot,
)

# Examples per operation: the three runs take 1.5 to 2 minutes in all on two (shared) cores.
MAX_EXAMPLES = 100
FUZZER = "fuzzer"
FUZZER_PASSWORD = "Fuzz-Pass-123"
VERSION = "1.0"

# Where Microsoft's 9.3.0 document contradicts itself (the README lists these).
MICROSOFT_DEVIATIONS = (
    Exclusion(
        "GetWebServiceSwagger",
        "response_schema_conformance",
        "SwaggerJsonResponse is a map of objects, yet it is 'a valid swagger 2.0 document',"
        ' whose members (swagger: "2.0", paths, ...) are strings and arrays too',
    ),
    Exclusion(
        "status",
        "response_schema_conformance",
        "StatusResponse.details is a map of objects, yet the document's own example has"
        ' strings and integers there ("type": "sqlite", "rMaxPoolSize": 80)',
    ),
)


@dataclass(frozen=True)
class Fixtures:
    """What the fuzzed operations find on the server, by path parameter name (`shared`), and
    what some operations get instead (`own`): a throwaway one for each operation that deletes
    or replaces it (so that one fuzzed DELETE does not turn every other operation into a 404),
    and a snapshot where `id` names one rather than a session."""

    shared: dict[str, str]
    own: dict[str, dict[str, str]]

    def path_values(self, operation_id: str, names: list[str]) -> dict[str, str]:
        """The path parameters of `operation_id`, as schemathesis's configuration names them."""
        values = {**self.shared, **self.own.get(operation_id, {})}
        return {f"path.{name}": values[name] for name in names}


# Operations that publish under a name the fuzzer makes up: left to generate their own.
_GENERATED_NAMES = {
    "publishWebService",
    "publishWebServiceVersion",
    "publishRealtimeWebServiceByName",
    "publishRealtimeWebServiceByNameVersion",
    "publishRealtimeWebService",
    "publishRealtimeWebServiceVersion",
}


@pytest.fixture(scope="module")
def fuzzed() -> Iterator[Server]:
    """A server of its own (the fuzzer fills it with services and sessions) with small pools."""
    root = traversable_tmp_dir("o16n-fuzz-")
    server = Server(root / "data", env={"O16N_POOL_MAX_SIZE": "2"}).start()
    added = server.cli("users", "add", FUZZER, "--role", "Owner", "--password", FUZZER_PASSWORD)
    assert added.returncode == 0, added.stderr
    yield server
    server.stop()
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="module")
def token(fuzzed: Server) -> str:
    """The fuzzer's access token. Its own account, and schemathesis never sees its refresh
    token: nothing the fuzzer sends (revocations, renewals, logins with made-up passwords
    that the throttle counts) can end it, so no operation needs leaving out for its sake."""
    return fuzzed.token(FUZZER, FUZZER_PASSWORD)


def _account(client: httpx.Client, prefix: str) -> str:
    """A throwaway Reader for the users operations (never the fuzzer's own account)."""
    name = unique_name(prefix)
    body = {"username": name, "password": FUZZER_PASSWORD, "role": "Reader"}
    assert client.post("/users", json=body).status_code == 201
    return name


def _batch(client: httpx.Client, name: str) -> str:
    response = client.post(f"/api/{name}/{VERSION}/batch", json=[{"x": 1}, {"x": 2}])
    assert response.status_code == 202, response.text
    return str(response.json()["batchExecutionId"])


@pytest.fixture
def fixtures(fuzzed: Server, token: str) -> Iterator[Fixtures]:
    """For one run: a session with files, workspace objects and snapshots; services to call,
    patch and delete, with batch executions. The run's sessions are closed afterwards (they
    count against the fuzzer's limit of open sessions)."""
    with fuzzed.client(token) as client:
        session = open_session(client, "fuzzed")
        execute(
            client,
            session,
            "kept = 1\ndeleted = 2\n"
            "for name in ('data.txt', 'deleted.txt'):\n    open(name, 'w').write('x')\n",
        )
        service, deleted, patched = (
            service_name(prefix) for prefix in ("Fuzzed", "Gone", "Patched")
        )
        for name in (service, deleted, patched):
            published(
                client,
                name,
                VERSION,
                "y = x + 1",
                inputParameterDefinitions=params(x="integer"),
                outputParameterDefinitions=params(y="integer"),
            )
        yield Fixtures(
            shared={
                "name": service,
                "version": VERSION,
                "id": session,
                "fileName": "data.txt",
                "objectName": "kept",
                "snapshotId": take_snapshot(client, session, "fuzzed"),
                "executionId": _batch(client, service),
                "index": "0",
                "username": _account(client, "fuzzed"),
            },
            own={
                "GetSnapshotContent": {"id": take_snapshot(client, session, "fetched")},
                "closeSession": {"id": open_session(client, "closed")},
                "closeSessionByForce": {"id": open_session(client, "forced")},
                "DeleteSnapshot": {"id": take_snapshot(client, session, "deleted")},
                "deleteWebServiceVersion": {"name": deleted},
                "patchWebServiceVersion": {"name": patched},
                "deleteSessionFile": {"fileName": "deleted.txt"},
                "deleteWorkspaceObject": {"objectName": "deleted"},
                "CancelAndDeleteBatchExecution": {"executionId": _batch(client, service)},
                "deleteUser": {"username": _account(client, "deleted")},
            },
        )
        for listed in client.get("/sessions").json():
            client.delete(f"/sessions/{listed['id']}/force")


def _fuzz(
    server: Server,
    token: str,
    fixtures: Fixtures,
    *,
    document: dict[str, object],
    location: str,
    directory: Path,
    exclusions: tuple[Exclusion, ...] = (),
) -> None:
    """Run schemathesis on `document` (read from `location`) and hold it to zero failures."""
    parameters = {
        operation_id: fixtures.path_values(operation_id, names)
        for operation_id, names in path_parameters(document).items()
        if names and operation_id not in _GENERATED_NAMES
    }
    config = write_config(directory / "schemathesis.toml", token, parameters, exclusions)
    outcome = run(location, server.url, config, directory / "report.ndjson", MAX_EXAMPLES)
    print(outcome.summary())
    assert not outcome.errors, "\n".join(outcome.errors) + outcome.output[-4000:]
    assert not outcome.failures, "\n\n".join(outcome.failures[:20])
    assert not outcome.unnamed, "400s naming no field:\n" + "\n".join(outcome.unnamed[:20])
    unreached = operation_labels(document) - set(outcome.statuses)
    assert not unreached, f"never reached: {sorted(unreached)}\n{outcome.output[-4000:]}"
    excluded = {(e.operation_id, e.check) for e in exclusions}
    for operation_id, label in operation_ids(document).items():
        for check in CHECKS:
            ran = outcome.checks[(label, check)]
            assert ran if (operation_id, check) not in excluded else not ran, (label, check)
    with server.client(token) as client:
        assert client.get("/status").status_code == 200, "the fuzzer's token must outlive it"


def microsoft_document() -> Path:
    """Microsoft's 9.3.0 document, kept beside this test as Microsoft published it (the wire
    contract that ML Server's clients were generated from)."""
    return Path(__file__).with_name("reference") / "mlserver-swagger-9.3.0.json"


def test_microsoft_document(fuzzed: Server, token: str, fixtures: Fixtures, tmp_path: Path) -> None:
    location = microsoft_document()
    document = json.loads(location.read_text())
    _fuzz(
        fuzzed,
        token,
        fixtures,
        document=document,
        location=str(location),
        directory=tmp_path,
        exclusions=MICROSOFT_DEVIATIONS,
    )


def test_own_document(fuzzed: Server, token: str, fixtures: Fixtures, tmp_path: Path) -> None:
    location = f"{fuzzed.url}/swagger.json"
    document = httpx.get(location, timeout=30).json()
    _fuzz(fuzzed, token, fixtures, document=document, location=location, directory=tmp_path)


def test_service_document(fuzzed: Server, token: str, fixtures: Fixtures, tmp_path: Path) -> None:
    location = f"{fuzzed.url}/api/{fixtures.shared['name']}/{VERSION}/swagger.json"
    with fuzzed.client(token) as client:
        document = client.get(location).json()
    local = tmp_path / "service-swagger.json"
    local.write_text(json.dumps(document))
    _fuzz(fuzzed, token, fixtures, document=document, location=str(local), directory=tmp_path)
