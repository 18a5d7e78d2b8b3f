"""Protocols the domain needs; store, auth and runtime implement them."""

from __future__ import annotations

from collections.abc import Iterable
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Protocol

from o16n.domain.models import (
    AccessClaims,
    BatchExecution,
    BatchRecord,
    BatchState,
    ConsumeResult,
    DirectoryUser,
    Environment,
    EnvironmentState,
    EnvironmentUsage,
    ExecutionResult,
    JsonValue,
    Lease,
    PoolSize,
    PoolState,
    RecordResult,
    RefreshToken,
    Role,
    ScoringCounts,
    ServiceCapacity,
    ServiceVersion,
    Session,
    SigningKey,
    Snapshot,
    StoredCredentials,
    TokenFamily,
    User,
)
from o16n.ids import SessionId, SnapshotId, TokenFamilyId, UserId


class UserRepository(Protocol):
    """Accounts in the metadata store."""

    def add(self, user: User, password_hash: str) -> None:
        """Insert a new user; raises UserExists on a duplicate name."""

    def by_name(self, username: str) -> StoredCredentials | None:
        """The user of that name with their password hash, or None."""

    def by_id(self, user_id: UserId) -> User | None:
        """The user with that id, or None."""

    def all(self) -> list[User]:
        """Every user, by name."""

    def by_directory_id(self, directory_id: str) -> User | None:
        """The local shadow of a directory user, or None."""

    def rename(self, user_id: UserId, username: str) -> None:
        """Change a user's name (a directory user renamed there); UserExists when taken."""

    def set_role(self, user_id: UserId, role: Role | None) -> None:
        """Change a user's role."""

    def set_password_hash(self, user_id: UserId, password_hash: str) -> None:
        """Replace a user's password hash."""

    def remove(self, user_id: UserId) -> None:
        """Delete a user and everything that only they own."""


class TokenRepository(Protocol):
    """Refresh-token families and their tokens."""

    def add_family(self, family: TokenFamily) -> None:
        """Start a new family (one per login)."""

    def family(self, family_id: TokenFamilyId) -> TokenFamily | None:
        """A family by id, or None."""

    def advance_family(self, family_id: TokenFamilyId, generation: int) -> None:
        """Record that the family's current generation is now `generation`."""

    def revoke_family(self, family_id: TokenFamilyId) -> None:
        """Revoke a family: none of its tokens work any more."""

    def revoke_user_families(self, user_id: UserId) -> None:
        """Revoke every family of a user (password change, removal)."""

    def add_token(self, token: RefreshToken) -> None:
        """Store a refresh token (by hash)."""

    def token(self, token_hash: str) -> RefreshToken | None:
        """A refresh token by the hash of its secret, or None."""

    def mark_used(self, token_hash: str) -> None:
        """Mark a refresh token as rotated."""


class LoginFailureRepository(Protocol):
    """Failed login attempts, for throttling."""

    def record(self, username: str, at: datetime, *, forget_before: datetime) -> None:
        """Remember one failed attempt; forget everybody's attempts older than `forget_before`."""

    def since(self, username: str, since: datetime) -> list[datetime]:
        """Failed attempts for `username` at or after `since`, oldest first."""

    def clear(self, username: str) -> None:
        """Forget the failures of `username` (after a successful login)."""


class UnitOfWork(Protocol):
    """One transaction over every repository."""

    @property
    def users(self) -> UserRepository:
        """Accounts."""

    @property
    def tokens(self) -> TokenRepository:
        """Refresh-token families and tokens."""

    @property
    def login_failures(self) -> LoginFailureRepository:
        """Failed logins."""

    @property
    def snapshots(self) -> SnapshotRepository:
        """Snapshot metadata."""

    @property
    def services(self) -> ServiceRepository:
        """Web-service versions."""

    @property
    def batches(self) -> BatchRepository:
        """Batch executions and their records."""

    @property
    def signing_keys(self) -> SigningKeyRepository:
        """The keys that sign access tokens, shared by every node."""

    @property
    def blobs(self) -> BlobRepository:
        """One row per stored blob: who is about to refer to it, whether it may go."""


class MetadataStore(Protocol):
    """The metadata database: opens units of work and reports its health."""

    def unit_of_work(self) -> AbstractContextManager[UnitOfWork]:
        """A transaction that commits on normal exit and rolls back on an exception."""

    def describe(self) -> dict[str, str]:
        """Backend type, name and state, for /status; raises when the database is down."""


class PasswordHasher(Protocol):
    """Slow, salted password hashing."""

    def hash(self, password: str) -> str:
        """A self-describing hash of `password`."""

    def verify(self, password_hash: str, password: str) -> bool:
        """Whether `password` matches `password_hash`."""

    def dummy_verify(self) -> None:
        """Spend the time of one verification (for unknown users)."""


class IdentitySource(Protocol):
    """A directory (LDAP, Active Directory) that checks passwords and tells roles by group.

    Both methods raise IdentitySourceUnavailable when the directory cannot answer.
    """

    def authenticate(self, username: str, password: str) -> DirectoryUser | None:
        """The person when `password` is theirs; None for an unknown name or a wrong password."""

    def lookup(self, username: str) -> DirectoryUser | None:
        """The person as the directory knows them now (no password), or None when gone."""


class TokenSigner(Protocol):
    """Signed, expiring access tokens."""

    def sign(self, claims: AccessClaims) -> str:
        """A compact token asserting `claims`."""

    def verify(self, token: str) -> AccessClaims:
        """The claims of a valid, unexpired token; raises Unauthenticated otherwise."""


class SigningKeyRepository(Protocol):
    """Token signing keys, oldest first (the newest signs)."""

    def add_first(self, key: SigningKey) -> None:
        """Store `key` as the first key unless there is one (another node may have won)."""

    def all(self) -> list[SigningKey]:
        """Every key, oldest first."""


class BlobRepository(Protocol):
    """Blob rows. A node claims a blob before it stores it or commits a row that refers to
    it, and takes the claim back after that commit; a claim expires at `until` (its node may
    have died). A blob may go when it has no live claim and no row refers to it."""

    def claim(self, blob_id: str, moment: datetime, until: datetime) -> None:
        """Insert the blob's row, or add a claim to it."""

    def hold(self, blob_id: str, moment: datetime, until: datetime) -> bool:
        """Add a claim to a stored blob; False when its row is gone."""

    def unclaim(self, blob_ids: Iterable[str]) -> None:
        """Take back one claim of each blob."""

    def adopt(self, blob_ids: Iterable[str]) -> None:
        """Give stored blobs that have no row an unclaimed one."""

    def unreferenced(self, moment: datetime) -> list[str]:
        """The ids of the blobs that may go at `moment`."""

    def delete_unreferenced(self, blob_id: str, moment: datetime) -> bool:
        """Delete the blob's row if it may go at `moment`, in one statement; whether it went."""


class SnapshotRepository(Protocol):
    """Snapshot metadata rows."""

    def add(self, snapshot: Snapshot) -> None:
        """Insert a snapshot row (its blob is already stored)."""

    def by_id(self, snapshot_id: SnapshotId) -> Snapshot | None:
        """A snapshot by id, or None."""

    def owned_by(self, owner_id: UserId) -> list[Snapshot]:
        """The snapshots of one user, oldest first."""

    def remove(self, snapshot_id: SnapshotId) -> None:
        """Delete a snapshot row."""

    def environment_ids(self) -> set[str]:
        """The ids of the environments that snapshots record."""


class ServiceRepository(Protocol):
    """Web-service versions."""

    def environment_ids(self) -> set[str]:
        """The ids of the environments that versions run on."""

    def add(self, service: ServiceVersion) -> None:
        """Insert a new version; ServiceExists when name and version are taken."""

    def get(self, name: str, version: str) -> ServiceVersion | None:
        """One version, or None."""

    def versions(self, name: str) -> list[ServiceVersion]:
        """Every version of `name`, in publish order."""

    def all(self) -> list[ServiceVersion]:
        """Every version of every service, by name then publish order."""

    def replace(self, service: ServiceVersion) -> None:
        """Overwrite a version's fields and contents."""

    def remove(self, name: str, version: str) -> None:
        """Delete a version."""


class BatchRepository(Protocol):
    """Batch executions, their records (inputs, state, result) and the records' output files."""

    def add(self, execution: BatchExecution, records: list[BatchRecord]) -> None:
        """Insert an execution with every one of its records."""

    def get(self, execution_id: str) -> BatchExecution | None:
        """One execution (with its count of done records), or None."""

    def ids(self, name: str, version: str, owner_id: UserId | None) -> list[str]:
        """Ids of the version's executions (of one owner, or everybody's), oldest first."""

    def finished_before(self, moment: datetime) -> list[str]:
        """Ids of the executions that finished before `moment`."""

    def records(self, execution_id: str) -> list[BatchRecord]:
        """Every record of an execution, by position."""

    def record(self, execution_id: str, position: int) -> BatchRecord | None:
        """One record, or None."""

    def set_state(self, execution_id: str, state: BatchState, finished_at: datetime | None) -> None:
        """Change an execution's state (no-op when it is gone)."""

    def mark_running(self, execution_id: str, positions: list[int]) -> None:
        """Pending records start running (no-op for records that are gone)."""

    def finish(self, execution_id: str, position: int, result: RecordResult) -> bool:
        """Commit a record's result and its files; False when the record is gone."""

    def claim(
        self, holder: str, moment: datetime, until: datetime, execution_id: str | None = None
    ) -> list[Lease]:
        """Lease to `holder` until `until` the unfinished executions (or the one) whose lease
        is absent or expired at `moment`, skipping those another transaction holds; their
        running records go back to pending (whoever ran them is gone)."""

    def hold(self, lease: Lease, holder: str) -> bool:
        """Whether `holder` still holds `lease`; the execution is locked until the commit."""

    def renew(self, holder: str, execution_ids: list[str], until: datetime) -> set[Lease]:
        """Extend `holder`'s leases of those executions to `until`; the leases it still holds."""

    def release(self, holder: str) -> None:
        """Give up every lease of `holder` (another node may claim them at once)."""

    def remove(self, execution_id: str) -> list[str]:
        """Delete an execution, its records and files; the blob ids its files referred to."""


class CapacityGauge(Protocol):
    """How much a service version's pool can take at once (for sharing it with batches)."""

    def capacity(self, name: str, version: str) -> ServiceCapacity:
        """The version's call slots (workers x pipeline depth) and queue length."""


class BlobStore(Protocol):
    """Durable, content-addressed bytes."""

    def put(self, blob_id: str, content: bytes) -> None:
        """Store `content`, whose sha256 hex digest is `blob_id`, readable only when whole."""

    def get(self, blob_id: str) -> bytes:
        """The content of a blob; NotFound when missing."""

    def delete(self, blob_id: str) -> None:
        """Remove a blob."""

    def ids(self) -> list[str]:
        """The ids of every stored blob."""


class Interpreter(Protocol):
    """One isolated Python interpreter (a worker process) with its own working directory."""

    async def execute(
        self, code: str, inputs: dict[str, JsonValue], outputs: list[str]
    ) -> ExecutionResult:
        """Run `code` in the persistent namespace; it joins the history, its console output
        is kept (an empty one when the worker failed)."""

    async def workspace_names(self) -> list[str]:
        """Names of the user objects in the namespace."""

    async def workspace_get(self, name: str) -> bytes:
        """One object, serialized by the worker (dill)."""

    async def workspace_put(self, name: str, data: bytes) -> None:
        """Unpickle `data` inside the worker and bind it as `name`."""

    async def workspace_delete(self, name: str) -> None:
        """Remove an object from the namespace."""

    async def file_names(self) -> list[str]:
        """Files in the working directory."""

    async def file_get(self, name: str) -> bytes:
        """The content of a working-directory file."""

    async def file_put(self, name: str, data: bytes) -> None:
        """Write a working-directory file (overwrites)."""

    async def file_delete(self, name: str) -> None:
        """Delete a working-directory file."""

    async def snapshot(self) -> bytes:
        """The workspace and files as one archive, built inside the worker."""

    async def restore(self, archive: bytes) -> None:
        """Merge an archive made by `snapshot` into the namespace and working directory."""

    def interrupt(self) -> None:
        """Interrupt the running code (KeyboardInterrupt in user code)."""

    async def close(self, *, force: bool = False) -> None:
        """Stop the interpreter (politely, or at once with `force`)."""

    @property
    def alive(self) -> bool:
        """Whether the worker process still runs."""

    async def restart(self) -> None:
        """Replace a crashed or timed-out worker by a fresh one (empty workspace), keeping
        the session and its history; SessionLost when the session's compute node died,
        NotFound when another web node closed it."""

    def used(self) -> None:
        """Note that the session is used now."""

    async def idle_seconds(self) -> float:
        """Seconds since any web node last used the session (0 while code runs)."""

    async def history(self) -> list[str]:
        """The code executed, oldest first."""

    async def console_output(self) -> str:
        """The console output of the last finished execution."""


class InterpreterFactory(Protocol):
    """Starts sessions' interpreters; where they are `shared`, every web node reaches them
    (they outlive the node that started them)."""

    @property
    def shared(self) -> bool:
        """Whether every web node reaches the interpreters of every other."""

    async def start(self, session: Session) -> Interpreter:
        """A new, ready interpreter for `session`, on its environment (built) or on the
        server's Python."""

    async def adopt(
        self, session_id: str, owner_id: UserId | None
    ) -> tuple[Session, Interpreter] | None:
        """A session of `owner_id` (of anybody's with None) another web node started, when
        shared and still running; else None. SessionLost when it was lost with its node."""

    async def session_ids(self) -> list[tuple[SessionId, UserId]]:
        """Each shared session's id and owner (empty when not shared)."""

    async def forget(self, session_id: str) -> None:
        """Drop what is kept of a closed session, a session lost with its node included."""


class SessionDirectory(Protocol):
    """Which node holds each live session, for every node of a cluster (a session lives in
    one node's memory; the others forward its requests there)."""

    def record(self, session: Session) -> None:
        """This node holds `session`."""

    def remove(self, session_ids: list[SessionId]) -> None:
        """These sessions of this node are closed."""

    def node_of(self, session_id: str) -> str | None:
        """The internal URL of the other node that holds the session; None when this node
        does or no node does."""

    def listed(self, owner_id: UserId | None) -> list[Session]:
        """The live sessions of every node (of one owner, when given), oldest first."""

    def forget_this_node(self) -> None:
        """Drop what an earlier run of this node recorded (its sessions ended with it)."""


class EnvironmentBuilder(Protocol):
    """Python environments of their own for versions and sessions, built on this node.

    Resolving decides a lock once (at publish); every node builds the environment of a lock
    it needs on demand, in the background, identical locks sharing one environment.
    """

    def resolve(self, requirements: tuple[str, ...], python_version: str | None) -> Environment:
        """The lock of `requirements` on an installed Python (blocking); InvalidInput naming
        `requirements` or `pythonVersion` with the installer's message when it fails."""

    def build(self, environment: Environment) -> None:
        """Start building it now unless it is built or building (a failed one is retried)."""

    def state(self, environment: Environment) -> EnvironmentState:
        """Whether it is ready here; one neither built, building nor failed starts building."""

    async def ready(self, environment: Environment) -> None:
        """Return once it is built; EnvironmentFailed when the build fails."""

    def usage(self) -> EnvironmentUsage:
        """Environments on this node, their disk use and builds running."""

    def sweep(self, in_use: set[str]) -> int:
        """Remove the environments that nothing in `in_use` names and nothing named for the
        grace period; how many went (blocking)."""


class ServiceRuntime(Protocol):
    """Runs service versions in pools of pre-warmed interpreters.

    A version is prepared once per interpreter (snapshot restored, `init_code` run, `code`
    compiled); each call starts from that post-init state. `revision` changes on every patch,
    so interpreters prepared for an older revision are drained and replaced.
    """

    async def consume(self, service: ServiceVersion, inputs: dict[str, JsonValue]) -> ConsumeResult:
        """One call: inputs already validated against `service.inputs`."""

    async def set_pool(self, service: ServiceVersion, size: PoolSize) -> None:
        """Create or resize the version's dedicated pool (warming in the background)."""

    def pool_state(self, service: ServiceVersion) -> PoolState:
        """The dedicated pool's state."""

    async def drop(self, name: str, version: str) -> None:
        """Drain and stop every interpreter of a version (its dedicated pool was deleted)."""

    def stop(self, name: str, version: str) -> None:
        """Kill every interpreter of a deleted version now; its calls fail (WorkerStopped)."""

    def replaced(self, service: ServiceVersion) -> None:
        """A patch stored `service`: kill now the interpreters running other code, initCode
        or snapshot (their calls fail with WorkerStopped); the next call prepares anew."""


class ModelScorer(Protocol):
    """Scores realtime versions: ONNX models run in this process, calls adaptively batched.

    Loaded models are cached per (name, version, revision); a patch bumps the revision.
    """

    def check(self, model: bytes) -> None:
        """Refuse (InvalidInput, field `model`) bytes that are not a loadable model."""

    async def score(self, service: ServiceVersion, data: JsonValue) -> dict[str, JsonValue]:
        """The output columns for the rows of `data` (a column-wise data.frame or row list)."""

    def drop(self, name: str, version: str) -> None:
        """Forget a version's loaded model (after patch or delete)."""

    def counts(self) -> ScoringCounts:
        """Models loaded, calls answered and runs made so far."""
