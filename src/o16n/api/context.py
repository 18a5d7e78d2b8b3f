"""What the HTTP layer is given by the composition root."""

from __future__ import annotations

from dataclasses import dataclass

from o16n.domain.accounts import Accounts
from o16n.domain.authentication import Authenticator
from o16n.domain.status import StatusReporter


@dataclass(frozen=True)
class Limits:
    """Request-size limits, in bytes."""

    json_bytes: int
    upload_bytes: int


@dataclass(frozen=True)
class ApiServices:
    """The domain use cases and limits the routes call."""

    accounts: Accounts
    authenticator: Authenticator
    status: StatusReporter
    limits: Limits
