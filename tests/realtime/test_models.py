"""Models beyond scikit-learn's: inputs taken by column name, and external data refused."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from onnx import TensorProto, helper

from tests.harness import Server, assert_error
from tests.realtime.test_realtime import consume, publish


def _sum_model() -> bytes:
    """sum = a + b over two rank-1 double inputs named `a` and `b`."""
    inputs = [helper.make_tensor_value_info(n, TensorProto.DOUBLE, [None]) for n in "ab"]
    output = helper.make_tensor_value_info("sum", TensorProto.DOUBLE, [None])
    graph = helper.make_graph([helper.make_node("Add", ["a", "b"], ["sum"])], "g", inputs, [output])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    return model.SerializeToString()


def _reading_model(location: str) -> bytes:
    """y = x + W where W's bytes live in the file at `location`."""
    weights = TensorProto(name="W", data_type=TensorProto.UINT8, dims=[8])
    weights.data_location = TensorProto.EXTERNAL
    weights.external_data.add(key="location", value=location)
    x = helper.make_tensor_value_info("x", TensorProto.UINT8, [8])
    y = helper.make_tensor_value_info("y", TensorProto.UINT8, [8])
    node = helper.make_node("Add", ["x", "W"], ["y"])
    graph = helper.make_graph([node], "g", [x], [y], initializer=[weights])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    return model.SerializeToString()


def test_each_input_takes_the_column_of_its_name(
    server: Server, admin_token: str, new_name: Callable[[str], str]
) -> None:
    name = new_name("Sum")
    with server.client(admin_token) as client:
        assert publish(client, name, "1", _sum_model()).status_code == 201
        answer = consume(client, name, "1", {"b": [10, 20], "a": [1.5, 2.5]})
        assert answer.status_code == 200, answer.text
        assert answer.json()["outputParameters"]["outputData"] == {"sum": [11.5, 22.5]}
        assert_error(consume(client, name, "1", {"a": [1.0], "c": [2.0]}), 400, "inputData.c")
        assert_error(consume(client, name, "1", {"a": [1.0]}), 400, "inputData.b")
        ragged = consume(client, name, "1", {"a": [1.0], "b": [2.0, 3.0]})
        assert_error(ragged, 400, "inputData.b")
        empty = consume(client, name, "1", {"a": [], "b": []})
        assert empty.status_code == 200, empty.text
        assert empty.json()["outputParameters"]["outputData"] == {"sum": []}


def test_a_model_reading_external_files_is_refused(
    server: Server, admin_token: str, new_name: Callable[[str], str]
) -> None:
    secret = Path(server.data_dir) / "keys" / "signing.key"
    assert secret.exists()
    with server.client(admin_token) as client:
        for location in ("keys/signing.key", str(secret), "../../../etc/hostname"):
            refused = publish(client, new_name("Reader"), "1", _reading_model(location))
            body = assert_error(refused, 400, "model")
            assert "must carry all of its tensors" in str(body["message"])
