"""Blobs in an S3 bucket (`O16N_BLOB_URL=s3://…`) on a real S3-compatible server."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator

import pytest

from tests.blobs.s3 import ACCESS_KEY, SECRET_KEY, S3Server
from tests.harness import Server
from tests.services.publishing import outputs, params, published, service_name, snapshot_of

BUCKET = "o16n-blobs"


@pytest.fixture(scope="module")
def s3() -> Iterator[S3Server]:
    """One S3 server for the module."""
    running = S3Server.start(BUCKET)
    yield running
    running.stop()


def _s3_settings(s3: S3Server, prefix: str) -> dict[str, str]:
    return {
        "O16N_BLOB_URL": f"s3://{BUCKET}/{prefix}",
        "O16N_BLOB_S3_ENDPOINT_URL": s3.url,
        "O16N_BLOB_S3_REGION": "us-east-1",
        "O16N_BLOB_S3_ACCESS_KEY": ACCESS_KEY,
        "O16N_BLOB_S3_SECRET_KEY": SECRET_KEY,
    }


def test_a_snapshot_lives_in_the_bucket_until_nothing_refers_to_it(
    s3: S3Server, start_server: Callable[..., Server]
) -> None:
    server = start_server(**_s3_settings(s3, "flow"))
    name = service_name("S3Kept")
    with server.client(server.token()) as client:
        snapshot = snapshot_of(client, "kept = 41")
        archive = client.get(f"/snapshots/{snapshot}").content
        blob_id = hashlib.sha256(archive).hexdigest()
        stored = [path.name for path in s3.objects(BUCKET)]
        assert blob_id in stored, stored
        assert not (server.data_dir / "blobs").exists()
        published(
            client,
            name,
            "v1",
            "result = kept + 1",
            snapshotId=snapshot,
            outputParameterDefinitions=params(result="integer"),
        )
        assert outputs(client, name, "v1", {}) == {"result": 42}

        copy = server.data_dir / "cache" / "blobs" / blob_id
        copy.unlink()  # the next read fetches it from S3 and keeps a copy
        assert client.get(f"/snapshots/{snapshot}").content == archive
        assert copy.read_bytes() == archive
        s3.pause()
        try:
            assert client.get(f"/snapshots/{snapshot}").content == archive
        finally:
            s3.resume()

        assert client.delete(f"/snapshots/{snapshot}").status_code == 200
        assert blob_id in [path.name for path in s3.objects(BUCKET)]  # the service refers
        assert client.delete(f"/services/{name}/v1").status_code == 200
        assert blob_id not in [path.name for path in s3.objects(BUCKET)]
        assert not copy.exists()
    assert SECRET_KEY not in server.log()
