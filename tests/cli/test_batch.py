"""`o16n batch`: start (and wait), list, status, results, download, cancel, as a subprocess."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cli.test_remote import OK, SERVER_ERROR, USAGE, o16n, parsed
from tests.harness import ADMIN_PASSWORD, Server, run_o16n
from tests.services.publishing import params, published, service_name

CODE = "with open('out.txt', 'w') as f:\n    f.write(f'x={x}')\ny = x * 2\n"


@pytest.fixture
def config(server: Server, tmp_path: Path) -> Path:
    """A config directory holding the admin's login to the shared server."""
    directory = tmp_path / "o16n"
    result = run_o16n(
        "login", server.url, "--username", "admin", "--password", ADMIN_PASSWORD,
        "--config-dir", str(directory),
    )  # fmt: skip
    assert result.returncode == OK, result.stderr
    return directory


@pytest.fixture
def doubler(server: Server, admin_token: str) -> Iterator[str]:
    """A service y = 2x that writes out.txt; deleted afterwards."""
    name = service_name("CliBatch")
    with server.client(admin_token) as client:
        published(
            client,
            name,
            "v1",
            CODE,
            inputParameterDefinitions=params(x="integer"),
            outputParameterDefinitions=params(y="integer"),
            outputFileNames=["out.txt"],
        )
        yield name
        client.delete(f"/services/{name}/v1")


def test_start_wait_list_results_download_and_cancel(
    config: Path, doubler: str, tmp_path: Path
) -> None:
    records = tmp_path / "records.json"
    records.write_text(json.dumps([{"x": i} for i in range(5)]))
    started = o16n(config, "batch", "start", doubler, "v1", "--file", str(records), "--wait")
    assert started.returncode == OK, started.stderr
    execution, state, done = started.stdout.split()
    assert (state, done) == ("Complete", "5/5")
    assert "batch" in started.stderr  # the progress bar
    listed = parsed(o16n(config, "batch", "list", doubler, "v1", "--json"))
    assert listed == [
        {"id": execution, "state": "Complete", "completedItemCount": 5, "totalItemCount": 5}
    ]
    status = parsed(o16n(config, "batch", "status", doubler, "v1", execution, "--json"))
    assert status == listed[0]
    results = parsed(o16n(config, "batch", "results", doubler, "v1", execution, "--json"))
    assert isinstance(results, list)
    assert [r["outputParameters"] for r in results] == [{"y": 2 * i} for i in range(5)]
    table = o16n(config, "batch", "results", doubler, "v1", execution)
    assert table.returncode == OK and '{"y": 8}' in table.stdout
    target = tmp_path / "third.txt"
    fetched = o16n(
        config, "batch", "download", doubler, "v1", execution, "3", "out.txt", "-o", str(target)
    )
    assert fetched.returncode == OK, fetched.stderr
    assert target.read_text() == "x=3"
    missing = o16n(config, "batch", "download", doubler, "v1", execution, "3", "nope.txt")
    assert missing.returncode == SERVER_ERROR and "nope.txt" in missing.stderr
    cancelled = o16n(config, "batch", "cancel", doubler, "v1", execution)
    assert cancelled.returncode == OK, cancelled.stderr
    assert parsed(o16n(config, "batch", "list", doubler, "v1", "--json")) == []
    gone = o16n(config, "batch", "status", doubler, "v1", execution)
    assert gone.returncode == SERVER_ERROR


def test_start_without_wait_prints_the_id_and_bad_files_are_usage_errors(
    config: Path, doubler: str, tmp_path: Path
) -> None:
    records = tmp_path / "records.json"
    records.write_text(json.dumps([{"x": 1}]))
    started = parsed(
        o16n(config, "batch", "start", doubler, "v1", "--file", str(records), "--json")
    )
    assert isinstance(started, dict) and set(started) == {"id"}
    waited = parsed(
        o16n(config, "batch", "status", doubler, "v1", str(started["id"]), "--wait", "--json")
    )
    assert isinstance(waited, dict) and waited["state"] == "Complete"
    records.write_text('{"x": 1}')
    refused = o16n(config, "batch", "start", doubler, "v1", "--file", str(records))
    assert refused.returncode == USAGE and "JSON array" in refused.stderr
    empty = tmp_path / "empty.json"
    empty.write_text("[]")
    server_refused = o16n(config, "batch", "start", doubler, "v1", "--file", str(empty))
    assert server_refused.returncode == SERVER_ERROR and "non-empty" in server_refused.stderr
