"""Models beyond scikit-learn's: inputs taken by column name, and external data refused."""

from __future__ import annotations

import time
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


def _counting_model() -> bytes:
    """count = [max(n)], counted up one by one in a Loop (as slow as n is large)."""
    scalar, vector = [], [None]
    body = helper.make_graph(
        [
            helper.make_node("Identity", ["cond"], ["cond_out"]),
            helper.make_node("Add", ["x", "one"], ["x_out"]),
        ],
        "body",
        [
            helper.make_tensor_value_info("i", TensorProto.INT64, scalar),
            helper.make_tensor_value_info("cond", TensorProto.BOOL, scalar),
            helper.make_tensor_value_info("x", TensorProto.DOUBLE, vector),
        ],
        [
            helper.make_tensor_value_info("cond_out", TensorProto.BOOL, scalar),
            helper.make_tensor_value_info("x_out", TensorProto.DOUBLE, vector),
        ],
        initializer=[helper.make_tensor("one", TensorProto.DOUBLE, [1], [1.0])],
    )
    true = helper.make_tensor("t", TensorProto.BOOL, [], [True])
    zero = helper.make_tensor("z", TensorProto.DOUBLE, [1], [0.0])
    nodes = [
        helper.make_node("ReduceMax", ["n"], ["m"], keepdims=0),
        helper.make_node("Constant", [], ["true"], value=true),
        helper.make_node("Constant", [], ["zero"], value=zero),
        helper.make_node("Loop", ["m", "true", "zero"], ["count"], body=body),
    ]
    n = helper.make_tensor_value_info("n", TensorProto.INT64, vector)
    count = helper.make_tensor_value_info("count", TensorProto.DOUBLE, vector)
    graph = helper.make_graph(nodes, "g", [n], [count])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    return model.SerializeToString()


def test_a_run_past_the_deadline_is_stopped(start_server: Callable[..., Server]) -> None:
    limited = start_server(O16N_SERVICE_TIMEOUT_SECONDS="1")
    with limited.client(limited.token()) as client:
        assert publish(client, "Count", "1", _counting_model()).status_code == 201
        answer = consume(client, "Count", "1", {"n": [5]})
        assert answer.json()["outputParameters"]["outputData"] == {"count": [5.0]}, answer.text
        started = time.monotonic()
        assert_error(consume(client, "Count", "1", {"n": [10**15]}), 504)
        assert time.monotonic() - started < 30
        again = consume(client, "Count", "1", {"n": [3]})
        assert again.json()["outputParameters"]["outputData"] == {"count": [3.0]}, again.text


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
    secret = Path(server.data_dir) / "o16n.db"
    assert secret.exists()
    with server.client(admin_token) as client:
        for location in ("o16n.db", str(secret), "../../../etc/hostname"):
            refused = publish(client, new_name("Reader"), "1", _reading_model(location))
            body = assert_error(refused, 400, "model")
            assert "must carry all of its tensors" in str(body["message"])
