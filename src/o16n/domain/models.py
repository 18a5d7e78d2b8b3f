"""Domain models: frozen dataclasses that every layer speaks."""

from __future__ import annotations

import enum
import hashlib
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
    """An account that can log in; `role` None means it may do nothing.

    `directory_id` is set on the local shadow of a directory (LDAP) user: the directory's
    stable identifier of that person; such an account has no usable local password.
    """

    id: UserId
    username: str
    role: Role | None
    created_at: datetime
    directory_id: str | None = None


@dataclass(frozen=True)
class DirectoryUser:
    """A person as a directory (LDAP) reports them: stable id, login name, mapped role."""

    directory_id: str
    username: str
    role: Role | None


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
class SigningKey:
    """A secret that signs access tokens; `kid` names it in a token's header."""

    kid: str
    secret: bytes


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
class Environment:
    """A Python environment of its own: the requirements declared, the interpreter version and
    the lock resolved from them at publish (exact versions and hashes, pip's format)."""

    requirements: tuple[str, ...]
    python_version: str
    lock: str

    @property
    def id(self) -> str:
        """The environment's name: identical locks on one Python share one environment."""
        digest = hashlib.sha256(f"{self.python_version}\n{self.lock}".encode())
        return digest.hexdigest()[:32]


@dataclass(frozen=True)
class EnvironmentState:
    """Whether an environment can run code on this node: `building`, `ready` or `failed`
    (`message` says why)."""

    state: str
    message: str | None = None


@dataclass(frozen=True)
class EnvironmentUsage:
    """The environments built on this node, the disk they use, and builds under way."""

    count: int
    disk_bytes: int
    building: int


@dataclass(frozen=True)
class Session:
    """A live remote Python interpreter owned by one user."""

    id: SessionId
    name: str
    owner_id: UserId
    owner_name: str
    runtime_type: str
    created_at: datetime
    environment: Environment | None = None


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
    environment: Environment | None = None  # the environment of the session it was taken from


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
    timeout_seconds: float | None = None  # a call's deadline; None: the server's default
    environment: Environment | None = None  # None: the server's own Python


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


class BatchState(enum.StrEnum):
    """The state of a batch execution, as ML Server spells it (reference §14.3)."""

    PENDING = "Pending"
    IN_PROGRESS = "InProgress"
    COMPLETE = "Complete"
    FAILED = "Failed"

    @property
    def finished(self) -> bool:
        """Whether no record of the execution will run any more."""
        return self in (BatchState.COMPLETE, BatchState.FAILED)


class RecordState(enum.StrEnum):
    """Where one record of a batch is: waiting, running (uncommitted) or done with a result."""

    PENDING = "pending"
    RUNNING = "running"
    DONE = "done"


@dataclass(frozen=True)
class BatchExecution:
    """One batch execution of a service version: its owner, progress and state."""

    id: str
    service_name: str
    service_version: str
    owner_id: UserId
    parallel_count: int
    state: BatchState
    total_count: int
    done_count: int
    created_at: datetime
    finished_at: datetime | None


@dataclass(frozen=True)
class Lease:
    """One claim of an execution by a node: a later claim (any node's) has a higher generation,
    so what the holder of an older one commits is refused."""

    execution_id: str
    generation: int


@dataclass(frozen=True)
class RecordResult:
    """The committed result of one record; `files` maps each declared output file to the
    blob holding what the call produced, or None when it produced nothing."""

    success: bool
    error_message: str
    console_output: str
    outputs: dict[str, JsonValue]
    changed_files: list[str]
    files: dict[str, str | None]


@dataclass(frozen=True)
class BatchRecord:
    """One input record of a batch (0-based `position`) and, once done, its result."""

    execution_id: str
    position: int
    inputs: JsonValue
    state: RecordState
    result: RecordResult | None


@dataclass(frozen=True)
class ServiceCapacity:
    """How many calls a version's pool runs at once (`slots`) and may queue (`queue`)."""

    slots: int
    queue: int
