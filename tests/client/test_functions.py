"""Publishing from Python functions (`fn`, `init`) with `models` and `artifacts`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from o16n.client import Client

model: Any = None  # the service's global, sent with `models`
greeting = ""  # the service's global, set by `warm_up`


def classify(flower_data: list[float], shout: bool) -> tuple[str, int]:
    """The service: a class name and its index, and a file written as an artifact."""
    import numpy as np

    index = int(model.predict(np.array(flower_data).reshape(1, -1))[0])
    label = ["setosa", "versicolor", "virginica"][index]
    with open("label.txt", "w") as handle:
        handle.write(greeting + label)
    return (label.upper() if shout else label), index


def warm_up() -> None:
    """Run once per prepared interpreter."""
    global greeting  # noqa: PLW0603 - initCode sets the service's globals
    greeting = "it is "


def test_publish_a_function_with_models_init_and_artifacts(
    client: Client, classifier: object, new_name: Callable[[str], str], leftovers: None
) -> None:
    name = new_name("IrisFn")
    client.publish(
        name,
        "v1",
        fn=classify,
        init=warm_up,
        inputs={"flower_data": "vector", "shout": "logical"},
        outputs={"label": "character", "index": "integer"},
        models={"model": classifier},
        artifacts=["label.txt"],
    )
    service = client.service(name, "v1")
    assert client.services(name)[0].operation_id == "classify"
    reply = service.classify(flower_data=[7, 3.2, 4.7, 1.4], shout=True)  # type: ignore[attr-defined]
    assert reply.outputs == {"label": "VERSICOLOR", "index": 1}
    assert reply.output_files == {"label.txt": b"it is versicolor"}


def test_a_function_is_checked_before_anything_is_sent(client: Client) -> None:
    with pytest.raises(ValueError, match="shout"):
        client.publish("Never", "v1", fn=classify, inputs={"flower_data": "vector"})
    with pytest.raises(ValueError, match="not both"):
        client.publish("Never", "v1", code="x = 1", fn=classify)
    with pytest.raises(TypeError, match="named Python function"):
        client.publish("Never", "v1", fn=lambda: 1)
    with pytest.raises(ValueError, match="code or fn"):
        client.publish("Never", "v1", inputs={"a": "integer"})
    with pytest.raises(ValueError, match="models and as objects"):
        client.publish("Never", "v1", code="y = 1", models={"m": 1}, objects={"m": 2})
    assert client.services("Never") == []
