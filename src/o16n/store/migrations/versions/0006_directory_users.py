"""Directory (LDAP) users: the stable directory id of a local shadow account.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"


def upgrade() -> None:
    """Add users.directory_id, unique where set."""
    op.add_column("users", sa.Column("directory_id", sa.String(255), nullable=True))
    op.create_index("ix_users_directory_id", "users", ["directory_id"], unique=True)
