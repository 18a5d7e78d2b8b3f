"""Realtime versions: their fixed schema and how one call is scored (reference §10.3)."""

from __future__ import annotations

from o16n.domain.models import ConsumeResult, Parameter, ParameterType, ServiceVersion
from o16n.domain.ports import ModelScorer
from o16n.errors import InvalidInput

REALTIME = "Realtime"
STANDARD = "Standard"
INPUT = "inputData"
OUTPUT = "outputData"
INPUTS = (Parameter(INPUT, ParameterType.DATA_FRAME),)
OUTPUTS = (Parameter(OUTPUT, ParameterType.DATA_FRAME),)


def service_type(service: ServiceVersion) -> str:
    """`Realtime` for a model scored in the web process, `Standard` for Python code."""
    return REALTIME if service.runtime_type == REALTIME else STANDARD


async def score(scorer: ModelScorer, service: ServiceVersion, body: object) -> ConsumeResult:
    """Score the rows of the body's `inputData`; the answer holds them as `outputData`."""
    if not isinstance(body, dict) or INPUT not in body:
        raise InvalidInput(f"the body must be an object with {INPUT!r}", field=INPUT)
    columns = await scorer.score(service, body[INPUT])
    return ConsumeResult(
        success=True,
        error_message="",
        console_output="",
        outputs={OUTPUT: columns},
        output_files={},
        changed_files=[],
    )
