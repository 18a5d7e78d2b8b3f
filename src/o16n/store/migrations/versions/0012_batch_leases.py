"""A lease per batch execution, so that any web node can take over a dead node's executions.

Revision ID: 0012_batch_leases
Revises: 0013_session_nodes
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from o16n.store.tables import UtcDateTime

revision = "0012_batch_leases"
down_revision = "0013_session_nodes"


def upgrade() -> None:
    """Add the node holding each execution's lease, until when, and the claim's generation
    (executions of an older o16n have no lease: the first node to start claims them)."""
    with op.batch_alter_table("batch_executions") as table:
        table.add_column(sa.Column("lease_holder", sa.String(36), nullable=True))
        table.add_column(sa.Column("lease_expires", UtcDateTime(), nullable=True))
        table.add_column(
            sa.Column("lease_generation", sa.Integer(), nullable=False, server_default="0")
        )
