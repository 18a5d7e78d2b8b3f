"""Consuming the seed's iris SVC: o16n against the in-process limit (bench.baseline), same run.

W1 sends one row per call, W2 1,000 rows. Each runs against the baseline, the Python service
(code in a worker) and the realtime service (the SVC as ONNX, scored in the web process with
adaptive batching). o16n is started as a user starts it (`o16n serve --port`, default
settings). Every server process (o16n's web process and its workers, or the baseline) is pinned
to core 0 with taskset; wrk sends the load from core 1, to 127.0.0.1 only, for a bounded time.
Needs `wrk` (Debian package `wrk`).

Run: .venv/bin/python -m bench.consume [--seconds 10] [--connections 16 1] [--only realtime]
     [--rounds 3]   (targets measured alternately, medians reported: fairer on a busy machine)
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass

import httpx
import numpy as np
from sklearn import datasets, svm
from tests.harness import Server, traversable_tmp_dir

from o16n.client.realtime import onnx_model

SERVER_CORE, LOAD_CORE = "0", "1"
INIT = (
    "from sklearn import datasets, svm\n"
    "iris = datasets.load_iris()\n"
    "clf = svm.SVC().fit(iris.data, iris.target)"
)
W1_CODE = "import numpy as np\nresult = int(clf.predict(np.array(flower_data).reshape(1, -1))[0])"
W2_CODE = "import numpy as np\nresult = clf.predict(np.asarray(rows))"
COLUMNS = ("sepal_length", "sepal_width", "petal_length", "petal_width")
TARGETS = ("python", "realtime")


@dataclass(frozen=True)
class Figures:
    """What wrk measured for one target."""

    rps: float
    p50_ms: float
    p99_ms: float


def _figure(pattern: str, output: str) -> str:
    found = re.search(pattern, output, re.MULTILINE)
    if found is None:
        raise RuntimeError(f"cannot read {pattern!r} in wrk's output:\n{output}")
    return found.group(1)


def _ms(text: str) -> float:
    found = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text)
    if found is None:
        raise RuntimeError(f"cannot read the duration {text!r} in wrk's output")
    number, unit = found.groups()
    return float(number) * {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 6e4}[unit]


def wrk(url: str, body: str, token: str | None, seconds: int, connections: int) -> Figures:
    """Run wrk (pinned to the load core) with a POST body; parse requests/s, p50 and p99."""
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(f'wrk.method = "POST"\nwrk.body = {json.dumps(body)}\n')
        for name, value in headers.items():
            script.write(f'wrk.headers["{name}"] = "{value}"\n')
    command = [
        "taskset",
        "-c",
        LOAD_CORE,
        "wrk",
        "-t1",
        f"-c{connections}",
        f"-d{seconds}s",
        "--latency",
        "-s",
        script.name,
        url,
    ]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    os.unlink(script.name)
    if "Non-2xx" in output:
        raise RuntimeError(f"wrk saw errors against {url}:\n{output}")
    rps = float(_figure(r"Requests/sec:\s+([\d.]+)", output))
    p50 = _ms(_figure(r"^\s+50%\s+(\S+)", output))  # anchored: "95.50%" is in the stats
    p99 = _ms(_figure(r"^\s+99%\s+(\S+)", output))
    return Figures(rps, p50, p99)


def bodies() -> dict[str, tuple[str, str]]:
    """Request bodies of W1 and W2: (o16n body, baseline body)."""
    iris = datasets.load_iris()
    row = iris.data[50].tolist()
    rows = np.resize(iris.data, (1000, 4)).tolist()
    return {
        "W1": (json.dumps({"flower_data": row}), json.dumps({"flower_data": row})),
        "W2": (json.dumps({"rows": rows}), json.dumps({"rows": rows})),
    }


def realtime_bodies() -> dict[str, str]:
    """Request bodies of the realtime W1 and W2: inputData as a column-wise data.frame."""
    iris = datasets.load_iris()
    frames = {"W1": iris.data[50:51], "W2": np.resize(iris.data, (1000, 4))}
    return {
        workload: json.dumps({"inputData": dict(zip(COLUMNS, rows.T.tolist(), strict=True))})
        for workload, rows in frames.items()
    }


def publish_realtime(server: Server, token: str) -> None:
    """Publish the iris SVC as ONNX under RW1/v1 and RW2/v1 (one model each) and warm them."""
    iris = datasets.load_iris()
    model = onnx_model(svm.SVC().fit(iris.data, iris.target))
    with server.client(token) as client:
        for workload, body in realtime_bodies().items():
            files = {"model": ("iris.onnx", model, "application/octet-stream")}
            client.post(f"/realtime-services/R{workload}/v1", files=files).raise_for_status()
            for _ in range(50):
                reply = client.post(
                    f"/api/R{workload}/v1",
                    content=body,
                    headers={"Content-Type": "application/json"},
                )
                assert reply.json()["success"], reply.text


def publish(server: Server, token: str) -> None:
    """Publish W1 and W2 as services and warm them."""
    definitions = {
        "W1": ("flower_data", "vector", "integer", W1_CODE),
        "W2": ("rows", "matrix", "vector", W2_CODE),
    }
    with server.client(token) as client:
        for name, (argument, kind, result, code) in definitions.items():
            response = client.post(
                f"/services/{name}/v1",
                json={
                    "code": code,
                    "initCode": INIT,
                    "inputParameterDefinitions": [{"name": argument, "type": kind}],
                    "outputParameterDefinitions": [{"name": "result", "type": result}],
                },
            )
            response.raise_for_status()
        for name, (body, _) in bodies().items():
            for _ in range(50):
                reply = client.post(
                    f"/api/{name}/v1", content=body, headers={"Content-Type": "application/json"}
                )
                assert reply.json()["success"], reply.text


def start_baseline(port: int) -> subprocess.Popen[bytes]:
    """The baseline app, pinned to the server core, ready to answer."""
    process = subprocess.Popen(
        ["taskset", "-c", SERVER_CORE, sys.executable, "-m", "bench.baseline", "--port", str(port)]
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            httpx.post(f"http://127.0.0.1:{port}/w1", json={"flower_data": [1, 1, 1, 1]})
            return process
        except httpx.TransportError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError("baseline did not start")


def median(figures: list[Figures]) -> Figures:
    """The run of median requests/s (its own latencies)."""
    return sorted(figures, key=lambda item: item.rps)[len(figures) // 2]


def report(workload: str, target: str, figures: Figures, base: Figures | None) -> None:
    ratio = f"   ratio {figures.rps / base.rps:.2f}x" if base is not None else ""
    print(
        f"{workload:<8} {target:<9} {figures.rps:8.0f} req/s  p50 {figures.p50_ms:6.2f} ms  "
        f"p99 {figures.p99_ms:6.2f} ms{ratio}",
        flush=True,
    )


def _alternate(
    runs: dict[str, tuple[str, str]],
    targets: tuple[str, ...],
    token: str,
    arguments: argparse.Namespace,
    connections: int,
) -> dict[str, list[Figures]]:
    """Each target's figures, the baseline and the targets taking turns round by round, so that
    load elsewhere on the machine hits all of them alike."""
    measured: dict[str, list[Figures]] = {}
    for _ in range(arguments.rounds):
        for target in ("baseline", *targets):
            url, body = runs[target]
            auth = None if target == "baseline" else token
            measured.setdefault(target, []).append(
                wrk(url, body, auth, arguments.seconds, connections)
            )
    return measured


def main() -> None:
    """Measure both targets for W1 and W2 and print the ratios."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, nargs="+", default=[16])
    parser.add_argument("--only", choices=TARGETS, help="Measure one o16n target only.")
    parser.add_argument(
        "--rounds", type=int, default=1, help="Alternate the targets this often; report medians."
    )
    arguments = parser.parse_args()
    targets = (arguments.only,) if arguments.only else TARGETS
    if not shutil.which("wrk"):
        sys.exit("bench.consume needs wrk: apt-get install wrk")
    root = traversable_tmp_dir("o16n-bench-")
    server = Server(
        root / "data",
        env={"O16N_LOG_LEVEL": "warning"},
        launcher=["taskset", "-c", SERVER_CORE],
        own_socket=True,
    ).start()
    baseline_port = 8100 + os.getpid() % 500
    baseline = start_baseline(baseline_port)
    try:
        token = server.token()
        if "python" in targets:
            publish(server, token)
        if "realtime" in targets:
            publish_realtime(server, token)
        for workload, (o16n_body, baseline_body) in bodies().items():
            runs = {
                "baseline": (f"http://127.0.0.1:{baseline_port}/{workload.lower()}", baseline_body),
                "python": (f"{server.url}/api/{workload}/v1", o16n_body),
                "realtime": (f"{server.url}/api/R{workload}/v1", realtime_bodies()[workload]),
            }
            for connections in arguments.connections:
                label = f"{workload} c{connections}"
                measured = _alternate(runs, targets, token, arguments, connections)
                base = median(measured["baseline"])
                report(label, "baseline", base, None)
                for target in targets:
                    report(label, target, median(measured[target]), base)
    finally:
        baseline.terminate()
        baseline.wait()
        server.stop()
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
