"""Cold start: publish → first correct answer of the seed's iris service, and a session's
first execute, on a server started as a user starts it (`o16n serve`, embedded defaults).

The model is trained in a session and published from its snapshot, as in the seed's
walkthrough; every round publishes a new service (its first call finds no worker prepared for
it) and opens a new session. Bounded: `--rounds` of each, to 127.0.0.1 only.

Run: .venv/bin/python -m bench.cold_start [--rounds 10]
"""

from __future__ import annotations

import argparse
import shutil
import time

import httpx
from tests.harness import Server, traversable_tmp_dir

from bench.session_execute import summary

INIT = (
    "from sklearn import datasets, svm\n"
    "iris = datasets.load_iris()\n"
    "model = svm.SVC().fit(iris.data, iris.target)"
)
CODE = "import numpy as np\nresult = int(model.predict(np.array([flower]))[0])"
VERSICOLOR = [7.0, 3.2, 4.7, 1.4]  # class 1


def snapshot_of_a_trained_model(client: httpx.Client) -> str:
    """A snapshot of a session that trained the SVC."""
    session = client.post("/sessions", json={"name": "train"}).json()["sessionId"]
    executed = client.post(f"/sessions/{session}/execute", json={"code": INIT}).json()
    assert executed["success"], executed
    snapshot = client.post(f"/sessions/{session}/snapshot", json={"name": "iris"}).json()
    client.delete(f"/sessions/{session}")
    return str(snapshot["snapshotId"])


def publish_then_first_answer(
    client: httpx.Client, snapshot: str, name: str
) -> tuple[float, float]:
    """Seconds the publish took, and seconds from its start to the first correct answer."""
    started = time.perf_counter()
    published = client.post(
        f"/services/{name}/1.0",
        json={
            "snapshotId": snapshot,
            "code": CODE,
            "inputParameterDefinitions": [{"name": "flower", "type": "vector"}],
            "outputParameterDefinitions": [{"name": "result", "type": "integer"}],
        },
    )
    published.raise_for_status()
    publish = time.perf_counter() - started
    answer = client.post(f"/api/{name}/1.0", json={"flower": VERSICOLOR}).json()
    total = time.perf_counter() - started
    assert answer["outputParameters"] == {"result": 1}, answer
    return publish, total


def session_then_first_execute(client: httpx.Client) -> float:
    """Seconds from POST /sessions to the answer of its first execute."""
    started = time.perf_counter()
    session = client.post("/sessions", json={"name": "cold"}).json()["sessionId"]
    executed = client.post(
        f"/sessions/{session}/execute",
        json={"code": "y = x * 2", "inputParameters": [{"name": "x", "value": 21}],
              "outputParameters": ["y"]},
    ).json()  # fmt: skip
    elapsed = time.perf_counter() - started
    assert executed["outputParameters"] == [{"name": "y", "value": 42}], executed
    client.delete(f"/sessions/{session}")
    return elapsed


def main() -> None:
    """Print publish, publish → first answer, and session → first execute figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=10)
    rounds = parser.parse_args().rounds
    root = traversable_tmp_dir("o16n-cold-")
    server = Server(root / "data", env={"O16N_LOG_LEVEL": "warning"}, own_socket=True).start()
    try:
        with server.client(server.token()) as client:
            snapshot = snapshot_of_a_trained_model(client)
            publishes, firsts, sessions = [], [], []
            for number in range(rounds):
                time.sleep(1.0)  # let the blank workers used by the last round be replaced
                publish, first = publish_then_first_answer(client, snapshot, f"Cold{number}")
                publishes.append(publish)
                firsts.append(first)
                sessions.append(session_then_first_execute(client))
        print(summary("publish", publishes))
        print(summary("publish -> first answer", firsts))
        print(f"{'':32} max {max(firsts) * 1e3:8.2f} ms")
        print(summary("POST /sessions -> first execute", sessions))
        print(f"{'':32} max {max(sessions) * 1e3:8.2f} ms")
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
