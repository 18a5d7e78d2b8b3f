"""Looking into an ONNX model before onnxruntime loads it.

Models whose tensors live in external files are refused: onnxruntime resolves such a location
against the working directory of a model loaded from bytes (`..` included), so the model could
read the server's own files into its outputs. Models with loops are noted: their run time is
not bounded by their rows, so they never run on the event loop.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from google.protobuf.message import DecodeError
from onnx import AttributeProto, GraphProto, ModelProto, NodeProto, TensorProto

from o16n.errors import InvalidInput

_LOOPS = frozenset({"Loop", "Scan"})


@dataclass(frozen=True)
class Inspection:
    """What matters about a model before it runs."""

    loops: bool


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


def _nodes(graph: GraphProto) -> Iterator[NodeProto]:
    for node in graph.node:
        yield node
        for attribute in node.attribute:
            for inner in (*attribute.graphs, *([attribute.g] if attribute.HasField("g") else [])):
                yield from _nodes(inner)


def _tensors(model: ModelProto) -> Iterator[TensorProto]:
    yield from _graph_tensors(model.graph)
    for function in model.functions:
        for node in function.node:
            yield from _node_tensors(node)


def inspect(content: bytes) -> Inspection:
    """What the model holds; InvalidInput (field `model`) when a tensor refers to an external
    file. Bytes that do not parse are left to onnxruntime, whose message says why."""
    model = ModelProto()
    try:
        model.ParseFromString(content)
    except DecodeError:
        return Inspection(loops=True)
    for tensor in _tensors(model):
        if tensor.data_location == TensorProto.EXTERNAL or len(tensor.external_data):
            raise InvalidInput(
                f"tensor {tensor.name!r} refers to external data: a realtime model must "
                "carry all of its tensors (save it without external data)",
                field="model",
            )
    nodes = [*_nodes(model.graph), *(node for f in model.functions for node in f.node)]
    return Inspection(loops=any(node.op_type in _LOOPS for node in nodes))
