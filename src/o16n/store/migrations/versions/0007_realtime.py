"""Adaptive-batching settings of realtime service versions.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"


def upgrade() -> None:
    """Add services.max_batch_size and services.max_batch_wait_ms (null for Python services)."""
    with op.batch_alter_table("services") as table:
        table.add_column(sa.Column("max_batch_size", sa.Integer(), nullable=True))
        table.add_column(sa.Column("max_batch_wait_ms", sa.Float(), nullable=True))
