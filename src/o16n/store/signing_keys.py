"""Token signing keys repository: one row per key, numbered by generation."""

from __future__ import annotations

from sqlalchemy import Connection, select

from o16n.domain.models import SigningKey
from o16n.ids import now
from o16n.store.tables import signing_keys
from o16n.store.upsert import insert_or_update

_FIRST = 1


class SqlSigningKeys:
    """The SigningKeyRepository port on one connection."""

    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def add_first(self, key: SigningKey) -> None:
        """Insert `key` as generation 1 unless that generation exists (insert-if-absent)."""
        values = {"generation": _FIRST, "kid": key.kid, "secret": key.secret, "created_at": now()}
        insert_or_update(self._connection, signing_keys, values, key="generation")

    def all(self) -> list[SigningKey]:
        """Every key, oldest generation first."""
        statement = select(signing_keys.c.kid, signing_keys.c.secret).order_by(
            signing_keys.c.generation
        )
        return [
            SigningKey(kid=row.kid, secret=bytes(row.secret))
            for row in self._connection.execute(statement)
        ]
