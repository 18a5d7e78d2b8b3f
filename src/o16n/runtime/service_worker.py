"""A worker prepared for one service version: the web-process side of `service_prepare`/`consume`.

Replies are read through the typed decoders of `protocol` (`Worker.request`): a worker
whose reply breaks the schema is killed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import cast

from o16n.domain.models import ConsumeResult, JsonValue, ServiceVersion
from o16n.errors import O16nError
from o16n.runtime.arrays import ARRAY_KINDS, packed_payload
from o16n.runtime.backend import Worker
from o16n.runtime.pipeline import reply_code
from o16n.runtime.protocol import ConsumeReply, consume_reply, empty_reply

# Error replies of `service_prepare` that the version's own content causes: its consumers get
# them as an unsuccessful result, as they get errors of its code.
_SERVICE_FAULTS = frozenset({"init_failed", "unpickle_failed", "invalid_input"})


@dataclass(frozen=True)
class ServiceSpec:
    """What a worker is prepared with: one revision of a version's code and declarations."""

    name: str
    version: str
    revision: int
    published: datetime
    code: str
    init_code: str | None
    inputs: tuple[tuple[str, str], ...]
    outputs: tuple[tuple[str, str], ...]
    output_files: tuple[str, ...]
    blob_ids: tuple[str, ...]
    timeout_seconds: float | None = None
    environment_id: str | None = None  # None: the server's own Python

    @classmethod
    def of(cls, service: ServiceVersion) -> ServiceSpec:
        """The spec of a published version."""
        return cls(
            name=service.name,
            version=service.version,
            revision=service.revision,
            published=service.created_at,
            code=service.code,
            init_code=service.init_code,
            inputs=tuple((p.name, p.type.value) for p in service.inputs),
            outputs=tuple((p.name, p.type.value) for p in service.outputs),
            output_files=service.output_file_names,
            blob_ids=service.blob_ids,
            timeout_seconds=service.timeout_seconds,
            environment_id=service.environment.id if service.environment else None,
        )

    def outdated_by(self, service: ServiceVersion) -> bool:
        """Whether `service` is a later revision, or another publication of the same version."""
        return service.created_at != self.published or service.revision > self.revision

    def runs_other_code(self, service: ServiceVersion) -> bool:
        """Whether `service` has another code, initCode, snapshot or environment than this
        spec."""
        theirs = ServiceSpec.of(service)
        mine = (self.code, self.init_code, self.blob_ids, self.environment_id)
        return mine != (theirs.code, theirs.init_code, theirs.blob_ids, theirs.environment_id)

    def deadline(self, default: float) -> float:
        """How long one call may run (or wait for a worker): the version's own timeout, else
        `default`."""
        return default if self.timeout_seconds is None else self.timeout_seconds

    @property
    def label(self) -> str:
        """`name/version`, for messages."""
        return f"{self.name}/{self.version}"

    @property
    def revision_key(self) -> str:
        """This publication and revision of the version: workers prepared for the same key
        on any web node are interchangeable."""
        return f"{self.label}@{self.published.isoformat()}#{self.revision}"

    def payload(self, archives: list[bytes]) -> dict[str, object]:
        """The `service_prepare` request payload."""
        return {
            "archives": archives,
            "init_code": self.init_code,
            "code": self.code,
            "inputs": [list(pair) for pair in self.inputs],
            "outputs": [list(pair) for pair in self.outputs],
            "output_files": list(self.output_files),
        }

    def failure(self, message: str) -> ConsumeResult:
        """The unsuccessful result every call gets while the version cannot be prepared."""
        return ConsumeResult(
            success=False,
            error_message=f"the service {self.label} could not be prepared: {message}",
            console_output="",
            outputs={name: None for name, _ in self.outputs},
            output_files=dict.fromkeys(self.output_files),
            changed_files=[],
        )


class PrepareFailed(Exception):
    """The version's initCode or snapshot failed in the worker; `result` is what callers get."""

    def __init__(self, result: ConsumeResult) -> None:
        super().__init__(result.error_message)
        self.result = result


class PreparedWorker:
    """One worker process prepared for one version; `load` counts the calls given to it."""

    def __init__(
        self, process: Worker, spec: ServiceSpec, call_seconds: float, *, adopted: bool = False
    ) -> None:
        self.process = process
        self.adopted = adopted  # prepared by another web node, which stops it
        self.load = 0
        self._seconds = spec.deadline(call_seconds)
        self._outputs = frozenset(name for name, _ in spec.outputs)
        self._files = frozenset(spec.output_files)
        self._arrays = {name: kind for name, kind in spec.inputs if kind in ARRAY_KINDS}

    @property
    def alive(self) -> bool:
        """Whether the worker process runs and accepts calls."""
        return self.process.alive

    @property
    def pressure(self) -> int:
        """Calls given to it, or in its pipe if more (a caller that gave up leaves its call)."""
        return max(self.load, self.process.in_flight)

    async def consume(self, inputs: dict[str, JsonValue]) -> ConsumeResult:
        """One call under the call deadline; WorkerCrashed/WorkerTimeout when the worker fails."""
        payload = packed_payload(inputs, self._arrays)
        reply = await self.process.request("consume", payload, self._seconds, self._reply)
        return ConsumeResult(
            success=reply.success,
            error_message=reply.error_message,
            console_output=reply.console_output,
            outputs=cast(dict[str, JsonValue], reply.outputs),  # JSON, checked by the decoder
            output_files=reply.output_files,
            changed_files=reply.changed_files,
        )

    def _reply(self, payload: dict[str, object]) -> ConsumeReply:
        return consume_reply(payload, self._outputs, self._files)


async def prepare(
    process: Worker,
    spec: ServiceSpec,
    archives: list[bytes],
    seconds: float,
    call_seconds: float,
) -> PreparedWorker:
    """Prepare a started worker for `spec` within `seconds`; PrepareFailed for the version's
    own faults, O16nError types when the worker fails."""
    try:
        await process.request("service_prepare", spec.payload(archives), seconds, empty_reply)
    except O16nError as exc:
        code = reply_code(exc)
        if code in _SERVICE_FAULTS:
            text = f"its initCode failed:\n{exc.message}" if code == "init_failed" else exc.message
            raise PrepareFailed(spec.failure(text)) from exc
        raise
    return PreparedWorker(process, spec, call_seconds)
