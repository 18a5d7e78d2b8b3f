"""Which web node holds each live session (many web nodes).

Revision ID: 0013_session_nodes
Revises: 0011
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from o16n.store.tables import UtcDateTime

revision = "0013_session_nodes"
down_revision = "0011"


def upgrade() -> None:
    """Create session_nodes."""
    op.create_table(
        "session_nodes",
        sa.Column("session_id", sa.String(36), primary_key=True),
        sa.Column("node_url", sa.String(512), nullable=False),
        sa.Column("name", sa.String(256), nullable=False),
        sa.Column(
            "owner_id", sa.String(36), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("owner_name", sa.String(64), nullable=False),
        sa.Column("runtime_type", sa.String(16), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
    )
    op.create_index("ix_session_nodes_node_url", "session_nodes", ["node_url"])
