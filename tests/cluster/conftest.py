"""A cluster of two web nodes on 127.0.0.1: one PostgreSQL, one S3-compatible object store,
one cluster secret, and a real HAProxy balancing round-robin in front of them."""

from __future__ import annotations

import secrets
import shutil
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from tests.blobs.s3 import ACCESS_KEY, SECRET_KEY, S3Server
from tests.cluster.balancer import Balancer
from tests.harness import Server, traversable_tmp_dir
from tests.postgres import Postgres

BUCKET = "o16n-cluster"


@dataclass
class Cluster:
    """The two nodes and the balancer in front of them."""

    nodes: list[Server]
    balancer: Balancer
    secret: str


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    """Started once for the module (node 0 first: it creates the schema)."""
    postgres = Postgres.start()
    s3 = S3Server.start(BUCKET)
    root = traversable_tmp_dir("o16n-cluster-")
    secret = secrets.token_urlsafe(24)
    settings = {
        "O16N_DATABASE_URL": postgres.database("cluster"),
        "O16N_BLOB_URL": f"s3://{BUCKET}/blobs",
        "O16N_BLOB_S3_ENDPOINT_URL": s3.url,
        "O16N_BLOB_S3_REGION": "us-east-1",
        "O16N_BLOB_S3_ACCESS_KEY": ACCESS_KEY,
        "O16N_BLOB_S3_SECRET_KEY": SECRET_KEY,
        "O16N_CLUSTER_SECRET": secret,
        "O16N_ENV_NO_INDEX": "true",
    }
    nodes: list[Server] = []
    balancer: Balancer | None = None
    try:
        for index in range(2):
            node = Server(root / f"node{index}", env=settings, own_socket=True)
            nodes.append(node.start())
        balancer = Balancer.start([node.url for node in nodes])
        yield Cluster(nodes, balancer, secret)
    finally:
        if balancer is not None:
            balancer.stop()
        for node in nodes:
            node.stop()
        s3.stop()
        postgres.stop()
        shutil.rmtree(root, ignore_errors=True)
