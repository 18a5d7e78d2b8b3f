"""Microsoft's Python client (azureml-model-management-sdk 1.0.1b6.post1) against o16n (§21).

The SDK runs in its own virtual environment made with the server's interpreter, holding the
same numpy/pandas/scikit-learn/dill pins as the server's workers (so the model it pickles
unpickles there), with the Python 3.11 shim of reference §21. The environment is cached under
/tmp, keyed by the SDK version and the pins, so reruns skip the install. A failed install fails
the test: it never skips.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

import pytest

from tests.harness import Server, unique_name

SDK = "azureml-model-management-sdk==1.0.1b6.post1"
SHARED_PINS = ("dill", "numpy", "pandas", "scikit-learn")
PYPROJECT = Path(__file__).resolve().parents[2] / "pyproject.toml"
SCRIPT = Path(__file__).with_name("sdk_script.py")
PASSWORD = "Sdk-Pass-12345"
INSTALL_TIMEOUT = 600
SCRIPT_TIMEOUT = 240


def _server_pins() -> list[str]:
    """The worker stack's exact pins from the server's pyproject.toml."""
    dependencies = tomllib.loads(PYPROJECT.read_text())["project"]["dependencies"]
    pins = [d for d in dependencies if d.split("==")[0].strip().lower() in SHARED_PINS]
    assert len(pins) == len(SHARED_PINS), pins
    return sorted(pins)


def _build(target: Path, requirements: list[str]) -> None:
    """A new virtual environment at `target` (made aside, then renamed into place)."""
    staging = Path(tempfile.mkdtemp(prefix=f"{target.name}-building-", dir=target.parent))
    try:
        steps = [
            [sys.executable, "-m", "venv", str(staging)],
            [str(staging / "bin" / "python"), "-m", "pip", "install", "-q", *requirements],
        ]
        for step in steps:
            done = subprocess.run(
                step, capture_output=True, text=True, timeout=INSTALL_TIMEOUT, check=False
            )
            if done.returncode != 0:
                pytest.fail(
                    f"cannot build the SDK environment: {' '.join(step)}\n"
                    f"{done.stdout[-4000:]}\n{done.stderr[-4000:]}",
                    pytrace=False,
                )
        (staging / "o16n-ready").write_text("\n".join(requirements))
        try:
            staging.rename(target)
        except OSError:
            if not (target / "o16n-ready").exists():
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)


@pytest.fixture(scope="session")
def sdk_python() -> Path:
    """The interpreter of a cached virtual environment holding the SDK and the worker pins."""
    return sdk_interpreter()


def sdk_interpreter() -> Path:
    """The SDK environment's interpreter, built once (cached under /tmp)."""
    requirements = [SDK, *_server_pins()]
    key = hashlib.sha256(
        "\n".join([sys.version, sys.executable, *requirements]).encode()
    ).hexdigest()[:12]
    target = Path(tempfile.gettempdir()) / f"o16n-azureml-sdk-1.0.1b6.post1-{key}"
    if not (target / "o16n-ready").exists():
        shutil.rmtree(target, ignore_errors=True)
        _build(target, requirements)
    return target / "bin" / "python"


def test_microsoft_sdk_deploys_consumes_batches_redeploys_and_deletes(
    server: Server, sdk_python: Path
) -> None:
    run_sdk_flows(server, sdk_python)


def run_sdk_flows(server: Server, sdk_python: Path) -> None:
    """Microsoft's SDK script against `server`: its results are ML Server's."""
    user = unique_name("sdk")
    added = server.cli("users", "add", user, "--role", "Contributor", "--password", PASSWORD)
    assert added.returncode == 0, added.stderr
    name = f"SdkService_{unique_name('x').split('-')[1]}"
    environment = {k: v for k, v in os.environ.items() if not k.startswith("O16N")}
    environment["PYTHONWARNINGS"] = "ignore"
    done = subprocess.run(
        [str(sdk_python), str(SCRIPT), server.url, user, PASSWORD, name],
        capture_output=True,
        text=True,
        timeout=SCRIPT_TIMEOUT,
        check=False,
        cwd=tempfile.gettempdir(),
        env=environment,
    )
    lines = [line for line in done.stdout.splitlines() if line.startswith("SUMMARY ")]
    assert done.returncode == 0 and lines, f"SDK script failed:\n{done.stdout}\n{done.stderr}"
    summary = json.loads(lines[-1].removeprefix("SUMMARY "))

    expected = {
        "error": "",
        "total": 103,
        "ratio_out": 0.5,
        "label_out": "HI",
        "flag_out": False,
        "doubled": [12.6, 6.6, 12.0, 5.0],
        "doubled_type": "ndarray",
        "grid_t": [[1, 3], [2, 4]],
        "grid_type": "matrix",
        "frame_out": {"a": [1, 2], "b": [0.5, 1.5], "total": [1.5, 3.5]},
        "species": summary["expected_species"],
        "kinds": [True] * 7,
        "report": "hi:3",
    }
    assert summary["expected_species"] == "virginica"
    assert summary["deployed"] == expected
    assert summary["got"] == expected
    assert summary["batch"] == {
        "state": "Complete",
        "counts": [3, 3],
        "totals": [101, 102, 103],
        "species": [summary["expected_species"]] * 3,
        "errors": ["", "", ""],
        "artifact_in_result": "c:3",
        "artifact": "a:1",
        "list_artifacts": ["report.txt"],
        "downloaded": ["report.txt", "b:2"],
        "hidden_state": "Complete",
        "listed": True,
        "again": 3,
        "after_cancel": False,
    }
    assert summary["redeployed"] == expected, "a description-only redeploy keeps the models"
    assert summary["capabilities"] == {
        "name": name,
        "version": "v1.0.0",
        "operation_id": "score",
        "published_by": user,
        "snapshot_id": summary["capabilities"]["snapshot_id"],
        "runtime": "Python",
    }
    assert summary["capabilities"]["snapshot_id"], "the SDK's (deleted) snapshot is recorded"
    assert summary["latest_version"] == "v1.0.0"
    assert name in summary["all_names"]
    assert summary["by_name"] == ["v1.0.0"]
    assert summary["by_version"] == [[name, "v1.0.0", "Every type through the SDK", True]]
    assert summary["swagger"] == {
        "operation_id": "score",
        "inputs": ["count", "ratio", "label", "flag", "flower", "grid", "frame"],
        "outputs": [
            "total",
            "ratio_out",
            "label_out",
            "flag_out",
            "doubled",
            "grid_t",
            "frame_out",
            "species",
            "kinds",
        ],
    }
    assert summary["redeployed_description"] == "Redeployed"
    assert summary["quick"] == 42
    assert summary["quick_listed"] == [summary["quick_version"]]
    assert summary["deleted"] == [True, True]
    assert summary["after_delete"] == []
    assert summary["get_after_delete"] == "HttpException"
