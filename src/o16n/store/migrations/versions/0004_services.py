"""Web services and the snapshot contents they keep.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from o16n.store.tables import UtcDateTime

revision = "0004"
down_revision = "0003"


def upgrade() -> None:
    """Create the services and service_blobs tables."""
    op.create_table(
        "services",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("version", sa.String(128), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("code", sa.Text(), nullable=False),
        sa.Column("init_code", sa.Text(), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("operation_id", sa.String(128), nullable=True),
        sa.Column("inputs", sa.JSON(), nullable=False),
        sa.Column("outputs", sa.JSON(), nullable=False),
        sa.Column("output_file_names", sa.JSON(), nullable=False),
        sa.Column("runtime_type", sa.String(16), nullable=False),
        sa.Column("snapshot_id", sa.String(36), nullable=True),
        sa.Column("publisher_id", sa.String(36), nullable=True),
        sa.Column("publisher_name", sa.String(64), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.Column("source_session_id", sa.String(36), nullable=True),
        sa.ForeignKeyConstraint(
            ["publisher_id"],
            ["users.id"],
            name="fk_services_publisher_id_users",
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_services"),
        sa.UniqueConstraint("name", "version", name="uq_services_name_version"),
    )
    op.create_table(
        "service_blobs",
        sa.Column("service_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("blob_id", sa.String(64), nullable=False),
        sa.ForeignKeyConstraint(
            ["service_id"],
            ["services.id"],
            name="fk_service_blobs_service_id_services",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("service_id", "position", name="pk_service_blobs"),
    )
    op.create_index("ix_service_blobs_blob_id", "service_blobs", ["blob_id"])
