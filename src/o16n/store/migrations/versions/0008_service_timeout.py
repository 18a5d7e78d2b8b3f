"""Per-version call deadlines of web services.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"


def upgrade() -> None:
    """Add services.timeout_seconds (null: the server's O16N_SERVICE_TIMEOUT_SECONDS)."""
    with op.batch_alter_table("services") as table:
        table.add_column(sa.Column("timeout_seconds", sa.Float(), nullable=True))
