"""Per-service environments: publish → first answer on a new environment (cold and warm uv
cache, and a lock already built), beside a publish without requirements; and the disk used
by `--envs` environments that share most of their packages.

The server is started as a user starts it (`o16n serve`, embedded defaults, its default
index: PyPI). Every environment holds numpy, pandas and scikit-learn at the server's own
versions; the `--envs` ones differ by one small package (`packaging` at distinct versions),
so they are distinct locks whose other files uv links from its cache. Bounded: one server on
127.0.0.1, `--envs` + 4 publishes.

Run: .venv/bin/python -m bench.environments [--envs 20]
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import time
from pathlib import Path

import httpx
from tests.harness import Server, traversable_tmp_dir

STACK = ("numpy==2.4.6", "pandas==3.1.1", "scikit-learn==1.9.1")
CODE = "import sklearn\nv = sklearn.__version__"
OUTPUTS = [{"name": "v", "type": "character"}]
# Distinct versions of one small pure-Python package: one distinct lock per environment.
PACKAGING = ("20.0", "20.1", "20.2", "20.3", "20.4", "20.5", "20.6", "20.7", "20.8", "20.9",
             "21.0", "21.2", "21.3", "22.0", "23.0", "23.1", "23.2", "24.0", "24.1", "24.2",
             "25.0")  # fmt: skip
FIRST_ANSWER_SECONDS = 900.0


def publish(client: httpx.Client, name: str, requirements: list[str] | None) -> float:
    """Publish NAME/1; the seconds the POST took."""
    body: dict[str, object] = {"code": CODE, "outputParameterDefinitions": OUTPUTS}
    if requirements is not None:
        body["requirements"] = requirements
    started = time.perf_counter()
    response = client.post(f"/services/{name}/1", json=body)
    elapsed = time.perf_counter() - started
    response.raise_for_status()
    return elapsed


def first_answer(client: httpx.Client, name: str) -> None:
    """Call NAME/1 until it answers (503 while its environment builds), bounded."""
    deadline = time.monotonic() + FIRST_ANSWER_SECONDS
    while True:
        response = client.post(f"/api/{name}/1", json={})
        if response.status_code == 200:
            assert response.json()["outputParameters"]["v"], response.text
            return
        assert response.status_code == 503 and time.monotonic() < deadline, response.text
        time.sleep(0.05)


def publish_to_answer(
    client: httpx.Client, name: str, requirements: list[str] | None
) -> dict[str, float]:
    """Milliseconds of the publish, from its start to the version's state `ready` (the
    environment built), and to the first answer (a new worker on it imported scikit-learn)."""
    started = time.perf_counter()
    posted = publish(client, name, requirements)
    deadline = time.monotonic() + FIRST_ANSWER_SECONDS
    while state(client, name) == "building":
        assert time.monotonic() < deadline, f"{name} still building"
        time.sleep(0.02)
    ready = time.perf_counter() - started
    first_answer(client, name)
    return {
        "publishMs": posted * 1e3,
        "readyMs": ready * 1e3,
        "firstAnswerMs": (time.perf_counter() - started) * 1e3,
    }


def state(client: httpx.Client, name: str) -> str:
    """The version's state right now."""
    [entry] = client.get(f"/services/{name}/1").json()
    return str(entry["state"])


def disk(client: httpx.Client) -> dict[str, int]:
    """The environments /status reports and their disk use."""
    details = client.get("/status").json()["components"]["backends"]["components"]["local"]
    return {
        "environments": details["details"]["environments"],
        "diskBytes": details["details"]["environmentsDiskBytes"],
    }


def apparent_bytes(folder: Path) -> int:
    """What the folder would take with every file copied (du --apparent, links counted)."""
    done = subprocess.run(
        ["du", "-s", "--bytes", "--count-links", str(folder)],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return int(done.stdout.split()[0])


def main() -> None:
    """Print the figures as JSON."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--envs", type=int, default=20)
    envs = parser.parse_args().envs
    root = traversable_tmp_dir("o16n-envs-bench-")
    server = Server(root / "data", env={"O16N_LOG_LEVEL": "warning"}, own_socket=True).start()
    stack = list(STACK)
    try:
        with server.client(server.token()) as client:
            figures: dict[str, object] = {
                "noRequirements": publish_to_answer(client, "Plain", None),
                "coldCache": publish_to_answer(client, "Cold", stack),
                "warmCache": publish_to_answer(client, "Warm", [*stack, "packaging==25.0"]),
            }
            again = publish_to_answer(client, "Again", stack)
            figures["lockAlreadyBuilt"] = again | {"stateAfterPublish": state(client, "Again")}
            for index in range(envs):
                pin = PACKAGING[index % len(PACKAGING)]
                publish(client, f"Many{index}", [*stack, f"packaging=={pin}"])
            for index in range(envs):
                first_answer(client, f"Many{index}")
            usage = disk(client)
            folder = server.data_dir / "environments"
            usage["copiedBytes"] = apparent_bytes(folder)
            figures["sharedEnvironments"] = usage
        print(json.dumps(figures, indent=2))
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
