"""Table definitions: the schema that Alembic migrations create, and the store queries."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.types import TypeDecorator

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_name)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)


class UtcDateTime(TypeDecorator[datetime]):
    """Stores UTC without an offset; always reads back a timezone-aware UTC datetime."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Aware datetime → naive UTC."""
        if value is None:
            return None
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Naive UTC → aware UTC."""
        if value is None:
            return None
        return value.replace(tzinfo=UTC)


users = Table(
    "users",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("username", String(64), nullable=False, unique=True),
    Column("password_hash", String(255), nullable=False),
    Column("role", String(16), nullable=True),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("directory_id", String(255), nullable=True),
    Index("ix_users_directory_id", "directory_id", unique=True),
)

token_families = Table(
    "token_families",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("user_id", String(36), ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("started_at", UtcDateTime(), nullable=False),
    Column("generation", Integer, nullable=False),
    Column("revoked", Boolean, nullable=False),
    Index("ix_token_families_user_id", "user_id"),
)

refresh_tokens = Table(
    "refresh_tokens",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column(
        "family_id",
        String(36),
        ForeignKey("token_families.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("generation", Integer, nullable=False),
    Column("expires_at", UtcDateTime(), nullable=False),
    Column("used", Boolean, nullable=False),
    Index("ix_refresh_tokens_family_id", "family_id"),
)

login_failures = Table(
    "login_failures",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("username", String(64), nullable=False),
    Column("failed_at", UtcDateTime(), nullable=False),
    Index("ix_login_failures_username", "username"),
)

snapshots = Table(
    "snapshots",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("name", String(256), nullable=True),
    Column("owner_id", String(36), ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("content_size", Integer, nullable=False),
    Column("blob_id", String(64), nullable=False),
    Column("session_id", String(36), nullable=True),
    Column("environment", JSON, nullable=True),
    Column("environment_id", String(32), nullable=True),
    Index("ix_snapshots_owner_id", "owner_id"),
    Index("ix_snapshots_blob_id", "blob_id"),
)

services = Table(
    "services",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(128), nullable=False),
    Column("version", String(128), nullable=False),
    Column("revision", Integer, nullable=False),
    Column("code", Text, nullable=False),
    Column("init_code", Text, nullable=True),
    Column("description", Text, nullable=True),
    Column("operation_id", String(128), nullable=True),
    Column("inputs", JSON, nullable=False),
    Column("outputs", JSON, nullable=False),
    Column("output_file_names", JSON, nullable=False),
    Column("runtime_type", String(16), nullable=False),
    Column("snapshot_id", String(36), nullable=True),
    Column("publisher_id", String(36), ForeignKey("users.id", ondelete="SET NULL"), nullable=True),
    Column("publisher_name", String(64), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
    Column("source_session_id", String(36), nullable=True),
    Column("max_batch_size", Integer, nullable=True),
    Column("max_batch_wait_ms", Float, nullable=True),
    Column("timeout_seconds", Float, nullable=True),
    Column("environment", JSON, nullable=True),
    Column("environment_id", String(32), nullable=True),
    UniqueConstraint("name", "version", name="uq_services_name_version"),
)

service_blobs = Table(
    "service_blobs",
    metadata,
    Column("service_id", Integer, ForeignKey("services.id", ondelete="CASCADE"), nullable=False),
    Column("position", Integer, nullable=False),
    Column("blob_id", String(64), nullable=False),
    PrimaryKeyConstraint("service_id", "position", name="pk_service_blobs"),
    Index("ix_service_blobs_blob_id", "blob_id"),
)

batch_executions = Table(
    "batch_executions",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("service_name", String(128), nullable=False),
    Column("service_version", String(128), nullable=False),
    Column("owner_id", String(36), ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("parallel_count", Integer, nullable=False),
    Column("state", String(16), nullable=False),
    Column("total_count", Integer, nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("finished_at", UtcDateTime(), nullable=True),
    Column("lease_holder", String(36), nullable=True),
    Column("lease_expires", UtcDateTime(), nullable=True),
    Column("lease_generation", Integer, nullable=False, server_default="0"),
    Index("ix_batch_executions_service_name", "service_name", "service_version"),
    Index("ix_batch_executions_state", "state"),
)

batch_records = Table(
    "batch_records",
    metadata,
    Column(
        "execution_id",
        String(36),
        ForeignKey("batch_executions.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("position", Integer, nullable=False),
    Column("inputs", JSON, nullable=False),
    Column("state", String(16), nullable=False),
    Column("result", JSON, nullable=True),
    PrimaryKeyConstraint("execution_id", "position", name="pk_batch_records"),
    Index("ix_batch_records_execution_id", "execution_id", "state"),
)

batch_record_files = Table(
    "batch_record_files",
    metadata,
    Column(
        "execution_id",
        String(36),
        ForeignKey("batch_executions.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("position", Integer, nullable=False),
    Column("file_name", String(256), nullable=False),
    Column("blob_id", String(64), nullable=False),
    PrimaryKeyConstraint("execution_id", "position", "file_name", name="pk_batch_record_files"),
    Index("ix_batch_record_files_blob_id", "blob_id"),
)

signing_keys = Table(
    "signing_keys",
    metadata,
    Column("generation", Integer, primary_key=True, autoincrement=False),
    Column("kid", String(36), nullable=False, unique=True),
    Column("secret", LargeBinary(), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
)

blobs = Table(
    "blobs",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("claims", Integer, nullable=False),
    Column("claimed_until", UtcDateTime(), nullable=False),
)

session_nodes = Table(
    "session_nodes",
    metadata,
    Column("session_id", String(36), primary_key=True),
    Column("node_url", String(512), nullable=False),
    Column("name", String(256), nullable=False),
    Column("owner_id", String(36), ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("owner_name", String(64), nullable=False),
    Column("runtime_type", String(16), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Index("ix_session_nodes_node_url", "node_url"),
)
