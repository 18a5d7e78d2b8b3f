"""Batch executions, their records and the records' output files.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from o16n.store.tables import UtcDateTime

revision = "0005"
down_revision = "0004"


def upgrade() -> None:
    """Create batch_executions, batch_records and batch_record_files."""
    op.create_table(
        "batch_executions",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("service_name", sa.String(128), nullable=False),
        sa.Column("service_version", sa.String(128), nullable=False),
        sa.Column("owner_id", sa.String(36), nullable=False),
        sa.Column("parallel_count", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("total_count", sa.Integer(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("finished_at", UtcDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["owner_id"],
            ["users.id"],
            name="fk_batch_executions_owner_id_users",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_batch_executions"),
    )
    op.create_index(
        "ix_batch_executions_service_name",
        "batch_executions",
        ["service_name", "service_version"],
    )
    op.create_index("ix_batch_executions_state", "batch_executions", ["state"])
    op.create_table(
        "batch_records",
        sa.Column("execution_id", sa.String(36), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("inputs", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("result", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(
            ["execution_id"],
            ["batch_executions.id"],
            name="fk_batch_records_execution_id_batch_executions",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("execution_id", "position", name="pk_batch_records"),
    )
    op.create_index("ix_batch_records_execution_id", "batch_records", ["execution_id", "state"])
    op.create_table(
        "batch_record_files",
        sa.Column("execution_id", sa.String(36), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("file_name", sa.String(256), nullable=False),
        sa.Column("blob_id", sa.String(64), nullable=False),
        sa.ForeignKeyConstraint(
            ["execution_id"],
            ["batch_executions.id"],
            name="fk_batch_record_files_execution_id_batch_executions",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "execution_id", "position", "file_name", name="pk_batch_record_files"
        ),
    )
    op.create_index("ix_batch_record_files_blob_id", "batch_record_files", ["blob_id"])
