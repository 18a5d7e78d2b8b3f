"""Snapshot metadata repository."""

from __future__ import annotations

from sqlalchemy import Connection, Row, delete, insert, select

from o16n.domain.models import Snapshot
from o16n.ids import SnapshotId, UserId
from o16n.store.environments import environment_of, environment_values
from o16n.store.tables import snapshots, users


def _snapshot(row: Row[tuple[object, ...]]) -> Snapshot:
    mapping = row._mapping
    return Snapshot(
        id=SnapshotId(mapping["id"]),
        name=mapping["name"],
        owner_id=UserId(mapping["owner_id"]),
        owner_name=mapping["username"],
        created_at=mapping["created_at"],
        content_size=mapping["content_size"],
        blob_id=mapping["blob_id"],
        session_id=mapping["session_id"],
        environment=environment_of(mapping["environment"]),
    )


_WITH_OWNER = select(snapshots, users.c.username).join(users, users.c.id == snapshots.c.owner_id)


class SqlSnapshots:
    """The SnapshotRepository port on one connection."""

    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def add(self, snapshot: Snapshot) -> None:
        """Insert a snapshot row."""
        values = {
            "id": snapshot.id,
            "name": snapshot.name,
            "owner_id": snapshot.owner_id,
            "created_at": snapshot.created_at,
            "content_size": snapshot.content_size,
            "blob_id": snapshot.blob_id,
            "session_id": snapshot.session_id,
            **environment_values(snapshot.environment),
        }
        self._connection.execute(insert(snapshots).values(values))

    def by_id(self, snapshot_id: SnapshotId) -> Snapshot | None:
        """A snapshot by id, or None."""
        row = self._connection.execute(_WITH_OWNER.where(snapshots.c.id == snapshot_id)).first()
        return _snapshot(row) if row else None

    def owned_by(self, owner_id: UserId) -> list[Snapshot]:
        """One user's snapshots, oldest first."""
        statement = _WITH_OWNER.where(snapshots.c.owner_id == owner_id).order_by(
            snapshots.c.created_at
        )
        return [_snapshot(row) for row in self._connection.execute(statement)]

    def remove(self, snapshot_id: SnapshotId) -> None:
        """Delete a snapshot row."""
        self._connection.execute(delete(snapshots).where(snapshots.c.id == snapshot_id))

    def environment_ids(self) -> set[str]:
        """The ids of the environments that snapshots record."""
        column = snapshots.c.environment_id
        return set(self._connection.execute(select(column).where(column.is_not(None))).scalars())
