"""Output values become msgpack/JSON-native data, or UnencodableValue."""

from __future__ import annotations

import datetime
import json
import math

import msgpack
import numpy as np
import pandas as pd
import pytest

from o16n.runtime.worker.values import UnencodableValue, encode_value


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, None),
        (True, True),
        ("text", "text"),
        (3, 3),
        (2.5, 2.5),
        (math.nan, None),
        (-math.inf, None),
        ((1, (2, 3)), [1, [2, 3]]),
        ({3, 1, 2}, [1, 2, 3]),
        (frozenset({"b", "a"}), ["a", "b"]),
        ({1: "a", None: [math.inf]}, {"1": "a", "None": [None]}),
        (datetime.datetime(2020, 1, 2, 3, 4, 5), "2020-01-02T03:04:05"),
        (datetime.date(2020, 1, 2), "2020-01-02"),
        (np.array([[1, 2], [3, 4]]), [[1, 2], [3, 4]]),
        (np.array([1.5, np.nan, np.inf]), [1.5, None, None]),
        (np.array([True, False]), [True, False]),
        (np.array(["a", "b"]), ["a", "b"]),
        (np.float32(2.5), 2.5),
        (np.float64("nan"), None),
        (np.int64(7), 7),
        (np.uint64(2**64 - 1), 2**64 - 1),
        (np.bool_(True), True),
        (np.array(["2020-01-01", "NaT"], dtype="datetime64[s]"), ["2020-01-01T00:00:00", None]),
        (np.datetime64("2020-01-01"), "2020-01-01"),
        (np.array([1, "x", None], dtype=object), [1, "x", None]),
        (pd.Series([1.0, np.nan]), [1.0, None]),
        (pd.Series(pd.array([1, None], dtype="Int64")), [1, None]),
        (pd.Index(["a", "b"]), ["a", "b"]),
        (pd.Timestamp("2020-01-01"), "2020-01-01T00:00:00"),
        (pd.NaT, None),
        (pd.NA, None),
    ],
)
def test_values_encode(value: object, expected: object) -> None:
    encoded = encode_value(value)
    assert encoded == expected
    msgpack.packb(encoded)
    json.dumps(encoded, allow_nan=False)


@pytest.mark.filterwarnings("ignore::PendingDeprecationWarning")
def test_numpy_matrices_become_rows() -> None:
    assert encode_value(np.matrix([[1, 2], [3, 4]])) == [[1, 2], [3, 4]]


def test_data_frames_become_column_objects_in_column_order() -> None:
    frame = pd.DataFrame(
        {
            "zeta": [1, 2],
            "alpha": [0.5, np.nan],
            "when": pd.to_datetime(["2020-01-01", None]),
            "label": pd.Categorical(["u", "v"]),
            "text": ["x", None],
        }
    )
    encoded = encode_value(frame)
    assert isinstance(encoded, dict)
    assert list(encoded) == ["zeta", "alpha", "when", "label", "text"]
    assert encoded["zeta"] == [1, 2]
    assert encoded["alpha"] == [0.5, None]
    assert encoded["when"][0].startswith("2020-01-01T00:00:00")
    assert encoded["when"][1] is None
    assert encoded["label"] == ["u", "v"]
    assert encoded["text"] == ["x", None]
    json.dumps(encoded, allow_nan=False)


class Model:
    """A user object with no JSON form."""


@pytest.mark.parametrize(
    "value",
    [Model(), b"bytes", 1 + 2j, np.array([1 + 2j]), 2**70, datetime.timedelta(1), print, iter([])],
)
def test_other_values_are_unencodable(value: object) -> None:
    with pytest.raises(UnencodableValue):
        encode_value(value)


def test_cycles_and_deep_nesting_are_unencodable_not_fatal() -> None:
    cycle: list[object] = []
    cycle.append(cycle)
    with pytest.raises(UnencodableValue, match="nested"):
        encode_value(cycle)
