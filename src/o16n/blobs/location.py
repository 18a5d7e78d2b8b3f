"""The blob store that Settings name: its filesystem (local or S3) and this node's read cache."""

from __future__ import annotations

from urllib.parse import unquote

from fsspec.core import split_protocol
from fsspec.implementations.local import LocalFileSystem
from pydantic import SecretStr
from s3fs import S3FileSystem

from o16n.blobs.cache import ReadCache
from o16n.blobs.objects import FsspecBlobs
from o16n.settings import Settings


def _secret(value: SecretStr | None) -> str | None:
    return value.get_secret_value() if value is not None else None


def _s3(settings: Settings) -> S3FileSystem:
    """S3 with the configured endpoint and credentials; no listing cache, since other nodes
    add and delete objects."""
    client = {"region_name": settings.blob_s3_region} if settings.blob_s3_region else {}
    return S3FileSystem(
        key=_secret(settings.blob_s3_access_key),
        secret=_secret(settings.blob_s3_secret_key),
        endpoint_url=settings.blob_s3_endpoint_url or None,
        client_kwargs=client,
        use_listings_cache=False,
        skip_instance_cache=True,
    )


def blob_store(settings: Settings) -> FsspecBlobs:
    """The blobs at `settings.blob_url` (default: the folder blobs in the data directory);
    S3 ones with a read cache in the data directory."""
    if settings.blob_url is None:
        return FsspecBlobs(LocalFileSystem(), str(settings.data_dir / "blobs"))
    protocol, path = split_protocol(settings.blob_url)
    if protocol != "s3":
        return FsspecBlobs(LocalFileSystem(), unquote(path))
    cache = None
    if settings.blob_cache_bytes:
        cache = ReadCache(settings.data_dir / "cache" / "blobs", settings.blob_cache_bytes)
    return FsspecBlobs(_s3(settings), path, cache)
