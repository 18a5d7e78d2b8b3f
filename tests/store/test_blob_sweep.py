"""Blobs nothing refers to (left by a crash) are removed at start; referenced ones stay."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

from tests.harness import Server


def _snapshot(server: Server, token: str) -> tuple[str, bytes]:
    with server.client(token) as client:
        session = client.post("/sessions", json={"runtimeType": "Python"}).json()["sessionId"]
        client.post(f"/sessions/{session}/execute", json={"code": "kept = 42"})
        snapshot = client.post(f"/sessions/{session}/snapshot", json={}).json()["snapshotId"]
        client.delete(f"/sessions/{session}")
        return snapshot, client.get(f"/snapshots/{snapshot}").content


def _plant_orphan(blobs: Path) -> Path:
    content = b"left by a crash between a put and its commit"
    blob_id = hashlib.sha256(content).hexdigest()
    (blobs / blob_id[:2]).mkdir(exist_ok=True)
    orphan = blobs / blob_id[:2] / blob_id
    orphan.write_bytes(content)
    return orphan


def test_a_start_removes_orphan_blobs_and_cut_writes_and_keeps_referenced_ones(
    start_server: Callable[..., Server], open_tmp_path: Path
) -> None:
    data = open_tmp_path / "data"
    first = start_server(data)
    snapshot, archive = _snapshot(first, first.token())
    first.kill()
    blobs = data / "blobs"
    orphan = _plant_orphan(blobs)
    cut = blobs / orphan.parent.name / ".incoming-cut"
    cut.write_bytes(b"half")
    second = start_server(data)
    assert not orphan.exists()
    assert not cut.exists()
    with second.client(second.token()) as client:
        assert client.get(f"/snapshots/{snapshot}").content == archive
