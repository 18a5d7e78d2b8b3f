"""Realtime tests: the iris SVC as ONNX (unique service names come from tests/conftest.py)."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pytest
from sklearn import datasets, svm

from o16n.client.realtime import onnx_model

__all__ = ["Iris", "iris"]


class Iris:
    """The iris data, an SVC fitted on it, and the SVC converted to ONNX."""

    def __init__(self) -> None:
        data = datasets.load_iris()
        self.features: npt.NDArray[np.float64] = data.data
        self.columns = ["sepal_length", "sepal_width", "petal_length", "petal_width"]
        self.model = svm.SVC().fit(data.data, data.target)
        self.expected: list[int] = self.model.predict(data.data).tolist()
        self.onnx = onnx_model(self.model)

    def frame(self, rows: range | list[int]) -> dict[str, list[float]]:
        """Column-wise inputData for these rows."""
        columns = enumerate(self.columns)
        return {name: [float(self.features[i, j]) for i in rows] for j, name in columns}


@pytest.fixture(scope="session")
def iris() -> Iris:
    """The iris SVC and its ONNX bytes (converted once)."""
    return Iris()
