"""Blob rows: claims of nodes about to refer to a blob, and deletion only when nothing refers.

Deleting checks the claim columns of the row itself, so on PostgreSQL a concurrent claim
(which updates the row) is seen when the row lock is granted; SQLite runs one writer at a time.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from sqlalchemy import ColumnElement, Connection, case, delete, exists, or_, select, update

from o16n.store.tables import batch_record_files, blobs, service_blobs, snapshots
from o16n.store.upsert import insert_or_update

_LONG_AGO = datetime(1970, 1, 1, tzinfo=UTC)


def _deletable(moment: datetime) -> ColumnElement[bool]:
    """No live claim and no snapshot, service or batch record file referring to the blob."""
    unclaimed = or_(blobs.c.claims == 0, blobs.c.claimed_until < moment)
    referring = (snapshots.c.blob_id, service_blobs.c.blob_id, batch_record_files.c.blob_id)
    referred = or_(*(exists().where(column == blobs.c.id) for column in referring))
    return unclaimed & ~referred


def _claimed(moment: datetime) -> ColumnElement[int]:
    """One more claim; claims that expired (their node died) no longer count."""
    return case((blobs.c.claimed_until < moment, 1), else_=blobs.c.claims + 1)


class SqlBlobs:
    """The BlobRepository port on one connection."""

    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def claim(self, blob_id: str, moment: datetime, until: datetime) -> None:
        """Insert the blob's row, or add a claim to it, lasting until `until` at the latest."""
        insert_or_update(
            self._connection,
            blobs,
            {"id": blob_id, "claims": 1, "claimed_until": until},
            key="id",
            changes={"claims": _claimed(moment), "claimed_until": until},
        )

    def hold(self, blob_id: str, moment: datetime, until: datetime) -> bool:
        """Add a claim to a stored blob; False when its row is gone."""
        statement = (
            update(blobs)
            .where(blobs.c.id == blob_id)
            .values(claims=_claimed(moment), claimed_until=until)
        )
        return self._connection.execute(statement).rowcount == 1

    def unclaim(self, blob_ids: Iterable[str]) -> None:
        """Take back one claim of each blob (the rows that refer to it are committed)."""
        for blob_id in blob_ids:
            statement = (
                update(blobs)
                .where(blobs.c.id == blob_id, blobs.c.claims > 0)
                .values(claims=blobs.c.claims - 1)
            )
            self._connection.execute(statement)

    def adopt(self, blob_ids: Iterable[str]) -> None:
        """Give stored blobs without a row (an older o16n's, or a crash's) an unclaimed one."""
        rows = [{"id": blob_id, "claims": 0, "claimed_until": _LONG_AGO} for blob_id in blob_ids]
        if rows:
            insert_or_update(self._connection, blobs, rows, key="id")

    def unreferenced(self, moment: datetime) -> list[str]:
        """The ids of the blobs that may be deleted now."""
        statement = select(blobs.c.id).where(_deletable(moment))
        return [str(blob_id) for blob_id in self._connection.execute(statement).scalars()]

    def delete_unreferenced(self, blob_id: str, moment: datetime) -> bool:
        """Delete the blob's row if it may go now (one statement); whether it went."""
        statement = delete(blobs).where(blobs.c.id == blob_id, _deletable(moment))
        return self._connection.execute(statement).rowcount == 1
