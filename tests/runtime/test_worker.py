"""What a worker does with each request kind: execute, workspace objects, snapshots."""

from __future__ import annotations

import os
import pickle
from pathlib import Path

import pytest

from o16n.errors import InvalidInput, NotFound
from tests.runtime.conftest import Runner, Spawner

T = 10.0


def test_execute_binds_inputs_runs_code_and_reads_outputs(run: Runner, spawn: Spawner) -> None:
    async def scenario() -> None:
        async with spawn() as worker:
            result = await worker.execute(
                "total = sum(values) * factor\nprint('total is', total)\nimport sys\n"
                "print('warned', file=sys.stderr)",
                {"values": [1, 2, 3], "factor": 2.5},
                ["total", "values", "missing"],
                T,
            )
            assert result.success, result.error_message
            assert result.outputs == [("total", 15.0), ("values", [1, 2, 3]), ("missing", None)]
            assert result.console_output == "total is 15.0\nwarned\n"
            assert result.error_message == ""

    run(scenario())


def test_state_persists_between_executions(run: Runner, spawn: Spawner) -> None:
    async def scenario() -> None:
        async with spawn() as worker:
            await worker.execute("import math\ndef area(r):\n    return math.pi * r * r", {}, [], T)
            await worker.execute("counter = 1", {}, [], T)
            result = await worker.execute(
                "counter += 1\nround_area = round(area(1), 2)",
                {},
                ["counter", "round_area", "__name__"],
                T,
            )
            assert result.outputs == [
                ("counter", 2),
                ("round_area", 3.14),
                ("__name__", "__main__"),
            ]
            assert await worker.workspace_names(T) == ["area", "counter", "round_area"]

    run(scenario())


def test_user_exceptions_become_a_short_traceback_and_the_worker_lives(
    run: Runner, spawn: Spawner
) -> None:
    async def scenario() -> None:
        async with spawn() as worker:
            result = await worker.execute(
                "print('before')\ndef check(x):\n    raise ValueError(f'bad {x}')\ncheck(3)",
                {},
                [],
                T,
            )
            assert not result.success
            assert result.console_output == "before\n"
            message = result.error_message
            assert message.startswith("Traceback (most recent call last):")
            assert message.endswith("ValueError: bad 3")
            assert "raise ValueError(f'bad {x}')" in message
            assert "worker.py" not in message and "o16n" not in message
            custom = await worker.execute(
                "class QuotaError(Exception):\n    pass\nraise QuotaError('over')", {}, [], T
            )
            assert custom.error_message.endswith("QuotaError: over")
            syntax = await worker.execute("x = (", {}, [], T)
            assert not syntax.success and "SyntaxError" in syntax.error_message
            leaving = await worker.execute("import sys\nsys.exit(3)", {}, [], T)
            assert not leaving.success and leaving.error_message.endswith("SystemExit: 3")
            assert (await worker.execute("ok = 1", {}, ["ok"], T)).outputs == [("ok", 1)]

    run(scenario())


def test_numpy_and_pandas_outputs_are_encoded(run: Runner, spawn: Spawner) -> None:
    code = (
        "import numpy as np, pandas as pd\n"
        "matrix = np.array([[1.5, np.nan], [np.inf, 2.0]])\n"
        "frame = pd.DataFrame({'b': [1, 2], 'a': ['x', 'y']})\n"
        "series = pd.Series([0.25, None])\n"
        "scalar = np.float32(2.5)\n"
        "when = pd.Timestamp('2021-05-06 07:08:09')\n"
    )

    async def scenario() -> None:
        async with spawn() as worker:
            names = ["matrix", "frame", "series", "scalar", "when"]
            result = await worker.execute(code, {}, names, T)
            assert result.success, result.error_message
            assert dict(result.outputs) == {
                "matrix": [[1.5, None], [None, 2.0]],
                "frame": {"b": [1, 2], "a": ["x", "y"]},
                "series": [0.25, None],
                "scalar": 2.5,
                "when": "2021-05-06T07:08:09",
            }

    run(scenario())


def test_an_unencodable_output_fails_the_execution_naming_it(run: Runner, spawn: Spawner) -> None:
    async def scenario() -> None:
        async with spawn() as worker:
            result = await worker.execute("gen = (i for i in [])\nn = 1", {}, ["n", "gen"], T)
            assert not result.success
            assert "'gen'" in result.error_message and "generator" in result.error_message
            assert result.outputs == [("n", 1), ("gen", None)]
            assert (await worker.execute("", {}, ["n"], T)).success

    run(scenario())


def test_bad_input_names_are_invalid_input(run: Runner, spawn: Spawner) -> None:
    async def scenario() -> None:
        async with spawn() as worker:
            for name in ("__builtins__", "not a name", "x-y"):
                with pytest.raises(InvalidInput):
                    await worker.execute("", {name: 1}, [], T)
            assert (await worker.execute("print(len)", {}, [], T)).success

    run(scenario())


def test_changed_files_lists_files_created_or_modified_by_that_call(
    run: Runner, spawn: Spawner
) -> None:
    async def scenario() -> None:
        async with spawn() as worker:
            created = await worker.execute(
                "import os\nos.makedirs('sub/deeper')\nopen('a.txt', 'w').write('1')\n"
                "open('sub/deeper/b.csv', 'w').write('x,y')",
                {},
                [],
                T,
            )
            assert created.changed_files == ["a.txt", "sub/deeper/b.csv"]
            appended = await worker.execute("open('a.txt', 'a').write('23')", {}, [], T)
            assert appended.changed_files == ["a.txt"]
            untouched = await worker.execute("x = open('a.txt').read()", {}, ["x"], T)
            assert untouched.changed_files == [] and untouched.outputs == [("x", "123")]
            written = await worker.execute("open('helper.py', 'w').write('VALUE = 5')", {}, [], T)
            assert written.changed_files == ["helper.py"]
            imported = await worker.execute("import helper\nv = helper.VALUE", {}, ["v"], T)
            assert imported.outputs == [("v", 5)]
            assert imported.changed_files == []

    run(scenario())


def test_workspace_objects_travel_as_dill(run: Runner, spawn: Spawner) -> None:
    import dill

    async def scenario() -> None:
        async with spawn() as worker:
            await worker.workspace_put("model", dill.dumps({"weights": [1, 2]}), T)
            result = await worker.execute("n = len(model['weights'])", {}, ["n"], T)
            assert result.outputs == [("n", 2)]
            assert dill.loads(await worker.workspace_get("model", T)) == {"weights": [1, 2]}
            assert await worker.workspace_names(T) == ["model", "n"]
            await worker.workspace_delete("model", T)
            assert await worker.workspace_names(T) == ["n"]
            with pytest.raises(NotFound):
                await worker.workspace_get("model", T)
            with pytest.raises(NotFound):
                await worker.workspace_delete("model", T)
            with pytest.raises(NotFound):
                await worker.workspace_get("__builtins__", T)
            with pytest.raises(InvalidInput):
                await worker.workspace_put("__main__", dill.dumps(1), T)

    run(scenario())


def test_unpickling_failures_name_the_object_and_the_reason(run: Runner, spawn: Spawner) -> None:
    async def scenario() -> None:
        async with spawn() as worker:
            with pytest.raises(InvalidInput) as missing:
                await worker.workspace_put("model", b"cno_such_module_xyz\nModel\n.", T)
            assert "'model'" in missing.value.message
            assert "No module named 'no_such_module_xyz'" in missing.value.message
            with pytest.raises(InvalidInput, match="garbage"):
                await worker.workspace_put("garbage", b"not a pickle", T)
            await worker.execute("stream = (i for i in range(3))", {}, [], T)
            with pytest.raises(InvalidInput, match="'stream' cannot be pickled"):
                await worker.workspace_get("stream", T)

    run(scenario())


class _WritesPid:
    """A pickle whose loading writes the loading process's pid to pid.txt."""

    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (exec, ("import os\nopen('pid.txt', 'w').write(str(os.getpid()))",))


def test_a_crafted_pickle_runs_in_the_worker_not_in_the_server(
    run: Runner, spawn: Spawner, open_tmp_path: Path
) -> None:
    async def scenario() -> int | None:
        async with spawn() as worker:
            await worker.workspace_put("payload", pickle.dumps(_WritesPid()), T)
            return worker.pid

    worker_pid = run(scenario())
    written = (open_tmp_path / "worker0" / "pid.txt").read_text()
    assert int(written) == worker_pid != os.getpid()


def test_workspace_dump_and_load_move_a_session_between_workers(
    run: Runner, spawn: Spawner
) -> None:
    setup = (
        "import json\nrate = 2\n"
        "def scale(x):\n    return x * rate\n"
        "class Box:\n    def __init__(self, v):\n        self.v = v\n"
        "box = Box(5)\nshared = [1]\nalias = shared\nstream = (i for i in range(3))"
    )

    async def scenario() -> None:
        async with spawn() as source, spawn() as target:
            assert (await source.execute(setup, {}, [], T)).success
            data, skipped = await source.workspace_dump(T)
            assert skipped == ["stream"]
            await target.execute("rate = 100\nkept = 'yes'", {}, [], T)
            names = await target.workspace_load(data, T)
            assert sorted(names) == ["Box", "alias", "box", "rate", "scale", "shared"]
            check = "same = alias is shared\nbefore = scale(box.v)\nrate = 3\nafter = scale(box.v)"
            result = await target.execute(check, {}, ["kept", "same", "before", "after"], T)
            assert result.success, result.error_message
            assert result.outputs == [
                ("kept", "yes"),
                ("same", True),
                ("before", 10),
                ("after", 15),
            ]
            with pytest.raises(InvalidInput):
                await target.workspace_load(b"\x80\x04K\x01.", T)

    run(scenario())
