"""Failed-login records for throttling."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, delete, insert, select

from o16n.store.tables import login_failures


class SqlLoginFailures:
    """The LoginFailureRepository port on one connection."""

    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def record(self, username: str, at: datetime, *, forget_before: datetime) -> None:
        """Remember one failed attempt; forget everybody's attempts older than `forget_before`."""
        self._connection.execute(
            delete(login_failures).where(login_failures.c.failed_at < forget_before)
        )
        self._connection.execute(insert(login_failures).values(username=username, failed_at=at))

    def since(self, username: str, since: datetime) -> list[datetime]:
        """Failed attempts at or after `since`, oldest first."""
        statement = (
            select(login_failures.c.failed_at)
            .where(login_failures.c.username == username, login_failures.c.failed_at >= since)
            .order_by(login_failures.c.failed_at)
        )
        return [row[0] for row in self._connection.execute(statement)]

    def clear(self, username: str) -> None:
        """Forget this user's failures."""
        self._connection.execute(
            delete(login_failures).where(login_failures.c.username == username)
        )
