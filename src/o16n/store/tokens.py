"""Refresh-token families and tokens repository."""

from __future__ import annotations

from sqlalchemy import Connection, Row, insert, select, update

from o16n.domain.models import RefreshToken, TokenFamily
from o16n.ids import TokenFamilyId, UserId
from o16n.store.tables import refresh_tokens, token_families


def _family(row: Row[tuple[object, ...]]) -> TokenFamily:
    mapping = row._mapping
    return TokenFamily(
        id=TokenFamilyId(mapping["id"]),
        user_id=UserId(mapping["user_id"]),
        started_at=mapping["started_at"],
        generation=mapping["generation"],
        revoked=bool(mapping["revoked"]),
    )


class SqlTokens:
    """The TokenRepository port on one connection."""

    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def add_family(self, family: TokenFamily) -> None:
        """Start a new family."""
        values = {
            "id": family.id,
            "user_id": family.user_id,
            "started_at": family.started_at,
            "generation": family.generation,
            "revoked": family.revoked,
        }
        self._connection.execute(insert(token_families).values(values))

    def family(self, family_id: TokenFamilyId) -> TokenFamily | None:
        """A family by id, or None."""
        statement = select(token_families).where(token_families.c.id == family_id)
        row = self._connection.execute(statement).first()
        return _family(row) if row else None

    def advance_family(self, family_id: TokenFamilyId, generation: int) -> None:
        """Set the family's current generation."""
        statement = (
            update(token_families)
            .where(token_families.c.id == family_id)
            .values(generation=generation)
        )
        self._connection.execute(statement)

    def revoke_family(self, family_id: TokenFamilyId) -> None:
        """Revoke every token of a family."""
        statement = (
            update(token_families).where(token_families.c.id == family_id).values(revoked=True)
        )
        self._connection.execute(statement)

    def revoke_user_families(self, user_id: UserId) -> None:
        """Revoke every family of a user."""
        statement = (
            update(token_families).where(token_families.c.user_id == user_id).values(revoked=True)
        )
        self._connection.execute(statement)

    def add_token(self, token: RefreshToken) -> None:
        """Store a refresh token by hash."""
        values = {
            "token_hash": token.token_hash,
            "family_id": token.family_id,
            "generation": token.generation,
            "expires_at": token.expires_at,
            "used": token.used,
        }
        self._connection.execute(insert(refresh_tokens).values(values))

    def token(self, token_hash: str) -> RefreshToken | None:
        """A refresh token by hash, or None."""
        statement = select(refresh_tokens).where(refresh_tokens.c.token_hash == token_hash)
        row = self._connection.execute(statement).first()
        if row is None:
            return None
        mapping = row._mapping
        return RefreshToken(
            token_hash=mapping["token_hash"],
            family_id=TokenFamilyId(mapping["family_id"]),
            generation=mapping["generation"],
            expires_at=mapping["expires_at"],
            used=bool(mapping["used"]),
        )

    def mark_used(self, token_hash: str) -> None:
        """Mark a token as rotated."""
        statement = (
            update(refresh_tokens)
            .where(refresh_tokens.c.token_hash == token_hash)
            .values(used=True)
        )
        self._connection.execute(statement)
