"""Working-directory files and snapshot archives, handled inside the worker."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

from o16n.errors import InvalidInput, NotFound
from tests.runtime.conftest import Runner, Spawner

T = 10.0


def test_files_can_be_put_listed_read_and_deleted(run: Runner, spawn: Spawner) -> None:
    async def scenario() -> None:
        async with spawn() as worker:
            await worker.call("file_put", {"name": "data.csv", "data": b"a,b\n1,2\n"}, T)
            await worker.call("file_put", {"name": "deep/er/notes.txt", "data": b"x"}, T)
            await worker.call("file_put", {"name": "data.csv", "data": b"a,b\n3,4\n"}, T)
            listing = await worker.call("file_list", {}, T)
            assert listing == {"names": ["data.csv", "deep/er/notes.txt"]}
            got = await worker.call("file_get", {"name": "data.csv"}, T)
            assert got == {"data": b"a,b\n3,4\n"}
            code = "import csv\nrows = list(csv.reader(open('data.csv')))"
            result = await worker.execute(code, {}, ["rows"], T)
            assert result.outputs == [("rows", [["a", "b"], ["3", "4"]])]
            await worker.call("file_delete", {"name": "deep/er/notes.txt"}, T)
            assert await worker.call("file_list", {}, T) == {"names": ["data.csv"]}
            for kind in ("file_get", "file_delete"):
                with pytest.raises(NotFound):
                    await worker.call(kind, {"name": "deep/er/notes.txt"}, T)
                with pytest.raises(NotFound):
                    await worker.call(kind, {"name": "deep"}, T)

    run(scenario())


@pytest.mark.parametrize("name", ["../escape", "/etc/passwd", "a//b", "", ".", "a/./b", "a/.."])
def test_file_names_cannot_leave_the_working_directory(
    run: Runner, spawn: Spawner, name: str
) -> None:
    async def scenario() -> None:
        async with spawn() as worker:
            with pytest.raises(InvalidInput):
                await worker.call("file_put", {"name": name, "data": b"x"}, T)
            with pytest.raises(InvalidInput):
                await worker.call("file_get", {"name": name}, T)

    run(scenario())


def test_symlinks_are_never_followed(run: Runner, spawn: Spawner, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("secret")
    code = f"import os\nos.symlink({str(outside)!r}, 'door')\nos.symlink('door/secret.txt', 'key')"

    async def scenario() -> None:
        async with spawn() as worker:
            assert (await worker.execute(code, {}, [], T)).success
            assert await worker.call("file_list", {}, T) == {"names": []}
            for name in ("door/secret.txt", "key"):
                with pytest.raises(NotFound):
                    await worker.call("file_get", {"name": name}, T)
            with pytest.raises(InvalidInput):
                await worker.call("file_put", {"name": "door/planted.txt", "data": b"x"}, T)
            await worker.call("file_put", {"name": "key", "data": b"replaced"}, T)

    run(scenario())
    assert sorted(path.name for path in outside.iterdir()) == ["secret.txt"]
    assert (outside / "secret.txt").read_text() == "secret"


def test_snapshots_carry_objects_and_files_to_another_worker(run: Runner, spawn: Spawner) -> None:
    setup = (
        "import os\nthreshold = 0.5\nlabels = {'a': 1}\nstream = (i for i in [])\n"
        "os.makedirs('models')\nopen('models/readme.txt', 'w').write('v1')"
    )

    async def scenario() -> None:
        async with spawn() as source, spawn() as target:
            assert (await source.execute(setup, {}, [], T)).success
            saved = await source.call("snapshot_save", {}, T)
            assert saved["skipped"] == ["stream"]
            archive = saved["data"]
            assert isinstance(archive, bytes)
            with zipfile.ZipFile(io.BytesIO(archive)) as opened:
                assert sorted(opened.namelist()) == ["files/models/readme.txt", "workspace.dill"]
            await target.execute("threshold = 0.9\nmine = 1", {}, [], T)
            loaded = await target.call("snapshot_load", {"data": archive}, T)
            names = loaded["names"]
            assert isinstance(names, list) and sorted(names) == ["labels", "threshold"]
            assert loaded["files"] == ["models/readme.txt"]
            code = "text = open('models/readme.txt').read()"
            result = await target.execute(code, {}, ["threshold", "mine", "labels", "text"], T)
            assert result.outputs == [
                ("threshold", 0.5),
                ("mine", 1),
                ("labels", {"a": 1}),
                ("text", "v1"),
            ]
            with pytest.raises(InvalidInput):
                await target.call("snapshot_load", {"data": b"not a zip"}, T)

    run(scenario())


def test_snapshot_archives_with_escaping_names_are_refused(run: Runner, spawn: Spawner) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("workspace.dill", b"\x80\x04}\x94.")
        archive.writestr("files/../../escaped.txt", b"x")

    async def scenario() -> None:
        async with spawn() as worker:
            with pytest.raises(InvalidInput, match="not a file name"):
                await worker.call("snapshot_load", {"data": buffer.getvalue()}, T)

    run(scenario())
