"""The baseline of bench/consume.py: a minimal in-process Starlette app scoring the iris SVC.

Run: .venv/bin/python -m bench.baseline --port 8100   (serves POST /w1 and POST /w2)
"""

from __future__ import annotations

import argparse
import json

import numpy as np
import uvicorn
from sklearn import datasets, svm
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route


def create_app() -> Starlette:
    """The app, with the model trained once at start-up."""
    iris = datasets.load_iris()
    model = svm.SVC().fit(iris.data, iris.target)

    async def one_row(request: Request) -> JSONResponse:
        row = json.loads(await request.body())["flower_data"]
        result = int(model.predict(np.array(row).reshape(1, -1))[0])
        return JSONResponse({"success": True, "outputParameters": {"result": result}})

    async def many_rows(request: Request) -> JSONResponse:
        rows = np.array(json.loads(await request.body())["rows"])
        result = model.predict(rows).tolist()
        return JSONResponse({"success": True, "outputParameters": {"result": result}})

    return Starlette(
        routes=[Route("/w1", one_row, methods=["POST"]), Route("/w2", many_rows, methods=["POST"])]
    )


def main() -> None:
    """Serve the baseline on 127.0.0.1."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    port = parser.parse_args().port
    uvicorn.run(
        create_app(),
        host="127.0.0.1",
        port=port,
        loop="asyncio",
        http="httptools",
        access_log=False,
        log_level="warning",
    )


if __name__ == "__main__":
    main()
