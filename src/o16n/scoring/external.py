"""Refusing ONNX models whose tensors live in external files.

onnxruntime resolves a tensor's external data location against the working directory of a
model loaded from bytes (`..` included), so such a model could read the server's own files
into its outputs. A realtime model must carry all of its data.
"""

from __future__ import annotations

from collections.abc import Iterator

from google.protobuf.message import DecodeError
from onnx import AttributeProto, GraphProto, ModelProto, NodeProto, TensorProto

from o16n.errors import InvalidInput


def _node_tensors(node: NodeProto) -> Iterator[TensorProto]:
    for attribute in node.attribute:
        yield from _attribute_tensors(attribute)


def _attribute_tensors(attribute: AttributeProto) -> Iterator[TensorProto]:
    if attribute.HasField("t"):
        yield attribute.t
    yield from attribute.tensors
    sparse = [*attribute.sparse_tensors]
    if attribute.HasField("sparse_tensor"):
        sparse.append(attribute.sparse_tensor)
    for item in sparse:
        yield item.values
        yield item.indices
    graphs = [*attribute.graphs]
    if attribute.HasField("g"):
        graphs.append(attribute.g)
    for graph in graphs:
        yield from _graph_tensors(graph)


def _graph_tensors(graph: GraphProto) -> Iterator[TensorProto]:
    yield from graph.initializer
    for sparse in graph.sparse_initializer:
        yield sparse.values
        yield sparse.indices
    for node in graph.node:
        yield from _node_tensors(node)


def _tensors(model: ModelProto) -> Iterator[TensorProto]:
    yield from _graph_tensors(model.graph)
    for function in model.functions:
        for node in function.node:
            yield from _node_tensors(node)


def refuse_external_data(content: bytes) -> None:
    """InvalidInput (field `model`) when a tensor of the model refers to an external file;
    bytes that do not parse are left to onnxruntime, whose message says why."""
    model = ModelProto()
    try:
        model.ParseFromString(content)
    except DecodeError:
        return
    for tensor in _tensors(model):
        if tensor.data_location == TensorProto.EXTERNAL or len(tensor.external_data):
            raise InvalidInput(
                f"tensor {tensor.name!r} refers to external data: a realtime model must "
                "carry all of its tensors (save it without external data)",
                field="model",
            )
