"""schemathesis run as its CLI against a live server, and what its NDJSON report says."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass, field
from http import HTTPStatus
from pathlib import Path

# What must hold of every answer: no 5xx, and every documented answer matches its schema
# (which includes being valid JSON where the document says JSON).
CHECKS = ("not_a_server_error", "response_schema_conformance")
SEED = 11
REQUEST_TIMEOUT_SECONDS = 30
RUN_TIMEOUT_SECONDS = 240  # under pytest-timeout's 300 s for the whole test
_HTTP_METHODS = {"get", "put", "post", "delete", "patch", "head", "options"}


@dataclass(frozen=True)
class Exclusion:
    """One check turned off for exactly one operation, and why (the README lists each)."""

    operation_id: str
    check: str
    reason: str


@dataclass
class Outcome:
    """What one run did: requests and statuses per operation, failed checks, errors."""

    statuses: dict[str, Counter[int]] = field(default_factory=dict)
    checks: Counter[tuple[str, str]] = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)
    unnamed: list[str] = field(default_factory=list)  # 400s that name no field
    errors: list[str] = field(default_factory=list)
    output: str = ""

    @property
    def requests(self) -> int:
        """Requests sent in all."""
        return sum(sum(counter.values()) for counter in self.statuses.values())

    def summary(self) -> str:
        """One line per operation: its statuses and how many of each."""
        lines = [
            f"{label}: {dict(sorted(counter.items()))}"
            for label, counter in sorted(self.statuses.items())
        ]
        return "\n".join(lines)


def operation_ids(document: dict[str, object]) -> dict[str, str]:
    """operationId -> `METHOD /path` (as schemathesis labels it) in a Swagger 2.0 document."""
    paths = document["paths"]
    assert isinstance(paths, dict)
    return {
        operation["operationId"]: f"{method.upper()} {path}"
        for path, operations in paths.items()
        for method, operation in operations.items()
        if method in _HTTP_METHODS
    }


def operation_labels(document: dict[str, object]) -> set[str]:
    """`METHOD /path` of every operation in a Swagger 2.0 document."""
    return set(operation_ids(document).values())


def path_parameters(document: dict[str, object]) -> dict[str, list[str]]:
    """operationId -> the names of its path parameters."""
    found: dict[str, list[str]] = {}
    paths = document["paths"]
    assert isinstance(paths, dict)
    for operations in paths.values():
        for method, operation in operations.items():
            if method in _HTTP_METHODS:
                names = [p["name"] for p in operation.get("parameters", []) if p["in"] == "path"]
                found[operation["operationId"]] = names
    return found


def _toml(value: object) -> str:
    """A TOML value for a string, number, boolean or table of them (JSON's string escapes
    are TOML's)."""
    if isinstance(value, dict):
        members = ", ".join(f"{json.dumps(k)} = {_toml(v)}" for k, v in value.items())
        return "{ " + members + " }"
    if isinstance(value, bool):
        return "true" if value else "false"
    return json.dumps(value)


def write_config(
    path: Path,
    token: str,
    parameters: dict[str, dict[str, str]],
    exclusions: tuple[Exclusion, ...] = (),
) -> Path:
    """A schemathesis.toml: the bearer token on every request, the given path parameters per
    operationId, and the excluded checks per operationId (one table per operation: only the
    first table that matches an operation applies)."""
    lines = [
        f"headers = {_toml({'Authorization': f'Bearer {token}'})}",
        f"request-timeout = {REQUEST_TIMEOUT_SECONDS}",
        "checks.enabled = false",  # set in this file: --checks would override the exclusions
        *(f"checks.{check}.enabled = true" for check in CHECKS),
    ]
    excluded = {exclusion.operation_id: exclusion for exclusion in exclusions}
    for operation_id in sorted(set(parameters) | set(excluded)):
        lines += ["", "[[operations]]", f"include-operation-id = {_toml(operation_id)}"]
        if operation_id in parameters:
            lines.append(f"parameters = {_toml(parameters[operation_id])}")
        if operation_id in excluded:
            exclusion = excluded[operation_id]
            lines.append(f"# {exclusion.reason}")
            lines.append(f"checks.{exclusion.check}.enabled = false")
    path.write_text("\n".join(lines) + "\n")
    return path


def run(location: str, base_url: str, config: Path, report: Path, max_examples: int) -> Outcome:
    """Run every phase of schemathesis on the document at `location` (bounded), and read its
    report."""
    command = [
        str(Path(sys.executable).with_name("schemathesis")),
        "--config-file",
        str(config),
        "run",
        location,
        "--url",
        base_url,
        "--seed",
        str(SEED),
        "--max-examples",
        str(max_examples),
        "--workers",
        "1",
        "--generation-database",
        "none",
        "--no-color",
        "--report",
        "ndjson",
        "--report-ndjson-path",
        str(report),
    ]
    done = subprocess.run(
        command,
        cwd=report.parent,  # where schemathesis keeps its cache
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT_SECONDS,
        check=False,
    )
    outcome = read_report(report)
    outcome.output = done.stdout + done.stderr
    return outcome


def read_report(report: Path) -> Outcome:
    """Statuses per operation, failed checks and errors from an NDJSON report."""
    outcome = Outcome()
    for line in report.read_text().splitlines():
        event = json.loads(line)
        (kind, body), *_ = event.items()
        if kind == "ScenarioFinished":
            _read_scenario(body, outcome)
        elif kind in {"NonFatalError", "FatalError", "Interrupted"}:
            outcome.errors.append(json.dumps(body)[:2000])
    return outcome


def _read_scenario(body: dict[str, object], outcome: Outcome) -> None:
    recorder = body["recorder"]
    assert isinstance(recorder, dict)
    label = str(recorder["label"])
    counter = outcome.statuses.setdefault(label, Counter())
    for case_id, interaction in recorder.get("interactions", {}).items():
        response = interaction.get("response")
        counter[response["status_code"] if response else 0] += 1
        content = response.get("content") if response else None
        bad = response is not None and response["status_code"] == HTTPStatus.BAD_REQUEST
        if bad and "field" not in _json(content):
            outcome.unnamed.append(f"{label}: {_text(content)}")
        checks = recorder.get("checks", {}).get(case_id, [])
        for check in checks:
            outcome.checks[(label, check["name"])] += 1
            if check["status"] == "failure":
                outcome.failures.append(_describe(label, check, interaction))


def _describe(label: str, check: dict[str, object], interaction: dict[str, object]) -> str:
    """One failure, with the request and answer that made it (bodies cut short)."""
    request = interaction["request"]
    response = interaction.get("response") or {}
    assert isinstance(request, dict) and isinstance(response, dict)
    sent = _text(request.get("body"))
    answered = _text(response.get("content"))
    status = response.get("status_code")
    info = check.get("failure_info")
    failure = info.get("failure", {}) if isinstance(info, dict) else {}
    message = str(failure.get("message", check.get("name")))
    where = [line.strip() for line in message.splitlines() if line.startswith("Schema at")]
    head = message.splitlines()[0] if message else ""
    return f"{label}: {head} {' '.join(where)}\n  sent {sent}\n  got {status} {answered}"


def _json(body: object) -> dict[str, object]:
    """A recorded body as a JSON object ({} when it is not one)."""
    try:
        value = json.loads(base64.b64decode(body["$base64"])) if isinstance(body, dict) else {}
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _text(body: object) -> str:
    if isinstance(body, dict) and "$base64" in body:
        return base64.b64decode(body["$base64"]).decode(errors="replace")[:600]
    return str(body)[:600]
