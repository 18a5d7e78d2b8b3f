"""Realtime services: publish and patch versions that hold an ONNX model (reference §10)."""

from __future__ import annotations

from dataclasses import dataclass, replace

from o16n.domain.models import Batching, Principal, ServiceVersion
from o16n.domain.ports import ModelScorer
from o16n.domain.scoring import INPUTS, OUTPUTS, REALTIME
from o16n.domain.services import (
    Rights,
    Services,
    checked_name,
    checked_operation_id,
    given,
    new_version,
)
from o16n.domain.snapshots import Snapshots
from o16n.errors import InvalidInput, WrongServiceKind
from o16n.ids import new_guid, now

DEFAULT_BATCHING = Batching(max_rows=64, max_wait_ms=0.0)
MAX_BATCH_ROWS = 100_000
MAX_WAIT_MS = 1000.0


@dataclass(frozen=True)
class RealtimeRequest:
    """What a realtime publish or patch asks for; None means "not given"."""

    model: bytes | None = None
    description: str | None = None
    operation_id: str | None = None
    max_batch_size: int | None = None
    max_batch_wait_ms: float | None = None


def _batching(request: RealtimeRequest, current: Batching) -> Batching:
    rows = current.max_rows if request.max_batch_size is None else request.max_batch_size
    wait = current.max_wait_ms if request.max_batch_wait_ms is None else request.max_batch_wait_ms
    if not 1 <= rows <= MAX_BATCH_ROWS:
        raise InvalidInput(f"must be 1 to {MAX_BATCH_ROWS} rows (1: off)", field="maxBatchSize")
    if not 0 <= wait <= MAX_WAIT_MS:
        raise InvalidInput(f"must be 0 to {MAX_WAIT_MS:g} ms", field="maxBatchWaitMs")
    return Batching(max_rows=rows, max_wait_ms=wait)


class RealtimeServices:
    """Publish and patch realtime versions; listing, consuming and deleting are Services'."""

    def __init__(self, services: Services, snapshots: Snapshots, scorer: ModelScorer) -> None:
        self._services = services
        self._snapshots = snapshots
        self._scorer = scorer

    def publish(
        self,
        user: Principal,
        rights: Rights,
        name: str,
        version: str | None,
        request: RealtimeRequest,
    ) -> ServiceVersion:
        """Publish a new version holding `request.model` (a GUID version when None)."""
        checked_name(name, "name")
        version = checked_name(version, "version") if version is not None else new_guid()
        if request.model is None:
            raise InvalidInput("model is required (a file part)", field="model")
        batching = _batching(request, DEFAULT_BATCHING)
        operation_id = checked_operation_id(request.operation_id)
        self._scorer.check(request.model)
        with self._snapshots.referencing() as claim:  # the model goes if the publish fails
            blob_id = claim.put(request.model)
            service = new_version(
                user,
                name,
                version,
                runtime_type=REALTIME,
                description=request.description,
                operation_id=operation_id,
                inputs=INPUTS,
                outputs=OUTPUTS,
                blob_ids=(blob_id,),
                batching=batching,
            )
            self._services.add(user, rights, service)
        return service

    def patch(
        self, user: Principal, rights: Rights, name: str, version: str, request: RealtimeRequest
    ) -> ServiceVersion:
        """Change the given members; a new model replaces the stored one (freed when unused)."""
        current = self._services.owned(user, rights, name, version)
        if current.runtime_type != REALTIME or current.batching is None:
            raise WrongServiceKind(
                f"{name}/{version} is a {current.runtime_type} service: "
                f"PATCH /services/{name}/{version}"
            )
        batching = _batching(request, current.batching)  # fails before the model is stored
        operation_id = checked_operation_id(request.operation_id)
        if request.model is not None:
            self._scorer.check(request.model)
        with self._snapshots.referencing() as claim:
            blob_ids = current.blob_ids
            if request.model is not None:
                blob_ids = (claim.put(request.model),)
            patched = replace(
                current,
                description=given(request.description, current.description),
                operation_id=given(operation_id, current.operation_id),
                batching=batching,
                blob_ids=blob_ids,
                revision=current.revision + 1,
                updated_at=now(),
            )
            self._services.save(patched)
        if blob_ids != current.blob_ids:
            self._snapshots.release(current.blob_ids)
        return patched
