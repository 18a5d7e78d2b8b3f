"""Parameter types (reference §15): round trips, the Python types code sees, decoding, 400s."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import httpx
import pytest

from tests.harness import Server, assert_error
from tests.services.publishing import (
    consume,
    consume_response,
    metadata,
    outputs,
    params,
    published,
    service_name,
)

VERSION = "1.0"
INPUTS = params(
    i="integer",
    n="numeric",
    c="character",
    lg="logical",
    v="vector",
    m="matrix",
    d="data.frame",
    s="string",
)
ECHO_OUTPUTS = params(
    o_i="integer",
    o_n="numeric",
    o_c="character",
    o_lg="logical",
    o_v="vector",
    o_m="matrix",
    o_d="data.frame",
    o_s="string",
)
EXTRA_OUTPUTS = params(
    kinds="vector",
    checks="vector",
    m_shape="vector",
    d_columns="vector",
    row_as_matrix="matrix",
    not_a_number="numeric",
    never_set="character",
)
ECHO_CODE = """\
import numpy, pandas
o_i, o_n, o_c, o_lg, o_v, o_m, o_d, o_s = i, n, c, lg, v, m, d, s
kinds = [type(x).__name__ for x in (i, n, c, lg, v, m, d, s)]
checks = [
    type(i) is int,
    type(n) is float,
    type(c) is str,
    type(lg) is bool,
    isinstance(v, numpy.ndarray) and not isinstance(v, numpy.matrix) and v.ndim == 1,
    isinstance(m, numpy.matrix),
    isinstance(d, pandas.DataFrame),
    type(s) is str,
]
m_shape = list(m.shape)
d_columns = [str(name) for name in d.columns]
row_as_matrix = numpy.arange(3)
not_a_number = float('nan')
"""
GOOD = {
    "i": 3,
    "n": 2.5,
    "c": "héllo",
    "lg": True,
    "v": [1.5, 2, 3],
    "m": [[1, 2], [3, 4], [5, 6]],
    "d": {"z": [1, 2], "a": ["x", "y"]},
    "s": "text",
}


@pytest.fixture(scope="module")
def echo(server: Server, admin_token: str) -> Iterator[str]:
    """A service echoing one input of every type to an output of the same type."""
    name = service_name("Echo")
    with server.client(admin_token) as client:
        published(
            client,
            name,
            VERSION,
            ECHO_CODE,
            inputParameterDefinitions=INPUTS,
            outputParameterDefinitions=ECHO_OUTPUTS + EXTRA_OUTPUTS,
        )
    yield name
    with server.client(admin_token) as client:
        client.delete(f"/services/{name}/{VERSION}")


def test_every_type_round_trips(server: Server, admin_token: str, echo: str) -> None:
    with server.client(admin_token) as client:
        values = outputs(client, echo, VERSION, GOOD)
    assert values["kinds"] == [
        "int",
        "float",
        "str",
        "bool",
        "ndarray",
        "matrix",
        "DataFrame",
        "str",
    ]
    assert values["checks"] == [True] * 8
    assert values == {
        "o_i": 3,
        "o_n": 2.5,
        "o_c": "héllo",
        "o_lg": True,
        "o_v": [1.5, 2.0, 3.0],
        "o_m": [[1, 2], [3, 4], [5, 6]],
        "o_d": {"z": [1, 2], "a": ["x", "y"]},
        "o_s": "text",
        "kinds": values["kinds"],
        "checks": values["checks"],
        "m_shape": [3, 2],
        "d_columns": ["z", "a"],
        "row_as_matrix": [[0, 1, 2]],
        "not_a_number": None,
        "never_set": None,
    }
    assert list(values["o_d"]) == ["z", "a"], "data.frame column order is kept"  # type: ignore[arg-type]
    assert type(values["o_i"]) is int
    assert type(values["o_lg"]) is bool


def test_large_vectors_and_matrices_reach_the_code_as_small_ones_do(
    server: Server, admin_token: str, echo: str
) -> None:
    """They travel to the worker as packed arrays (runtime.arrays): same types, values, shapes."""
    large = GOOD | {"v": [1.5, 2, 3] * 6, "m": [[1, 2], [3, 4]] * 10}
    with server.client(admin_token) as client:
        values = outputs(client, echo, VERSION, large)
    assert values["kinds"][4:6] == ["ndarray", "matrix"]
    assert values["checks"] == [True] * 8
    assert values["o_v"] == [1.5, 2.0, 3.0] * 6
    assert values["o_m"] == [[1, 2], [3, 4]] * 10
    assert {type(x) for row in values["o_m"] for x in row} == {int}
    assert values["m_shape"] == [20, 2]


def test_string_is_stored_as_an_alias_of_character(
    server: Server, admin_token: str, echo: str
) -> None:
    with server.client(admin_token) as client:
        declared = metadata(client, echo, VERSION)["inputParameterDefinitions"]
        swagger = client.get(f"/api/{echo}/{VERSION}/swagger.json").json()
    kinds = {item["name"]: item["type"] for item in declared}  # type: ignore[attr-defined]
    assert kinds["s"] in {"character", "string"}
    properties = swagger["definitions"]["InputParameters"]["properties"]
    assert list(properties) == ["i", "n", "c", "lg", "v", "m", "d", "s"]
    assert swagger["definitions"]["InputParameters"]["required"] == list(properties)
    assert swagger["definitions"]["AccessTokenResponse"]["properties"]["expires_on"] == {
        "type": "integer"
    }
    assert properties["i"]["type"] == "integer"
    assert properties["n"]["type"] == "number"
    assert properties["c"]["type"] == "string"
    assert properties["lg"]["type"] == "boolean"
    assert properties["v"]["type"] == "array"
    assert properties["m"]["type"] == "array"
    assert properties["m"]["items"]["type"] == "array"
    assert properties["d"]["type"] == "object"
    assert properties["s"]["type"] == "string"
    assert {name: spec["description"] for name, spec in properties.items()} == {
        "i": "integer",
        "n": "numeric",
        "c": "character",
        "lg": "logical",
        "v": "vector",
        "m": "matrix",
        "d": "data.frame",
        "s": kinds["s"],
    }


def test_lenient_decoding(server: Server, admin_token: str, echo: str) -> None:
    with server.client(admin_token) as client:
        integral = outputs(client, echo, VERSION, {**GOOD, "i": 7.0, "n": 4, "lg": 1})
        assert integral["o_i"] == 7 and type(integral["o_i"]) is int
        assert integral["o_n"] == 4.0
        assert integral["o_lg"] is True
        assert integral["checks"] == [True] * 8, integral["kinds"]
        zero = outputs(client, echo, VERSION, {**GOOD, "lg": 0})
        assert zero["o_lg"] is False
        falsy = outputs(client, echo, VERSION, {**GOOD, "lg": False})
        assert falsy["o_lg"] is False
        empty = outputs(client, echo, VERSION, {**GOOD, "v": [], "c": ""})
        assert empty["o_v"] == [] and empty["o_c"] == ""


def _refused(client: httpx.Client, name: str, body: object, field: str | None) -> None:
    response = consume_response(client, name, VERSION, body)
    error = assert_error(response, 400, field)
    if field is not None:
        assert field in str(error["message"]), error


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"n": "abc"}, "n"),
        ({"n": None}, "n"),
        ({"n": True}, "n"),
        ({"i": 2.5}, "i"),
        ({"i": "3"}, "i"),
        ({"c": 5}, "c"),
        ({"lg": "yes"}, "lg"),
        ({"lg": 2}, "lg"),
        ({"v": {"a": 1}}, "v"),
        ({"v": "1,2"}, "v"),
        ({"m": [[1, 2], [3]]}, "m"),
        ({"d": [1, 2]}, "d"),
        ({"d": "frame"}, "d"),
        ({"s": ["x"]}, "s"),
    ],
)
def test_wrong_types_are_refused_naming_the_field(
    server: Server, admin_token: str, echo: str, change: dict[str, object], field: str
) -> None:
    with server.client(admin_token) as client:
        _refused(client, echo, {**GOOD, **change}, field)


def test_missing_unknown_and_malformed_bodies(server: Server, admin_token: str, echo: str) -> None:
    with server.client(admin_token) as client:
        missing = {key: value for key, value in GOOD.items() if key != "c"}
        _refused(client, echo, missing, "c")
        _refused(client, echo, {**GOOD, "surplus": 1}, "surplus")
        unknown = consume_response(client, echo, VERSION, {**GOOD, "surplus": 1}).json()
        assert unknown["message"].endswith(f"its inputs are: {', '.join(GOOD)}"), unknown
        _refused(client, echo, [GOOD], "body")
        _refused(client, echo, "text", "body")
        for raw in (b"null", b"", b"{not json"):
            response = client.post(
                f"/api/{echo}/{VERSION}", content=raw, headers={"Content-Type": "application/json"}
            )
            assert_error(response, 400, "body")
        assert consume(client, echo, VERSION, GOOD)["success"] is True


def test_service_without_inputs_takes_an_empty_object(
    server: Server, admin_token: str, new_name: Callable[[str], str]
) -> None:
    name = new_name("NoInputs")
    with server.client(admin_token) as client:
        published(
            client,
            name,
            VERSION,
            "answer = 42",
            outputParameterDefinitions=params(answer="integer"),
        )
        assert outputs(client, name, VERSION, {}) == {"answer": 42}
        _refused(client, name, {"x": 1}, "x")
        surplus = consume_response(client, name, VERSION, {"x": 1}).json()
        assert "it takes no inputs" in surplus["message"], surplus
    with server.client(admin_token) as client:
        published(client, name, "quiet", "print('no outputs')")
        result = consume(client, name, "quiet", {})
    assert result["success"] is True
    assert result["outputParameters"] == {}
    assert result["outputFiles"] == {}
    assert result["consoleOutput"] == "no outputs\n"
