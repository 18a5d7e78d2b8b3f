"""Identifier types, id factories and the clock."""

from __future__ import annotations

import secrets
import uuid
from datetime import UTC, datetime
from typing import NewType

UserId = NewType("UserId", str)
SessionId = NewType("SessionId", str)
SnapshotId = NewType("SnapshotId", str)
TokenFamilyId = NewType("TokenFamilyId", str)


def new_guid() -> str:
    """A GUID string, the shape ML Server uses for every generated identifier."""
    return str(uuid.uuid4())


def new_secret(nbytes: int = 32) -> str:
    """An unguessable URL-safe string."""
    return secrets.token_urlsafe(nbytes)


def now() -> datetime:
    """The current time, timezone-aware UTC."""
    return datetime.now(UTC)


def wire_timestamp(moment: datetime) -> str:
    """ISO-8601 UTC without offset, .NET precision (7 digits), as ML Server sends it."""
    utc = moment.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond:06d}0"
