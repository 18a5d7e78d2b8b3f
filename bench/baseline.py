"""The baseline of bench/consume.py: the fastest plain in-process Python server for this job.

A bare ASGI app (no framework) on uvicorn with uvloop and httptools, orjson for JSON, the iris
SVC called on the event loop, no access log, the start-up heap frozen out of garbage collection
(gc.freeze, as o16n's processes do).

Run: .venv/bin/python -m bench.baseline --port 8100   (serves POST /w1 and POST /w2)
"""

from __future__ import annotations

import argparse
import gc
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import numpy as np
import orjson
import uvicorn
from sklearn import datasets, svm

Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
_HEADERS = [(b"content-type", b"application/json")]


async def _body(receive: Receive) -> bytes:
    parts = []
    while True:
        message = await receive()
        parts.append(message.get("body", b""))
        if not message.get("more_body"):
            return b"".join(parts)


def create_app() -> Callable[[Message, Receive, Send], Awaitable[None]]:
    """The app, with the model trained once at start-up."""
    iris = datasets.load_iris()
    model = svm.SVC().fit(iris.data, iris.target)
    gc.freeze()  # as o16n does: collections skip what start-up made

    def one_row(request: Any) -> object:
        return int(model.predict(np.array(request["flower_data"]).reshape(1, -1))[0])

    def many_rows(request: Any) -> object:
        return model.predict(np.asarray(request["rows"])).tolist()

    scorers = {"/w1": one_row, "/w2": many_rows}

    async def app(scope: Message, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        result = scorers[scope["path"]](orjson.loads(await _body(receive)))
        body = orjson.dumps({"success": True, "outputParameters": {"result": result}})
        await send({"type": "http.response.start", "status": 200, "headers": _HEADERS})
        await send({"type": "http.response.body", "body": body})

    return app


def main() -> None:
    """Serve the baseline on 127.0.0.1."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    port = parser.parse_args().port
    uvicorn.run(
        create_app(),
        host="127.0.0.1",
        port=port,
        loop="uvloop",
        http="httptools",
        access_log=False,
        lifespan="off",
        log_level="warning",
    )


if __name__ == "__main__":
    main()
