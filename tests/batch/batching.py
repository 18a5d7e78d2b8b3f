"""Publishing the batch tests' services and following executions over raw HTTP."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import numpy as np
from sklearn import datasets, svm

from tests.services.publishing import params, published

IRIS_INIT = (
    "from sklearn import datasets, svm\n"
    "iris = datasets.load_iris()\n"
    "clf = svm.SVC().fit(iris.data, iris.target)\n"
)
IRIS_CODE = (
    "import numpy as np\n"
    "result = str(iris.target_names[clf.predict(np.array(flower_data).reshape(1, -1))][0])\n"
)
FINISHED = {"Complete", "Failed"}


def publish_iris(client: httpx.Client, name: str, version: str = "v1") -> None:
    """The seed's Iris service: initCode trains svm.SVC on iris, code predicts one row."""
    published(
        client,
        name,
        version,
        IRIS_CODE,
        initCode=IRIS_INIT,
        inputParameterDefinitions=params(flower_data="vector"),
        outputParameterDefinitions=params(result="character"),
    )


def iris_rows(count: int) -> list[list[float]]:
    """`count` flowers: iris rows cycled, nudged so that rows differ."""
    data = datasets.load_iris().data
    rows = [data[i % len(data)] + (i // len(data)) * 0.05 for i in range(count)]
    return [[round(float(x), 3) for x in row] for row in rows]


def iris_expected(rows: list[list[float]]) -> list[str]:
    """What scikit-learn itself predicts for `rows`."""
    iris = datasets.load_iris()
    clf = svm.SVC().fit(iris.data, iris.target)
    return [str(name) for name in iris.target_names[clf.predict(np.array(rows))]]


def publish_counting(
    client: httpx.Client,
    name: str,
    counter: Path,
    *,
    seconds: float = 0.0,
    extra: str = "",
    files: list[str] | None = None,
) -> None:
    """A service that appends its input `index` to `counter`, sleeps, then returns index * 2.

    `counter` is made writable for everyone: workers may run as `nobody`.
    """
    counter.touch()
    counter.chmod(0o666)
    code = (
        "import time\n"
        f"with open({str(counter)!r}, 'a') as handle:\n"
        "    handle.write(f'{index}\\n')\n"
        f"time.sleep({seconds})\n"
        f"{extra}"
        "doubled = index * 2\n"
    )
    published(
        client,
        name,
        "v1",
        code,
        inputParameterDefinitions=params(index="integer"),
        outputParameterDefinitions=params(doubled="integer"),
        outputFileNames=files or [],
    )


def runs(counter: Path) -> list[int]:
    """The indexes the counting service ran, one per run."""
    if not counter.exists():
        return []
    return [int(line) for line in counter.read_text().split()]


def start(client: httpx.Client, name: str, records: list[object], parallel: int = 10) -> str:
    """Start a batch that must be accepted; its execution id."""
    response = client.post(f"/api/{name}/v1/batch?parallelCount={parallel}", json=records)
    assert response.status_code == 202, response.text
    body = response.json()
    assert body["batchExecutionId"] == body["BatchExecutionId"]
    return str(body["BatchExecutionId"])


def status(client: httpx.Client, name: str, execution: str, **query: str) -> dict[str, object]:
    """GET the execution's status (200)."""
    response = client.get(f"/api/{name}/v1/batch/{execution}", params=query)
    assert response.status_code == 200, response.text
    body: dict[str, object] = response.json()
    return body


def wait(
    client: httpx.Client,
    name: str,
    execution: str,
    *,
    done: int | None = None,
    timeout: float = 120.0,
) -> dict[str, object]:
    """Poll until the execution finished (or has at least `done` completed records)."""
    deadline = time.monotonic() + timeout
    while True:
        body = status(client, name, execution)
        completed = body["completedItemCount"]
        assert isinstance(completed, int)
        if body["state"] in FINISHED or (done is not None and completed >= done):
            return body
        assert time.monotonic() < deadline, f"batch not done in {timeout} s: {body['state']}"
        time.sleep(0.1)
