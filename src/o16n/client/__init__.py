"""The o16n Python client: sessions, snapshots, publishing and consuming web services."""

from o16n.client.async_client import AsyncClient
from o16n.client.async_service import AsyncService
from o16n.client.async_session import AsyncSession
from o16n.client.batch import AsyncBatch, Batch, BatchStatus
from o16n.client.client import Client
from o16n.client.failure import error_from, request_id_of
from o16n.client.service import Service, ServiceInfo, ServiceResult
from o16n.client.session import ExecuteResult, Session

__all__ = [
    "AsyncBatch",
    "AsyncClient",
    "AsyncService",
    "AsyncSession",
    "Batch",
    "BatchStatus",
    "Client",
    "ExecuteResult",
    "Service",
    "ServiceInfo",
    "ServiceResult",
    "Session",
    "error_from",
    "request_id_of",
]
