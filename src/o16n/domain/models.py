"""Domain models: frozen dataclasses that every layer speaks."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

from o16n.ids import SessionId, SnapshotId, TokenFamilyId, UserId


class Role(enum.StrEnum):
    """ML Server's roles; a higher rank includes every right of a lower one."""

    OWNER = "Owner"
    CONTRIBUTOR = "Contributor"
    READER = "Reader"

    @property
    def rank(self) -> int:
        """Owner 3 > Contributor 2 > Reader 1."""
        return {Role.OWNER: 3, Role.CONTRIBUTOR: 2, Role.READER: 1}[self]

    @classmethod
    def parse(cls, text: str) -> Role:
        """The role named `text`, case-insensitively; ValueError otherwise."""
        for role in cls:
            if role.value.lower() == text.strip().lower():
                return role
        raise ValueError(f"unknown role {text!r}: use Owner, Contributor or Reader")


@dataclass(frozen=True)
class User:
    """An account that can log in; `role` None means it may do nothing."""

    id: UserId
    username: str
    role: Role | None
    created_at: datetime


@dataclass(frozen=True)
class StoredCredentials:
    """A user together with the hash of their password (never leaves the domain)."""

    user: User
    password_hash: str


@dataclass(frozen=True)
class Principal:
    """The authenticated caller of one request."""

    user_id: UserId
    username: str
    role: Role | None
    family_id: TokenFamilyId


@dataclass(frozen=True)
class TokenFamily:
    """A chain of refresh tokens born from one login; `generation` counts rotations."""

    id: TokenFamilyId
    user_id: UserId
    started_at: datetime
    generation: int
    revoked: bool


@dataclass(frozen=True)
class RefreshToken:
    """One refresh token of a family, stored by the hash of its secret."""

    token_hash: str
    family_id: TokenFamilyId
    generation: int
    expires_at: datetime
    used: bool


@dataclass(frozen=True)
class AccessClaims:
    """What a signed access token asserts."""

    user_id: UserId
    username: str
    family_id: TokenFamilyId
    generation: int
    expires_on: int


@dataclass(frozen=True)
class TokenPair:
    """The answer to a login or a refresh."""

    access_token: str
    expires_in: int
    expires_on: int
    refresh_token: str
    token_type: str = "Bearer"


JsonValue = None | bool | int | float | str | list["JsonValue"] | dict[str, "JsonValue"]


@dataclass(frozen=True)
class Session:
    """A live remote Python interpreter owned by one user."""

    id: SessionId
    name: str
    owner_id: UserId
    owner_name: str
    runtime_type: str
    created_at: datetime


@dataclass(frozen=True)
class ExecutionResult:
    """What one execution of code in an interpreter produced."""

    success: bool
    console_output: str
    error_message: str
    outputs: list[tuple[str, JsonValue]]
    changed_files: list[str]


@dataclass(frozen=True)
class Snapshot:
    """A stored image of a session: its workspace and working-directory files."""

    id: SnapshotId
    name: str | None
    owner_id: UserId
    owner_name: str
    created_at: datetime
    content_size: int
    blob_id: str
    session_id: str | None


class ParameterType(enum.StrEnum):
    """ML Server's parameter types (reference §15)."""

    INTEGER = "integer"
    NUMERIC = "numeric"
    CHARACTER = "character"
    LOGICAL = "logical"
    VECTOR = "vector"
    MATRIX = "matrix"
    DATA_FRAME = "data.frame"

    @classmethod
    def parse(cls, text: str) -> ParameterType:
        """The type named `text`; `string` is accepted as `character` (the seed uses it)."""
        if text == "string":
            return cls.CHARACTER
        return cls(text)


@dataclass(frozen=True)
class Parameter:
    """A declared input or output of a service."""

    name: str
    type: ParameterType


@dataclass(frozen=True)
class Batching:
    """Adaptive batching of a realtime version: calls merged into one run, up to `max_rows`
    rows, waiting at most `max_wait_ms` for more (0: only what queued meanwhile)."""

    max_rows: int
    max_wait_ms: float


@dataclass(frozen=True)
class ServiceVersion:
    """One published version of a web service (Python code, or a realtime ONNX model)."""

    name: str
    version: str
    revision: int
    code: str
    init_code: str | None
    description: str | None
    operation_id: str | None
    inputs: tuple[Parameter, ...]
    outputs: tuple[Parameter, ...]
    output_file_names: tuple[str, ...]
    runtime_type: str
    snapshot_id: str | None
    blob_ids: tuple[str, ...]
    publisher_id: UserId | None
    publisher_name: str
    created_at: datetime
    updated_at: datetime
    source_session_id: str | None
    batching: Batching | None = None  # realtime versions only (their model is blob_ids[0])


@dataclass(frozen=True)
class ConsumeResult:
    """What one call of a service produced (outputs already encoded as JSON)."""

    success: bool
    error_message: str
    console_output: str
    outputs: dict[str, JsonValue]
    output_files: dict[str, bytes | None]
    changed_files: list[str]


@dataclass(frozen=True)
class ScoringCounts:
    """Realtime scoring on this node: models loaded, calls answered, model runs made."""

    models: int
    calls: int
    runs: int


@dataclass(frozen=True)
class PoolSize:
    """Requested size of a version's dedicated pool."""

    initial: int
    maximum: int


@dataclass(frozen=True)
class PoolState:
    """What a version's pool looks like now: `Success` (ready), `Pending` or `NotFound`."""

    status: str
    workers: int
    busy: int
