"""Settings: the one reader of environment variables (prefix O16N_) and the optional TOML file."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

DEFAULT_PORT = 12800
IDENTITY_SOURCES = ("local", "ldap")


def _default_data_dir() -> Path:
    return Path.home() / ".local" / "share" / "o16n"


def _uids(text: str) -> range:
    """The uids of a `FIRST-LAST` range (empty when FIRST is 0 or above LAST)."""
    first, last = (int(part) for part in text.split("-"))
    return range(first, last + 1) if first > 0 else range(0)


class Settings(BaseSettings):
    """Everything configurable about one o16n server; built once and passed down."""

    model_config = SettingsConfigDict(env_prefix="O16N_", extra="forbid", frozen=True)

    config_file: Path | None = Field(
        default=None, description="TOML file with any of these settings (lowest precedence)."
    )
    data_dir: Path = Field(default_factory=_default_data_dir, description="Where state lives.")
    host: str = Field(default="127.0.0.1", description="Address to bind.")
    port: int = Field(default=DEFAULT_PORT, ge=0, le=65535, description="Port to bind (0: any).")
    database_url: str | None = Field(
        default=None, description="SQLAlchemy URL; default: SQLite file o16n.db in data_dir."
    )
    admin_password: SecretStr | None = Field(
        default=None, description="Password for `admin` on first start; generated when unset."
    )
    access_token_seconds: int = Field(default=3600, ge=1, description="Access-token lifetime.")
    refresh_token_seconds: int = Field(
        default=14 * 24 * 3600, ge=1, description="Refresh-token lifetime without use (sliding)."
    )
    refresh_chain_seconds: int = Field(
        default=90 * 24 * 3600, ge=1, description="How long renewals may go on before a login."
    )
    auth_cache_seconds: float = Field(
        default=5.0, ge=0, description="How long a verified token and its role are cached."
    )
    metrics_token: SecretStr | None = Field(
        default=None,
        description="A bearer token that may read /metrics (for a scraper); unset: Owners only.",
    )
    login_max_failures: int = Field(default=5, ge=1, description="Failed logins before cooling.")
    login_failure_window_seconds: int = Field(default=300, ge=1, description="Counting window.")
    login_cooldown_seconds: int = Field(default=300, ge=1, description="Cooling period.")
    max_json_bytes: int = Field(default=16 * 2**20, ge=1024, description="Largest JSON body.")
    max_upload_bytes: int = Field(
        default=512 * 2**20, ge=1024, description="Largest object or file upload."
    )
    log_level: str = Field(default="info", description="Server log level.")
    worker_user: str = Field(
        default="nobody",
        description="Account that runs workers when the server runs as root ('': the server's).",
    )
    worker_uids: str = Field(
        default="",
        pattern=r"^(\d+-\d+)?$",
        description="A uid range like 200000-265535: under root, every live worker gets a uid "
        "of its own from it instead of worker_user ('': off).",
    )
    worker_memory_bytes: int = Field(
        default=8 * 2**30, ge=0, description="Address-space limit of a worker (0: none)."
    )
    worker_cpu_seconds: int = Field(
        default=24 * 3600, ge=0, description="CPU-time limit of a worker (0: none)."
    )
    worker_open_files: int = Field(default=1024, ge=0, description="Open-files limit (0: none).")
    worker_start_seconds: float = Field(
        default=60.0, gt=0, description="How long a new worker may take to be ready."
    )
    execute_timeout_seconds: float = Field(
        default=3600.0, gt=0, description="Wall-clock deadline of one session execution."
    )
    session_idle_seconds: float = Field(
        default=3600.0, gt=0, description="Sessions unused this long are closed."
    )
    max_sessions_per_user: int = Field(default=10, ge=1, description="Open sessions per user.")
    max_sessions: int = Field(default=100, ge=1, description="Open sessions on this server.")
    service_timeout_seconds: float = Field(
        default=60.0,
        gt=0,
        description="Wall-clock deadline of one service call, unless its version sets "
        "timeoutSeconds.",
    )
    service_prepare_seconds: float = Field(
        default=600.0,
        gt=0,
        description="How long preparing a worker for a version (snapshot, initCode) may take.",
    )
    service_cache_seconds: float = Field(
        default=0.5, ge=0, description="How long another node's patch may take to be seen."
    )
    pool_max_workers: int = Field(
        default=0,
        ge=0,
        description="Workers per version without a dedicated pool (0: the CPUs it may use).",
    )
    pool_max_live_workers: int = Field(
        default=0,
        ge=0,
        description="Workers prepared for versions alive at once on this machine; the least "
        "recently used idle ones make room (0: 4 per CPU it may use, at least 8).",
    )
    pool_max_size: int = Field(
        default=32, ge=1, description="Largest MaxPoolSize of a version's dedicated pool."
    )
    pool_pipeline_depth: int = Field(
        default=8,
        ge=1,
        description="Calls in flight per worker (pipelining) while its pool may grow.",
    )
    pool_full_pipeline_depth: int = Field(
        default=64,
        ge=1,
        description="Calls in flight per worker once its pool has its largest size.",
    )
    pool_max_queue: int = Field(
        default=1000, ge=1, description="Calls waiting per version before 503."
    )
    pool_idle_seconds: float = Field(
        default=300.0, gt=0, description="Idle versions release their surplus workers."
    )
    pool_blank_workers: int = Field(
        default=2, ge=0, description="Pre-started interpreters kept ready for any version."
    )
    pool_preload: str = Field(
        default="numpy,pandas,sklearn", description="Modules blank interpreters import in advance."
    )
    batch_max_parallel: int = Field(
        default=100, ge=1, description="Largest parallelCount of a batch execution."
    )
    batch_pool_share: float = Field(
        default=0.5,
        gt=0,
        le=1,
        description="Share of a version's pool capacity that its batch calls may take.",
    )
    batch_retention_seconds: float = Field(
        default=7 * 24 * 3600.0, ge=0, description="How long finished batch results are kept."
    )
    batch_sweep_seconds: float = Field(
        default=600.0, gt=0, description="How often expired batch executions are deleted."
    )
    batch_lease_seconds: float = Field(
        default=10.0,
        gt=0,
        description="How long a node's claim on a batch execution lasts unless renewed (every "
        "fifth of it); a dead node's executions are taken over within about 1.5 times this.",
    )

    cluster_secret: SecretStr | None = Field(
        default=None,
        description="Many web nodes: the secret every node of the cluster shares; set, each "
        "node records its sessions in the database and forwards requests for another node's "
        "sessions there.",
    )
    node_url: str | None = Field(
        default=None,
        pattern=r"^https?://[^/]+/?$",
        description="The URL other nodes reach this node at (default: http://HOST:PORT; needed "
        "when HOST is 0.0.0.0).",
    )
    otel_endpoint: str | None = Field(
        default=None,
        pattern=r"^https?://",
        description="OpenTelemetry: the OTLP/HTTP URL spans are sent to (e.g. "
        "http://collector:4318/v1/traces); unset: no tracing.",
    )
    otel_service_name: str = Field(default="o16n", description="service.name of the spans.")
    runtime: Literal["local", "ray"] = Field(
        default="local",
        description="Where service workers run: local subprocesses, or Ray actors on the "
        "cluster at ray_address.",
    )
    ray_address: str = Field(
        default="auto", description="The Ray cluster to join (with runtime=ray), e.g. HOST:6379."
    )
    env_index_url: SecretStr | None = Field(
        default=None,
        description="Package index for per-service environments (default PyPI); may hold "
        "credentials, which are never logged or given to workers.",
    )
    env_extra_index_url: SecretStr | None = Field(
        default=None, description="A second package index for per-service environments."
    )
    env_find_links: Path | None = Field(
        default=None, description="A folder of wheels that environments may install from."
    )
    env_no_index: bool = Field(
        default=False, description="Install only from env_find_links (a server without network)."
    )
    env_source_builds: bool = Field(
        default=False,
        description="Let environments build packages from source distributions (runs their "
        "build scripts on the server); off: wheels only.",
    )
    env_max_builds: int = Field(default=2, ge=1, description="Environments built at once.")
    env_build_seconds: float = Field(
        default=600.0, gt=0, description="Longest a resolution or an environment build may take."
    )
    env_resolution_seconds: float = Field(
        default=600.0,
        ge=0,
        description="How long the lock of the same requirements is reused without asking "
        "the index again (0: resolve every time).",
    )
    env_grace_seconds: float = Field(
        default=3600.0, ge=0, description="How long an environment nothing uses is kept."
    )
    env_sweep_seconds: float = Field(
        default=300.0, gt=0, description="How often unused environments are looked for."
    )

    @field_validator("worker_uids")
    @classmethod
    def _uid_range(cls, text: str) -> str:
        if text and not _uids(text):
            raise ValueError("need FIRST-LAST with 0 < FIRST <= LAST")
        return text

    @property
    def worker_uid_range(self) -> range | None:
        """`worker_uids` as a range of uids (None when off)."""
        return _uids(self.worker_uids) if self.worker_uids else None

    identity_sources: str = Field(
        default="local",
        description="Who checks logins: local accounts, ldap, or both ('local,ldap').",
    )
    ldap_url: str = Field(
        default="", description="LDAP server, ldap://host:389 or ldaps://host:636."
    )
    ldap_start_tls: bool = Field(default=False, description="StartTLS on an ldap:// URL.")
    ldap_ca_file: Path | None = Field(
        default=None, description="CA certificates for LDAPS/StartTLS (default: the system's)."
    )
    ldap_bind_dn: str = Field(
        default="", description="Service account that searches users ('': anonymous)."
    )
    ldap_bind_password: SecretStr | None = Field(
        default=None, description="The service account's password."
    )
    ldap_search_base: str = Field(default="", description="Where users are searched.")
    ldap_user_filter: str = Field(
        default="(uid={username})",
        description="Search filter; {username} is replaced by the escaped login name.",
    )
    ldap_username_attribute: str = Field(
        default="uid", description="Attribute holding the login name (AD: sAMAccountName)."
    )
    ldap_id_attribute: str = Field(
        default="entryUUID", description="Stable unique id of a person (AD: objectGUID)."
    )
    ldap_group_search_base: str = Field(
        default="", description="Where groups are searched ('': the user search base)."
    )
    ldap_group_filter: str = Field(
        default="(member={dn})",
        description="Group search; {dn} is the person's escaped DN ('': memberOf only).",
    )
    ldap_owner_groups: str = Field(
        default="", description="Groups (names or DNs, ';'-separated) whose members are Owners."
    )
    ldap_contributor_groups: str = Field(
        default="", description="Groups whose members are Contributors."
    )
    ldap_reader_groups: str = Field(default="", description="Groups whose members are Readers.")
    ldap_connect_timeout_seconds: float = Field(
        default=5.0, gt=0, description="Deadline to connect to the LDAP server."
    )
    ldap_timeout_seconds: int = Field(
        default=10, ge=1, description="Deadline of one LDAP operation (whole seconds)."
    )
    blob_url: str | None = Field(
        default=None,
        pattern=r"^(file|s3)://.+",
        description="Where blobs live: file:///folder or s3://bucket/prefix (shared by every "
        "node); default: the folder blobs in data_dir.",
    )
    blob_s3_endpoint_url: str = Field(
        default="", description="S3 endpoint of an s3:// blob_url ('': AWS's for the region)."
    )
    blob_s3_region: str = Field(default="", description="S3 region ('': the SDK's default).")
    blob_s3_access_key: SecretStr | None = Field(
        default=None, description="S3 access key id (unset: the SDK's usual credential chain)."
    )
    blob_s3_secret_key: SecretStr | None = Field(default=None, description="S3 secret key.")
    blob_cache_bytes: int = Field(
        default=2**30,
        ge=0,
        description="Bound of this node's local copies of blobs read from S3 (0: none).",
    )

    @field_validator("identity_sources")
    @classmethod
    def _known_sources(cls, value: str) -> str:
        names = [name.strip().lower() for name in value.split(",") if name.strip()]
        unknown = sorted(set(names) - set(IDENTITY_SOURCES))
        if not names or unknown:
            raise ValueError(f"use one or more of {', '.join(IDENTITY_SOURCES)}: got {value!r}")
        return ",".join(dict.fromkeys(names))

    @model_validator(mode="after")
    def _ldap_complete(self) -> Settings:
        if "ldap" in self.identity_sources.split(","):
            if not self.ldap_url or not self.ldap_search_base:
                raise ValueError("identity source ldap needs ldap_url and ldap_search_base")
            if "{username}" not in self.ldap_user_filter:
                raise ValueError("ldap_user_filter needs a {username} placeholder")
        return self

    @property
    def effective_database_url(self) -> str:
        """The configured database URL, or the embedded SQLite file in the data directory."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.data_dir / 'o16n.db'}"

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Precedence: explicit arguments, then O16N_ variables, then the TOML config file."""
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        config_file = _config_file_from(init_settings(), env_settings())
        if config_file is not None:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=config_file))
        return tuple(sources)


def _config_file_from(*layers: dict[str, Any]) -> Path | None:
    for layer in layers:
        value = layer.get("config_file")
        if value:
            return Path(value)
    return None
