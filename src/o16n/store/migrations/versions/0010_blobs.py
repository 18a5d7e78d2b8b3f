"""One row per stored blob, so that every node decides in the database which blobs may go.

Revision ID: 0010_blobs
Revises: 0009_signing_keys
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from o16n.store.tables import UtcDateTime

revision = "0010_blobs"
down_revision = "0009_signing_keys"


def upgrade() -> None:
    """Create blobs (empty: the first start adopts the blobs already stored)."""
    op.create_table(
        "blobs",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("claims", sa.Integer(), nullable=False),
        sa.Column("claimed_until", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_blobs"),
    )
