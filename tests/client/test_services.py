"""Publishing, consuming, patching and deleting services through the client."""

from __future__ import annotations

import inspect
from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest

from o16n.client import Client, ServiceResult
from o16n.errors import ServiceExists, ServiceNotFound

IRIS_CODE = (
    "import numpy as np\n"
    "names = ['setosa', 'versicolor', 'virginica']\n"
    "result = names[int(clf.predict(np.array(flower_data).reshape(1, -1))[0])]"
)


def test_publish_with_objects_then_consume(
    client: Client, classifier: object, new_name: Callable[[str], str], leftovers: None
) -> None:
    name = new_name("Iris")
    version = client.publish(
        name,
        code=IRIS_CODE,
        inputs={"flower_data": "vector"},
        outputs={"result": "character"},
        objects={"clf": classifier},
        operation_id="classify",
        description="iris",
    )
    service = client.service(name)
    assert service.version == version
    assert service(flower_data=[7, 3.2, 4.7, 1.4]).outputs == {"result": "versicolor"}
    reply = service.classify(flower_data=[5.1, 3.5, 1.4, 0.2])  # type: ignore[attr-defined]
    assert isinstance(reply, ServiceResult)
    assert reply.success
    assert reply.outputs == {"result": "setosa"}
    info = client.services(name)[0]
    assert (info.inputs, info.outputs, info.description) == (
        {"flower_data": "vector"},
        {"result": "character"},
        "iris",
    )
    assert info.snapshot_id is not None
    assert service.swagger()["swagger"] == "2.0"
    signature = inspect.signature(service.classify)  # type: ignore[attr-defined]
    assert str(signature) == "(*, flower_data: list[object]) -> o16n.client.service.ServiceResult"
    with pytest.raises(TypeError, match="flower_data"):
        service.classify(flowers=[1])  # type: ignore[attr-defined]


def test_publish_with_files_and_output_files(
    client: Client, new_name: Callable[[str], str], leftovers: None
) -> None:
    name = new_name("Files")
    client.publish(
        name,
        "v1",
        init="greeting = open('greeting.txt').read()",
        code="open('out.txt', 'w').write(greeting + who)\nfail = 1 / 0 if who == '!' else 0",
        inputs={"who": "character"},
        files={"greeting.txt": b"hello "},
        artifacts=["out.txt"],
    )
    service = client.service(name, "v1")
    result = service.consume(who="world")
    assert result.success, result.error_message
    assert result.output_files == {"out.txt": b"hello world"}
    failed = service(who="!")
    assert not failed.success
    assert "ZeroDivisionError" in failed.error_message


def test_a_failed_publish_cleans_up_too(
    client: Client, new_name: Callable[[str], str], leftovers: None
) -> None:
    name = new_name("Again")
    client.publish(name, "v1", code="pass")
    with pytest.raises(ServiceExists):
        client.publish(name, "v1", code="pass", objects={"x": 1}, files={"f.txt": b"f"})


def test_latest_version_patch_and_delete(
    client: Client, new_name: Callable[[str], str], leftovers: None
) -> None:
    name = new_name("Versions")
    client.publish(name, "v1", code="y = 1", outputs={"y": "integer"})
    client.publish(name, "v2", code="y = 2", outputs={"y": "integer"})
    assert [info.version for info in client.services(name)] == ["v1", "v2"]
    assert client.service(name)().outputs == {"y": 2}
    assert client.service(name, "v1")().outputs == {"y": 1}
    client.patch(name, "v1", code="y = k", description="patched", objects={"k": 10})
    assert client.services(name)[0].description == "patched"
    assert client.service(name, "v1")().outputs == {"y": 10}
    client.delete(name, "v2")
    assert client.service(name).version == "v1"
    client.delete(name, "v1")
    with pytest.raises(ServiceNotFound):
        client.service(name)
    assert name not in {info.name for info in client.services()}


def test_the_default_operation_is_a_method_too(
    client: Client, new_name: Callable[[str], str]
) -> None:
    name = new_name("Default")
    client.publish(name, "v1", code="y = a + len(b)", inputs={"a": "integer", "b": "character"})
    service = client.service(name, "v1")
    consume = service.ConsumeWebService  # type: ignore[attr-defined]
    assert str(inspect.signature(consume)).startswith("(*, a: int, b: str)")
    assert consume(a=1, b="xy").success
    with pytest.raises(TypeError, match="missing"):
        consume(a=1)


def test_publish_takes_python_types_as_microsofts_client_does(
    client: Client, new_name: Callable[[str], str]
) -> None:
    name = new_name("Typed")
    python_types: dict[str, object] = {
        "i": int,
        "n": float,
        "c": str,
        "lg": bool,
        "v": list,
        "a": np.ndarray,
        "m": np.matrix,
        "d": pd.DataFrame,
        "by_name": "DataFrame",
        "ml_name": "numeric",
    }
    client.publish(name, "v1", code="y = i + 1", inputs=python_types, outputs={"y": int})
    info = client.services(name)[0]
    assert info.inputs == {
        "i": "integer",
        "n": "numeric",
        "c": "character",
        "lg": "logical",
        "v": "vector",
        "a": "vector",
        "m": "matrix",
        "d": "data.frame",
        "by_name": "data.frame",
        "ml_name": "numeric",
    }
    assert info.outputs == {"y": "integer"}


@pytest.mark.parametrize("kind", [dict, set, 3, None, np.float64])
def test_publish_refuses_other_types_naming_the_input(
    client: Client, new_name: Callable[[str], str], kind: object
) -> None:
    name = new_name("Untyped")
    with pytest.raises(TypeError, match="input 'bad'"):
        client.publish(name, "v1", code="y = 1", inputs={"ok": int, "bad": kind})
    with pytest.raises(TypeError, match="output 'bad'"):
        client.publish(name, "v1", code="y = 1", outputs={"bad": kind})
    assert client.services(name) == [], "nothing was sent"
