"""The ModelScorer port on onnxruntime: ONNX models loaded once per revision, batched runs."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import onnxruntime
from onnxruntime.capi import onnxruntime_pybind11_state as ort_errors

from o16n.domain.models import Batching, JsonValue, ScoringCounts, ServiceVersion
from o16n.errors import InvalidInput
from o16n.metrics import Metrics
from o16n.scoring.batcher import Batcher, Outputs, Tally, Threads
from o16n.scoring.frame import INPUT, Feeds, Tensor, column, feeds, tensor
from o16n.scoring.inspection import inspect

_LOAD_ERRORS = (
    ort_errors.Fail,
    ort_errors.InvalidArgument,
    ort_errors.InvalidProtobuf,
    ort_errors.InvalidGraph,
    ort_errors.NotImplemented,
    ort_errors.NoSuchFile,
    ort_errors.RuntimeException,
)
_QUIET = 3  # onnxruntime log severity: errors only
_SILENT = 4


@dataclass(frozen=True)
class _Model:
    inputs: tuple[Tensor, ...]
    outputs: tuple[str, ...]
    batcher: Batcher


def _session(model: bytes) -> tuple[onnxruntime.InferenceSession, bool]:
    """The loaded model, and whether it may run on the event loop (it has no loops)."""
    inline = not inspect(model).loops
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 1  # batches give the parallelism; threads would contend
    options.inter_op_num_threads = 1
    options.log_severity_level = _QUIET
    try:
        session = onnxruntime.InferenceSession(model, options, providers=["CPUExecutionProvider"])
    except _LOAD_ERRORS as error:
        raise InvalidInput(f"not a valid ONNX model: {error}", field="model") from error
    return session, inline


def _inputs(session: onnxruntime.InferenceSession) -> tuple[Tensor, ...]:
    return tuple(tensor(item.name, item.type, item.shape) for item in session.get_inputs())


class _Runner:
    """Runs one session; `stop` sets onnxruntime's terminate flag of its runs."""

    def __init__(self, session: onnxruntime.InferenceSession) -> None:
        self._session = session
        self._options = onnxruntime.RunOptions()
        self._options.log_severity_level = _SILENT  # a stopped run is reported, not logged

    def run(self, batch: Feeds) -> Outputs:
        """The model's outputs; InvalidInput (field `inputData`) when it refuses the rows."""
        try:
            outputs: Outputs = self._session.run(None, batch, self._options)
        except _LOAD_ERRORS as error:
            raise InvalidInput(f"the model refused these rows: {error}", field=INPUT) from error
        return outputs

    def stop(self, stopping: bool) -> None:
        """Stop the run in progress (True), or let the next runs go on (False)."""
        self._options.terminate = stopping


class OnnxScorer:
    """Scores realtime versions in this process; `content` reads a model blob, a run in the
    `threads` scoring threads is stopped after `deadline_seconds`; runs are counted in `metrics`."""

    def __init__(
        self,
        content: Callable[[str], bytes],
        threads: int,
        deadline_seconds: float,
        metrics: Metrics,
    ) -> None:
        self._content = content
        self._executor = ThreadPoolExecutor(threads, thread_name_prefix="o16n-score")
        self._models: dict[tuple[str, str], tuple[int, asyncio.Task[_Model]]] = {}
        self._tally = Tally()
        self._threads = Threads(self._executor, deadline_seconds, self._tally, metrics)

    def check(self, model: bytes) -> None:
        """Refuse bytes onnxruntime cannot load, or a model whose inputs we cannot feed."""
        _inputs(_session(model)[0])

    async def score(self, service: ServiceVersion, data: JsonValue) -> dict[str, JsonValue]:
        """The output columns, named after the model's outputs, for the rows of `data`."""
        model = await self._model(service)
        batch, rows = feeds(model.inputs, data)
        outputs = await model.batcher.score(batch, rows)
        return {name: column(value) for name, value in zip(model.outputs, outputs, strict=True)}

    async def _model(self, service: ServiceVersion) -> _Model:
        """The loaded model of this revision; concurrent first calls share one load."""
        key = (service.name, service.version)
        entry = self._models.get(key)
        if entry is None or entry[0] != service.revision:
            entry = (service.revision, asyncio.get_running_loop().create_task(self._load(service)))
            self._models[key] = entry
        loading = entry[1]
        try:
            return loading.result() if loading.done() else await asyncio.shield(loading)
        except Exception:  # a failed load is retried by the next call
            if self._models.get(key) is entry:
                del self._models[key]
            raise

    async def _load(self, service: ServiceVersion) -> _Model:
        loop = asyncio.get_running_loop()
        content = await loop.run_in_executor(self._executor, self._content, service.blob_ids[0])
        session, inline = await loop.run_in_executor(self._executor, _session, content)
        batching = service.batching or Batching(max_rows=1, max_wait_ms=0.0)
        return _Model(
            inputs=_inputs(session),
            outputs=tuple(item.name for item in session.get_outputs()),
            batcher=Batcher(_Runner(session), batching, self._threads, inline=inline),
        )

    def drop(self, name: str, version: str) -> None:
        """Forget a version's loaded model."""
        self._models.pop((name, version), None)

    def counts(self) -> ScoringCounts:
        """Models loaded, calls answered and runs made on this node."""
        return ScoringCounts(
            models=len(self._models), calls=self._tally.calls, runs=self._tally.runs
        )

    def close(self) -> None:
        """Stop the scoring threads (runs in progress finish)."""
        self._executor.shutdown(wait=True, cancel_futures=True)
