"""What the HTTP layer is given by the composition root."""

from __future__ import annotations

from dataclasses import dataclass

from o16n.domain.accounts import Accounts
from o16n.domain.authentication import Authenticator
from o16n.domain.batches import Batches
from o16n.domain.compute_nodes import ComputeNodes
from o16n.domain.realtime import RealtimeServices
from o16n.domain.services import Services
from o16n.domain.sessions import Sessions
from o16n.domain.snapshots import Snapshots
from o16n.domain.status import StatusReporter
from o16n.metrics import Metrics


@dataclass(frozen=True)
class Limits:
    """Request-size limits, in bytes."""

    json_bytes: int
    upload_bytes: int


@dataclass(frozen=True)
class Cluster:
    """With many web nodes: the secret their calls to each other carry, and how long a
    forwarded session request may take."""

    secret: str
    request_seconds: float


@dataclass(frozen=True)
class ApiServices:
    """The domain use cases and limits the routes call."""

    accounts: Accounts
    authenticator: Authenticator
    status: StatusReporter
    sessions: Sessions
    snapshots: Snapshots
    services: Services
    limits: Limits
    batches: Batches
    realtime: RealtimeServices
    metrics: Metrics
    metrics_token: str | None  # a scraper's bearer token for /metrics, besides Owners'
    compute_nodes: ComputeNodes | None = None  # (always given by the composition root)
    cluster: Cluster | None = None  # None: one web node
