"""Protocols the domain needs; store, auth and runtime implement them."""

from __future__ import annotations

from contextlib import AbstractContextManager
from datetime import datetime
from typing import Protocol

from o16n.domain.models import (
    AccessClaims,
    Role,
    StoredCredentials,
    TokenFamily,
    RefreshToken,
    User,
)
from o16n.ids import TokenFamilyId, UserId


class UserRepository(Protocol):
    """Accounts in the metadata store."""

    def add(self, user: User, password_hash: str) -> None:
        """Insert a new user; raises UserExists on a duplicate name."""

    def by_name(self, username: str) -> StoredCredentials | None:
        """The user of that name with their password hash, or None."""

    def by_id(self, user_id: UserId) -> User | None:
        """The user with that id, or None."""

    def all(self) -> list[User]:
        """Every user, by name."""

    def set_role(self, user_id: UserId, role: Role | None) -> None:
        """Change a user's role."""

    def set_password_hash(self, user_id: UserId, password_hash: str) -> None:
        """Replace a user's password hash."""

    def remove(self, user_id: UserId) -> None:
        """Delete a user and everything that only they own."""


class TokenRepository(Protocol):
    """Refresh-token families and their tokens."""

    def add_family(self, family: TokenFamily) -> None:
        """Start a new family (one per login)."""

    def family(self, family_id: TokenFamilyId) -> TokenFamily | None:
        """A family by id, or None."""

    def advance_family(self, family_id: TokenFamilyId, generation: int) -> None:
        """Record that the family's current generation is now `generation`."""

    def revoke_family(self, family_id: TokenFamilyId) -> None:
        """Revoke a family: none of its tokens work any more."""

    def revoke_user_families(self, user_id: UserId) -> None:
        """Revoke every family of a user (password change, removal)."""

    def add_token(self, token: RefreshToken) -> None:
        """Store a refresh token (by hash)."""

    def token(self, token_hash: str) -> RefreshToken | None:
        """A refresh token by the hash of its secret, or None."""

    def mark_used(self, token_hash: str) -> None:
        """Mark a refresh token as rotated."""


class LoginFailureRepository(Protocol):
    """Failed login attempts, for throttling."""

    def record(self, username: str, at: datetime) -> None:
        """Remember one failed attempt."""

    def since(self, username: str, since: datetime) -> list[datetime]:
        """Failed attempts for `username` at or after `since`, oldest first."""

    def clear(self, username: str) -> None:
        """Forget the failures of `username` (after a successful login)."""


class UnitOfWork(Protocol):
    """One transaction over every repository."""

    users: UserRepository
    tokens: TokenRepository
    login_failures: LoginFailureRepository


class MetadataStore(Protocol):
    """The metadata database: opens units of work and reports its health."""

    def unit_of_work(self) -> AbstractContextManager[UnitOfWork]:
        """A transaction that commits on normal exit and rolls back on an exception."""

    def describe(self) -> dict[str, str]:
        """Backend type, name and state, for /status; raises when the database is down."""


class PasswordHasher(Protocol):
    """Slow, salted password hashing."""

    def hash(self, password: str) -> str:
        """A self-describing hash of `password`."""

    def verify(self, password_hash: str, password: str) -> bool:
        """Whether `password` matches `password_hash`."""

    def dummy_verify(self) -> None:
        """Spend the time of one verification (for unknown users)."""


class TokenSigner(Protocol):
    """Signed, expiring access tokens."""

    def sign(self, claims: AccessClaims) -> str:
        """A compact token asserting `claims`."""

    def verify(self, token: str) -> AccessClaims:
        """The claims of a valid, unexpired token; raises Unauthenticated otherwise."""
