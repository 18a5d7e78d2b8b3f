"""Realtime services from the client: ONNX models (or fitted scikit-learn estimators, converted
with skl2onnx from the `o16n[onnx]` extra) as multipart publish and patch requests."""

from __future__ import annotations

import warnings

from o16n.client.request import Flow, Request, segment

ONNX_MEDIA_TYPE = "application/octet-stream"


def onnx_model(model: object, n_features: int | None = None) -> bytes:
    """ONNX bytes as they are, or a fitted scikit-learn estimator converted to ONNX.

    Classifiers are converted without ZipMap, so probabilities come back as one list per row.
    `n_features` defaults to the estimator's `n_features_in_`.
    """
    if isinstance(model, bytes | bytearray):
        return bytes(model)
    try:
        import numpy as np
        from skl2onnx import to_onnx
        from sklearn.base import is_classifier
    except ImportError as error:
        raise ImportError(
            "converting an estimator to ONNX needs skl2onnx: pip install 'o16n[onnx]'"
        ) from error
    width = n_features if n_features is not None else getattr(model, "n_features_in_", None)
    if not isinstance(width, int):
        raise ValueError("give n_features: the estimator does not say how many it takes")
    options = {id(model): {"zipmap": False}} if is_classifier(model) else None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # sklearn attributes skl2onnx reads
        converted = to_onnx(model, np.zeros((1, width), dtype=np.float32), options=options)
    content: bytes = converted.SerializeToString()
    return content


def realtime_form(
    *,
    description: str | None,
    operation_id: str | None,
    max_batch_size: int | None,
    max_batch_wait_ms: float | None,
) -> dict[str, str]:
    """The text fields of a realtime publish or patch, without the omitted ones."""
    fields: dict[str, object | None] = {
        "description": description,
        "operationId": operation_id,
        "maxBatchSize": max_batch_size,
        "maxBatchWaitMs": max_batch_wait_ms,
    }
    return {name: str(value) for name, value in fields.items() if value is not None}


def submit_realtime(
    method: str, name: str, version: str | None, model: bytes | None, form: dict[str, str]
) -> Flow[str]:
    """POST or PATCH /realtime-services/{name}[/{version}] as multipart; the version."""
    path = f"/realtime-services/{segment(name)}"
    if version is not None:
        path += f"/{segment(version)}"
    files = {"model": ("model.onnx", model, ONNX_MEDIA_TYPE)} if model is not None else None
    answer: object = (yield Request(method, path, files=files, data=form)).json()
    return answer if isinstance(answer, str) else str(version)
