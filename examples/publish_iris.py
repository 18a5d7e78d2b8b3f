"""Publish the seed's Iris model as a web service with o16n.client, then call it.

Run against a server (started with `scripts/serve`):
    .venv/bin/python examples/publish_iris.py http://127.0.0.1:12800 admin PASSWORD
"""

from __future__ import annotations

import sys

from sklearn import datasets, svm

from o16n.client import Client

CODE = """import numpy as np
result = str(iris.target_names[clf.predict(np.array(flower_data).reshape(1, -1))][0])
"""
INIT = "from sklearn import datasets\niris = datasets.load_iris()"


def main(url: str, username: str, password: str) -> None:
    """Train the model here, publish it as Iris/V1.0 (replacing an older one), call it."""
    iris = datasets.load_iris()
    model = svm.SVC().fit(iris.data, iris.target)
    with Client(url, username=username, password=password) as client:
        if any(info.version == "V1.0" for info in client.services("Iris")):
            client.delete("Iris", "V1.0")
        client.publish(
            "Iris",
            "V1.0",
            code=CODE,
            init=INIT,
            inputs={"flower_data": "vector"},
            outputs={"result": "character"},
            objects={"clf": model},
            description="The seed's iris classifier",
        )
        iris_service = client.service("Iris", "V1.0")
        for row in ([7, 3.2, 4.7, 1.4], [5.1, 3.5, 1.4, 0.2], [6.3, 3.3, 6.0, 2.5]):
            print(row, iris_service(flower_data=row).outputs["result"])


if __name__ == "__main__":
    main(*sys.argv[1:4])
