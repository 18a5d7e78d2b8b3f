"""Token signing keys in the database, shared by every web node.

Revision ID: 0009_signing_keys
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from o16n.store.tables import UtcDateTime

revision = "0009_signing_keys"
down_revision = "0008"


def upgrade() -> None:
    """Create signing_keys (the first start of a node fills it, importing keys/signing.key)."""
    op.create_table(
        "signing_keys",
        sa.Column("generation", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("kid", sa.String(36), nullable=False),
        sa.Column("secret", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("generation", name="pk_signing_keys"),
        sa.UniqueConstraint("kid", name="uq_signing_keys_kid"),
    )
