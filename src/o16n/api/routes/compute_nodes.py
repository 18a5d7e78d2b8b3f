"""The compute nodes (reference §12): GET for any caller, changes for Owners."""

from __future__ import annotations

from collections.abc import Callable

from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from o16n.api.body import read_model
from o16n.api.operation import Call, Handler, Operation
from o16n.api.responses import JSONResponse
from o16n.api.schemas import ComputeNodeState, GetComputeNodesResponse, UpdateComputeNodesRequest
from o16n.auth.roles import Action
from o16n.domain.compute_nodes import ComputeNodes
from o16n.errors import InternalError

_PATH = "/computenodes"


def _nodes(call: Call) -> ComputeNodes:
    if call.services.compute_nodes is None:
        raise InternalError("no compute nodes were configured")
    return call.services.compute_nodes


async def get_nodes(call: Call) -> Response:
    """The entries and every node's state."""
    entries, nodes = await run_in_threadpool(_nodes(call).listed)
    body = GetComputeNodesResponse(
        computeNodes=entries,
        nodes=[
            ComputeNodeState(
                address=node.address,
                alive=node.alive,
                cpus=node.cpus,
                memoryBytes=node.memory_bytes,
                interpreters=node.interpreters,
            )
            for node in nodes
        ],
    )
    return JSONResponse(body.model_dump())


def _change(pick: Callable[[ComputeNodes], Callable[[list[str]], None]]) -> Handler:
    async def change(call: Call) -> Response:
        limit = call.services.limits.json_bytes
        request = await read_model(call.request, UpdateComputeNodesRequest, limit)
        await run_in_threadpool(pick(_nodes(call)), request.entries)
        return JSONResponse({})

    return change


def _operation(method: str, operation_id: str, summary: str, handler: Handler) -> Operation:
    return Operation(
        method,
        _PATH,
        operation_id,
        summary,
        "ComputeNodes",
        handler,
        Action.MANAGE_COMPUTE_NODES,
        body=UpdateComputeNodesRequest,
        body_name="entries",
    )


OPERATIONS = (
    Operation(
        "GET",
        _PATH,
        "getComputeNodes",
        "Gets the compute nodes",
        "ComputeNodes",
        get_nodes,
        Action.READ_STATUS,
        response=GetComputeNodesResponse,
    ),
    _operation("POST", "setComputeNodes", "Sets the compute nodes", _change(lambda n: n.replace)),
    _operation("PUT", "addComputeNode", "Adds compute nodes", _change(lambda n: n.add)),
    _operation("DELETE", "removeComputeNode", "Removes compute nodes", _change(lambda n: n.remove)),
)
