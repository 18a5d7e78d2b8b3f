"""A worker prepared for a service: snapshot, initCode once, typed inputs and outputs per call."""

from __future__ import annotations

from typing import Any

import pytest

from o16n.errors import InvalidInput, WorkerError
from o16n.runtime.arrays import packed_payload
from o16n.runtime.pipeline import reply_code
from o16n.runtime.process import WorkerProcess
from tests.runtime.conftest import Runner, Spawner

T = 20.0


def prepare_payload(
    code: str,
    init: str | None = None,
    inputs: list[tuple[str, str]] | None = None,
    outputs: list[tuple[str, str]] | None = None,
    *,
    files: list[str] | None = None,
    archives: list[bytes] | None = None,
) -> dict[str, object]:
    """A service_prepare payload."""
    return {
        "archives": archives or [],
        "init_code": init,
        "code": code,
        "inputs": [list(pair) for pair in inputs or []],
        "outputs": [list(pair) for pair in outputs or []],
        "output_files": files or [],
    }


async def consume(worker: WorkerProcess, **inputs: object) -> dict[str, Any]:
    """One consume call's reply payload."""
    return await worker.call("consume", {"inputs": inputs}, T)


async def snapshot(worker: WorkerProcess, code: str, files: dict[str, bytes]) -> bytes:
    """The archive of a session worker after running `code` and writing `files`."""
    assert (await worker.execute(code, {}, [], T)).success
    for name, data in files.items():
        await worker.call("file_put", {"name": name, "data": data}, T)
    reply = await worker.call("snapshot_save", {}, T)
    assert isinstance(reply["data"], bytes)
    return reply["data"]


TYPED_CODE = """
kinds = ",".join(type(v).__name__ for v in (i, n, c, l, v, m, cols, rows))
shape = list(m.shape) + list(cols.shape) + list(rows.shape)
i2, n2, c2, l2, v2, m2, cols2, rows2 = i, n, c, l, v * 2, m, cols, rows
flat = numpy.array([1.0, 2.0])
nan = float("nan")
holes = numpy.array([1.0, numpy.nan])
scalar = numpy.float32(1.5)
"""
TYPED_INPUTS = [
    ("i", "integer"),
    ("n", "numeric"),
    ("c", "character"),
    ("l", "logical"),
    ("v", "vector"),
    ("m", "matrix"),
    ("cols", "data.frame"),
    ("rows", "data.frame"),
]
TYPED_OUTPUTS = [
    ("kinds", "character"),
    ("shape", "vector"),
    ("i2", "integer"),
    ("n2", "numeric"),
    ("c2", "character"),
    ("l2", "logical"),
    ("v2", "vector"),
    ("m2", "matrix"),
    ("cols2", "data.frame"),
    ("rows2", "data.frame"),
    ("flat", "matrix"),
    ("nan", "numeric"),
    ("holes", "vector"),
    ("scalar", "numeric"),
    ("missing", "integer"),
]


def test_every_type_round_trips(run: Runner, spawn: Spawner) -> None:
    async def scenario() -> None:
        async with spawn() as worker:
            payload = prepare_payload(TYPED_CODE, "import numpy", TYPED_INPUTS, TYPED_OUTPUTS)
            assert await worker.call("service_prepare", payload, T) == {}
            reply = await consume(
                worker,
                i=3,
                n=2.5,
                c="text",
                l=True,
                v=[1, 2.5],
                m=[[1, 2], [3, 4]],
                cols={"a": [1, 2], "b": ["x", None]},
                rows=[{"a": 1, "b": "x"}, {"a": 2}],
            )
            assert reply["success"], reply["errorMessage"]
            out = reply["outputs"]
            assert out["kinds"] == "int,float,str,bool,ndarray,matrix,DataFrame,DataFrame"
            assert out["shape"] == [2, 2, 2, 2, 2, 2]
            assert (out["i2"], out["n2"], out["c2"], out["l2"]) == (3, 2.5, "text", True)
            assert out["v2"] == [2.0, 5.0]
            assert out["m2"] == [[1, 2], [3, 4]]
            assert out["cols2"] == {"a": [1, 2], "b": ["x", None]}
            assert out["rows2"] == {"a": [1, 2], "b": ["x", None]}
            assert out["flat"] == [[1.0, 2.0]]  # a 1-D matrix output becomes one row
            assert out["nan"] is None and out["holes"] == [1.0, None]
            assert out["scalar"] == 1.5 and out["missing"] is None
            assert reply["outputFiles"] == {} and reply["changedFiles"] == []

    run(scenario())


def test_a_single_row_object_is_a_one_row_data_frame(run: Runner, spawn: Spawner) -> None:
    async def scenario() -> None:
        async with spawn() as worker:
            outputs = [("n", "integer"), ("hp", "numeric")]
            code = "n = len(df)\nhp = float(df.hp[0])"
            payload = prepare_payload(code, None, [("df", "data.frame")], outputs)
            await worker.call("service_prepare", payload, T)
            reply = await consume(worker, df={"hp": 120, "wt": 2.8})
            assert reply["outputs"] == {"n": 1, "hp": 120.0}

    run(scenario())


def test_each_call_starts_from_the_post_init_globals(run: Runner, spawn: Spawner) -> None:
    init = "import os\ncounter = 0\ndef double():\n    return x * 2\n"
    code = "counter += 1\nseen = 'leftover' in globals()\nleftover = 1\ny = double()\n"
    outputs = [("counter", "integer"), ("seen", "logical"), ("y", "integer")]

    async def scenario() -> None:
        async with spawn() as worker:
            payload = prepare_payload(code, init, [("x", "integer")], outputs)
            await worker.call("service_prepare", payload, T)
            for x in (1, 2, 3):
                reply = await consume(worker, x=x)
                # functions of initCode see the call's inputs as globals
                assert reply["outputs"] == {"counter": 1, "seen": False, "y": 2 * x}

    run(scenario())


def test_init_code_runs_once_and_its_output_is_not_the_call_output(
    run: Runner, spawn: Spawner
) -> None:
    init = "print('initializing')\nopen('init.log', 'a').write('ran\\n')"

    async def scenario() -> None:
        async with spawn() as worker:
            await worker.call("service_prepare", prepare_payload("print('call')", init), T)
            for _ in range(3):
                reply = await consume(worker)
                assert reply["consoleOutput"] == "call\n"
            log = await worker.call("file_get", {"name": "init.log"}, T)
            assert log == {"data": b"ran\n"}

    run(scenario())


def test_snapshot_objects_and_files_are_visible_later_archives_win(
    run: Runner, spawn: Spawner
) -> None:
    code = "y = scale(x)\ntext = open('data/table.txt').read()"
    outputs = [("y", "numeric"), ("text", "character")]

    async def scenario() -> None:
        async with spawn() as session:
            first = await snapshot(
                session,
                "def scale(v):\n    return v * factor\nfactor = 3",
                {"data/table.txt": b"old"},
            )
            second = await snapshot(session, "factor = 4", {"data/table.txt": b"new"})
        async with spawn() as worker:
            payload = prepare_payload(
                code, None, [("x", "numeric")], outputs, archives=[first, second]
            )
            await worker.call("service_prepare", payload, T)
            reply = await consume(worker, x=2)
            assert reply["outputs"] == {"y": 8.0, "text": "new"}

    run(scenario())


def test_declared_output_files_are_read_and_a_stale_one_never_returned(
    run: Runner, spawn: Spawner
) -> None:
    code = "if write:\n    open('out.txt', 'w').write(f'value {write}')"

    async def scenario() -> None:
        async with spawn() as worker:
            payload = prepare_payload(
                code, None, [("write", "logical")], files=["out.txt", "b.png"]
            )
            await worker.call("service_prepare", payload, T)
            produced = await consume(worker, write=True)
            assert produced["outputFiles"] == {"out.txt": b"value True", "b.png": None}
            assert produced["changedFiles"] == ["out.txt"]
            stale = await consume(worker, write=False)
            assert stale["outputFiles"] == {"out.txt": None, "b.png": None}
            assert stale["changedFiles"] == []

    run(scenario())


def test_user_exceptions_are_unsuccessful_results_and_the_worker_lives(
    run: Runner, spawn: Spawner
) -> None:
    code = (
        "print('before')\n"
        "def check(v):\n    if v == 3:\n        raise ValueError(f'bad {v}')\n"
        "    if v == 4:\n        raise SystemExit(1)\n    return v\n"
        "y = check(x)"
    )

    async def scenario() -> None:
        async with spawn() as worker:
            payload = prepare_payload(code, None, [("x", "integer")], [("y", "integer")])
            await worker.call("service_prepare", payload, T)
            failed = await consume(worker, x=3)
            assert not failed["success"] and failed["consoleOutput"] == "before\n"
            message = failed["errorMessage"]
            assert message.startswith("Traceback (most recent call last):")
            assert message.endswith("ValueError: bad 3")
            assert "raise ValueError(f'bad {v}')" in message and "<code>" in message
            assert "service.py" not in message and "o16n" not in message
            assert failed["outputs"] == {"y": None}
            leaving = await consume(worker, x=4)
            assert not leaving["success"] and "SystemExit" in leaving["errorMessage"]
            assert (await consume(worker, x=5))["outputs"] == {"y": 5}

    run(scenario())


def test_a_syntax_error_in_code_fails_every_call(run: Runner, spawn: Spawner) -> None:
    async def scenario() -> None:
        async with spawn() as worker:
            await worker.call("service_prepare", prepare_payload("y = ("), T)
            for _ in range(2):
                reply = await consume(worker)
                assert not reply["success"] and "SyntaxError" in reply["errorMessage"]

    run(scenario())


def test_an_init_code_failure_is_the_init_failed_reply(run: Runner, spawn: Spawner) -> None:
    async def scenario() -> None:
        async with spawn() as worker:
            payload = prepare_payload("y = 1", "import math\nmath.sqrt(-1)")
            with pytest.raises(WorkerError) as failure:
                await worker.call("service_prepare", payload, T)
            assert reply_code(failure.value) == "init_failed"
            assert 'File "<initCode>", line 2' in failure.value.message
            assert failure.value.message.endswith("ValueError: math domain error")

    run(scenario())


def test_an_unpicklable_snapshot_names_the_object_and_the_missing_module(
    run: Runner, spawn: Spawner
) -> None:
    module = b"class Thing:\n    pass\n"
    code = "import mymod\nfirst = 1\nthing = mymod.Thing()\nlast = 2\ndel mymod"

    async def scenario() -> None:
        async with spawn() as session:
            await session.call("file_put", {"name": "mymod.py", "data": module}, T)
            assert (await session.execute(code, {}, [], T)).success
            await session.call("file_delete", {"name": "mymod.py"}, T)
            archive = await snapshot(session, "", {})
        async with spawn() as worker:
            payload = prepare_payload("y = 1", archives=[archive])
            with pytest.raises(InvalidInput) as failure:
                await worker.call("service_prepare", payload, T)
            assert reply_code(failure.value) == "unpickle_failed"
            assert failure.value.message == (
                "cannot unpickle object 'thing' of the snapshot: "
                "ModuleNotFoundError: No module named 'mymod'"
            )

    run(scenario())


def test_requests_out_of_order_or_malformed_are_refused(run: Runner, spawn: Spawner) -> None:
    async def scenario() -> None:
        async with spawn() as worker:
            with pytest.raises(InvalidInput, match="not prepared"):
                await consume(worker)
            with pytest.raises(InvalidInput, match="unknown type"):
                await worker.call("service_prepare", prepare_payload("", None, [("x", "date")]), T)
            payload = prepare_payload("y = m", None, [("m", "matrix")], [("y", "matrix")])
            await worker.call("service_prepare", payload, T)
            with pytest.raises(InvalidInput, match="already prepared"):
                await worker.call("service_prepare", payload, T)
            with pytest.raises(InvalidInput, match=r"missing inputs \['m'\]"):
                await consume(worker)
            with pytest.raises(InvalidInput, match="input 'm'"):
                await consume(worker, m=[[1], [1, 2]])
            assert (await consume(worker, m=[[1]]))["outputs"] == {"y": [[1]]}

    run(scenario())


def test_blank_workers_preload_modules_and_report_missing_ones(run: Runner, spawn: Spawner) -> None:
    async def scenario() -> None:
        async with spawn() as worker:
            reply = await worker.call("preload", {"modules": ["colorsys", "no_such_module"]}, T)
            missing = "no_such_module: ModuleNotFoundError: No module named 'no_such_module'"
            assert reply == {"failed": [missing]}
            code = "y = 'colorsys' in sys.modules"
            payload = prepare_payload(code, "import sys", [], [("y", "logical")])
            await worker.call("service_prepare", payload, T)
            assert (await consume(worker))["outputs"] == {"y": True}

    run(scenario())


def test_packed_arrays_are_rebuilt_and_malformed_ones_refused(run: Runner, spawn: Spawner) -> None:
    async def scenario() -> None:
        async with spawn() as worker:
            code = "m[0, 0] = 9\ny = [str(m.dtype), type(m).__name__, list(m.shape), m.tolist()]"
            payload = prepare_payload(code, None, [("m", "matrix")], [("y", "vector")])
            await worker.call("service_prepare", payload, T)
            packed = packed_payload({"m": [[1.5, 2.0]] * 16}, {"m": "matrix"})
            assert set(packed) == {"inputs", "arrays"} and packed["inputs"] == {}
            reply = await worker.call("consume", packed, T)
            rows = [[9.0, 2.0]] + [[1.5, 2.0]] * 15
            assert reply["outputs"] == {"y": ["float64", "matrix", [16, 2], rows]}
            for bad in (
                ["<f8", [3, 2], b"\0" * 8],  # fewer bytes than its shape
                [">f8", [1], b"\0" * 8],  # a dtype the protocol does not carry
                ["<f8", [-1], b""],
                "not a list",
            ):
                with pytest.raises(InvalidInput, match="array 'm'"):
                    await worker.call("consume", {"inputs": {}, "arrays": {"m": bad}}, T)

    run(scenario())


def test_only_large_float_and_int_arrays_of_the_declared_shape_are_packed() -> None:
    kinds = {"v": "vector", "m": "matrix"}
    long_ints, short = list(range(16)), [1.5] * 15
    packed = packed_payload({"v": long_ints, "m": [long_ints] * 16, "x": 1}, kinds)
    assert packed["inputs"] == {"x": 1} and set(packed["arrays"]) == {"v", "m"}
    for left_as_json in (
        {"v": short, "m": [[1.0]] * 15},  # too short to gain anything
        {"v": [True] * 16, "m": [["a"]] * 16},  # bool and str dtypes
        {"v": [[1.0]] * 16, "m": [1.0] * 16},  # not the declared number of dimensions
        {"v": [2**70] * 16, "m": [[1], [1, 2]] * 8},  # beyond int64, ragged
    ):
        assert packed_payload(left_as_json, kinds) == {"inputs": left_as_json}
