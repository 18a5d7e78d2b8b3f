"""Request and response models in ML Server's wire format."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, JsonValue, WithJsonSchema

from o16n.domain.models import TokenPair

MAX_OBJECT_NAME = 256

AnyJson = Annotated[JsonValue, WithJsonSchema({"description": "Any JSON value."})]


class WireModel(BaseModel):
    """Base of every wire model: unknown members are refused."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class LoginRequest(WireModel):
    """POST /login."""

    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=1024)


class RenewTokenRequest(WireModel):
    """POST /login/refreshToken."""

    refreshToken: str = Field(min_length=1, max_length=1024)  # noqa: N815 - wire name


class AccessTokenResponse(WireModel):
    """The token pair; the members are snake_case on the wire."""

    token_type: str
    access_token: str
    expires_in: int
    expires_on: int
    refresh_token: str

    @classmethod
    def of(cls, pair: TokenPair) -> AccessTokenResponse:
        """The wire form of a token pair."""
        return cls(
            token_type=pair.token_type,
            access_token=pair.access_token,
            expires_in=pair.expires_in,
            expires_on=pair.expires_on,
            refresh_token=pair.refresh_token,
        )


class StatusResponse(WireModel):
    """A node of the health tree of GET /status; a leaf has no components ({}, not null:
    Microsoft's document types them as an object)."""

    statusCode: Literal["pass", "warn", "fail"]  # noqa: N815 - wire name
    components: dict[str, StatusResponse] = Field(default_factory=dict)
    details: dict[str, str | int | float | bool | None] = Field(default_factory=dict)


class Error(WireModel):
    """Every error answer."""

    message: str
    exceptionType: str  # noqa: N815 - wire name
    code: int
    errorCode: str  # noqa: N815 - wire name
    requestId: str  # noqa: N815 - wire name
    field: str | None = None


Requirements = list[Annotated[str, Field(max_length=256)]]


class CreateSessionRequest(WireModel):
    """POST /sessions; every member is optional."""

    name: str | None = Field(default=None, max_length=256)
    runtimeType: str | None = None  # noqa: N815 - wire name
    snapshotId: str | None = None  # noqa: N815 - wire name
    requirements: Requirements | None = None  # o16n: packages of the session's environment
    pythonVersion: str | None = Field(default=None, max_length=16)  # noqa: N815 - o16n


class CreateSessionResponse(WireModel):
    """The id of a new session."""

    sessionId: str  # noqa: N815 - wire name


class SessionInfo(WireModel):
    """One session, as GET /sessions lists it."""

    id: str
    name: str
    owner: str
    runtimeType: str  # noqa: N815 - wire name
    creationTime: str  # noqa: N815 - wire name


class WorkspaceObject(WireModel):
    """A named JSON value crossing into or out of a session."""

    name: str = Field(min_length=1, max_length=MAX_OBJECT_NAME)
    value: AnyJson = None


class ExecuteRequest(WireModel):
    """POST /sessions/{id}/execute."""

    code: str
    inputParameters: list[WorkspaceObject] = Field(default_factory=list)  # noqa: N815
    outputParameters: list[str] = Field(default_factory=list)  # noqa: N815


class ExecuteResponse(WireModel):
    """The result of an execution (also when the code raised)."""

    success: bool
    errorMessage: str  # noqa: N815 - wire name
    consoleOutput: str  # noqa: N815 - wire name
    changedFiles: list[str]  # noqa: N815 - wire name
    outputParameters: list[WorkspaceObject]  # noqa: N815 - wire name


class ConsoleOutputResponse(WireModel):
    """GET /sessions/{id}/console-output."""

    consoleOutput: str  # noqa: N815 - wire name


class CreateSnapshotRequest(WireModel):
    """POST /sessions/{id}/snapshot; the azureml SDK sends {"name": null}."""

    name: str | None = Field(default=None, max_length=256)


class CreateSnapshotResponse(WireModel):
    """The id of a new snapshot."""

    snapshotId: str  # noqa: N815 - wire name


class SnapshotInfo(WireModel):
    """One snapshot, as GET /snapshots lists it ("" for a snapshot without a name)."""

    id: str
    name: str
    owner: str
    creationTime: str  # noqa: N815 - wire name
    contentSize: int  # noqa: N815 - wire name


class ParameterDefinition(WireModel):
    """A declared input or output: a name and one of ML Server's types."""

    name: str = Field(max_length=256)
    type: str = Field(max_length=64)


class PublishWebServiceRequest(WireModel):
    """Publish (code required) and patch (any subset) of a Python web service."""

    code: str | None = None
    initCode: str | None = None  # noqa: N815 - wire name
    snapshotId: str | None = None  # noqa: N815 - wire name
    description: str | None = None
    operationId: str | None = Field(default=None, max_length=128)  # noqa: N815 - wire name
    inputParameterDefinitions: list[ParameterDefinition] | None = None  # noqa: N815
    outputParameterDefinitions: list[ParameterDefinition] | None = None  # noqa: N815
    outputFileNames: list[str] | None = None  # noqa: N815 - wire name
    runtimeType: str | None = None  # noqa: N815 - wire name
    timeoutSeconds: float | None = None  # noqa: N815 - o16n: a call's deadline (504 after it)
    requirements: Requirements | None = None  # o16n: packages of the version's environment
    pythonVersion: str | None = Field(default=None, max_length=16)  # noqa: N815 - o16n


class EnvironmentInfo(WireModel):
    """o16n: the Python environment of its own that a version runs on."""

    id: str
    requirements: list[str]
    pythonVersion: str  # noqa: N815 - o16n
    lock: str  # exact versions and hashes, decided at publish (pip's requirements format)


class WebService(WireModel):
    """One version of a web service, as the list and get routes show it. The members that
    Microsoft's document types as strings are "" when there is nothing to show (unset, or
    code hidden from the caller), never null; but for `operationId`, left out when unset (as
    Microsoft's SDK reads it: absent or null means its method is `consume`)."""

    name: str
    version: str
    versionPublishedBy: str  # noqa: N815 - wire name
    creationTime: str  # noqa: N815 - wire name
    updateTime: str  # noqa: N815 - wire name
    snapshotId: str  # noqa: N815 - wire name
    runtimeType: str  # noqa: N815 - wire name
    serviceType: str  # noqa: N815 - o16n: "Standard" (Python code) or "Realtime" (ONNX model)
    initCode: str  # noqa: N815 - wire name
    code: str
    description: str
    operationId: str | None = None  # noqa: N815 - wire name (left out when None)
    inputParameterDefinitions: list[ParameterDefinition]  # noqa: N815 - wire name
    outputParameterDefinitions: list[ParameterDefinition]  # noqa: N815 - wire name
    outputFileNames: list[str]  # noqa: N815 - wire name
    myPermissionOnService: str  # noqa: N815 - wire name
    sourceSessionId: str | None  # noqa: N815 - wire name (o16n lineage)
    revision: int
    maxBatchSize: int | None = None  # noqa: N815 - o16n: realtime batching (rows per run)
    maxBatchWaitMs: float | None = None  # noqa: N815 - o16n: realtime batching (wait, ms)
    timeoutSeconds: float  # noqa: N815 - o16n: how long one call may run (504 after it)
    state: Literal["building", "ready", "failed"] = "ready"  # o16n: can it be called here?
    stateMessage: str | None = None  # noqa: N815 - o16n: why it failed
    environment: EnvironmentInfo | None = None  # o16n: null: the server's own Python


class CreateOrUpdateServicePoolRequest(WireModel):
    """POST /services/{name}/{version}/pool."""

    InitialPoolSize: int = Field(default=0, ge=0)
    MaxPoolSize: int = Field(default=1, ge=0)


class ServicePoolStatus(WireModel):
    """A version's dedicated pool on one compute node."""

    computeNodeEndpoint: str  # noqa: N815 - wire name
    status: str


class CallStatsBucket(WireModel):
    """o16n: the calls of one bucket of a version's last hour (those with calls only)."""

    start: str  # ISO-8601 UTC
    calls: int
    errors: int
    p50Ms: float  # noqa: N815 - o16n: latency percentiles, estimated, in milliseconds
    p95Ms: float  # noqa: N815 - o16n
    p99Ms: float  # noqa: N815 - o16n


class CallStats(WireModel):
    """o16n: GET /services/{name}/{version}/stats, the calls this web node answered."""

    bucketSeconds: int  # noqa: N815 - o16n: the width of a bucket
    windowStart: str  # noqa: N815 - o16n: ISO-8601 UTC, an hour before windowEnd
    windowEnd: str  # noqa: N815 - o16n: the end of the current bucket
    buckets: list[CallStatsBucket]  # oldest first


class ComputeNodeState(WireModel):
    """o16n: one compute node as the runtime sees it."""

    address: str
    alive: bool
    cpus: float
    memoryBytes: int  # noqa: N815 - o16n
    interpreters: int  # this web node's interpreters on it


class GetComputeNodesResponse(WireModel):
    """GET /computenodes: the entries (every node's address when none restricts placement)."""

    computeNodes: list[str]  # noqa: N815 - wire name
    nodes: list[ComputeNodeState]  # o16n: each node's state


class UpdateComputeNodesRequest(WireModel):
    """POST, PUT and DELETE /computenodes: node addresses."""

    entries: list[Annotated[str, Field(max_length=512)]] = Field(max_length=1000)


RoleName = Literal["Owner", "Contributor", "Reader"]


class UserInfo(WireModel):
    """o16n: one account as GET /users lists it (role null: it may do nothing)."""

    username: str
    role: RoleName | None
    source: Literal["local", "ldap"]  # ldap: the shadow of a directory user
    created: str


class CreateUserRequest(WireModel):
    """o16n: POST /users, a local account (role null: it may do nothing)."""

    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=1024)
    role: RoleName | None


class UpdateUserRequest(WireModel):
    """o16n: PATCH /users/{username}; a member left out stays as it is (role null: no role)."""

    role: RoleName | None = None
    password: str | None = Field(default=None, min_length=1, max_length=1024)
