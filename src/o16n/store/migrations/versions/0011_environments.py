"""Python environments of their own for service versions and snapshots.

Revision ID: 0011
Revises: 0010_blobs
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010_blobs"


def upgrade() -> None:
    """Add `environment` (requirements, Python version, lock) and its id to services and
    snapshots (null: the server's own Python)."""
    for name in ("services", "snapshots"):
        with op.batch_alter_table(name) as table:
            table.add_column(sa.Column("environment", sa.JSON(), nullable=True))
            table.add_column(sa.Column("environment_id", sa.String(32), nullable=True))
