"""Batch throughput on the seed's iris SVC: one 1,000-record batch against the same rows sent
as single consumes by 16 concurrent clients, in the same run, on the same server.

The batch is timed from its POST to the poll that sees it Complete (polled every 20 ms without
results, then the results are read once and checked); the singles from the first request to the
last answer. Client and server share this machine, 127.0.0.1 only, bounded by --rounds.

Run: .venv/bin/python -m bench.batch [--records 1000] [--clients 16] [--parallel 100]
     [--share 0.5] [--rounds 3]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import threading
import time

import httpx
from tests.batch.batching import IRIS_CODE, IRIS_INIT, iris_expected, iris_rows
from tests.harness import Server, traversable_tmp_dir


def publish(client: httpx.Client) -> None:
    """The seed's Iris service (init trains the SVC), warmed by a few calls."""
    response = client.post(
        "/services/Iris/v1",
        json={
            "code": IRIS_CODE,
            "initCode": IRIS_INIT,
            "inputParameterDefinitions": [{"name": "flower_data", "type": "vector"}],
            "outputParameterDefinitions": [{"name": "result", "type": "character"}],
        },
    )
    response.raise_for_status()
    for _ in range(50):
        assert client.post("/api/Iris/v1", json={"flower_data": [5, 3, 1, 0.2]}).json()["success"]


def batch_seconds(client: httpx.Client, rows: list[list[float]], parallel: int) -> float:
    """Seconds from POST to Complete for one batch of `rows`; its results are checked."""
    records = [{"flower_data": row} for row in rows]
    began = time.perf_counter()
    reply = client.post(f"/api/Iris/v1/batch?parallelCount={parallel}", json=records)
    execution = reply.json()["batchExecutionId"]
    url = f"/api/Iris/v1/batch/{execution}"
    while client.get(url, params={"showPartialResult": "false"}).json()["state"] != "Complete":
        time.sleep(0.02)
    elapsed = time.perf_counter() - began
    results = client.get(url).json()["batchExecutionResults"]
    assert [r["outputParameters"]["result"] for r in results] == iris_expected(rows)
    client.delete(url)
    return elapsed


def singles_seconds(server: Server, token: str, rows: list[list[float]], clients: int) -> float:
    """Seconds for `clients` threads, each with its own connection, to consume every row."""
    answers: list[str | None] = [None] * len(rows)
    barrier = threading.Barrier(clients + 1)

    def work(offset: int) -> None:
        with server.client(token) as client:
            barrier.wait()
            for index in range(offset, len(rows), clients):
                reply = client.post("/api/Iris/v1", json={"flower_data": rows[index]})
                answers[index] = reply.json()["outputParameters"]["result"]

    threads = [threading.Thread(target=work, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    barrier.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - began
    assert answers == iris_expected(rows)
    return elapsed


def main() -> None:
    """Measure both ways, alternating, and print records/s and their ratio."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", type=int, default=1000)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--parallel", type=int, default=100)
    parser.add_argument("--share", default="0.5", help="O16N_BATCH_POOL_SHARE of the server")
    parser.add_argument("--rounds", type=int, default=3)
    arguments = parser.parse_args()
    root = traversable_tmp_dir("o16n-bench-batch-")
    environment = {"O16N_LOG_LEVEL": "warning", "O16N_BATCH_POOL_SHARE": arguments.share}
    server = Server(root / "data", env=environment).start()
    rows = iris_rows(arguments.records)
    try:
        token = server.token()
        batch, singles = [], []
        with server.client(token) as client:
            publish(client)
            for _ in range(arguments.rounds):
                batch.append(batch_seconds(client, rows, arguments.parallel))
                singles.append(singles_seconds(server, token, rows, arguments.clients))
        batch_rate = arguments.records / statistics.median(batch)
        singles_rate = arguments.records / statistics.median(singles)
        print(
            f"batch   ({arguments.records} records, parallelCount {arguments.parallel}, "
            f"share {arguments.share}): {batch_rate:8.0f} records/s (median of {arguments.rounds})"
        )
        print(
            f"singles ({arguments.clients} concurrent clients):           "
            f"{singles_rate:8.0f} records/s (median of {arguments.rounds})"
        )
        print(f"ratio batch/singles: {batch_rate / singles_rate:.2f}x")
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
