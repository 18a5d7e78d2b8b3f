"""Users repository: rows in, domain models out."""

from __future__ import annotations

from sqlalchemy import Connection, Row, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from o16n.domain.models import Role, StoredCredentials, User
from o16n.errors import UserExists
from o16n.ids import UserId
from o16n.store.tables import users


def _user(row: Row[tuple[object, ...]]) -> User:
    mapping = row._mapping
    role = mapping["role"]
    return User(
        id=UserId(mapping["id"]),
        username=mapping["username"],
        role=Role(role) if role else None,
        created_at=mapping["created_at"],
        directory_id=mapping["directory_id"],
    )


class SqlUsers:
    """The UserRepository port on one connection (inside its transaction)."""

    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def add(self, user: User, password_hash: str) -> None:
        """Insert a new user; UserExists on a duplicate name."""
        values = {
            "id": user.id,
            "username": user.username,
            "password_hash": password_hash,
            "role": user.role.value if user.role else None,
            "created_at": user.created_at,
            "directory_id": user.directory_id,
        }
        try:
            with self._connection.begin_nested():
                self._connection.execute(insert(users).values(values))
        except IntegrityError as error:
            raise UserExists(f"a user named {user.username!r} exists", field="username") from error

    def by_name(self, username: str) -> StoredCredentials | None:
        """The user of that name with their password hash, or None."""
        row = self._connection.execute(select(users).where(users.c.username == username)).first()
        if row is None:
            return None
        return StoredCredentials(_user(row), row._mapping["password_hash"])

    def by_id(self, user_id: UserId) -> User | None:
        """The user with that id, or None."""
        row = self._connection.execute(select(users).where(users.c.id == user_id)).first()
        return _user(row) if row else None

    def all(self) -> list[User]:
        """Every user, by name."""
        rows = self._connection.execute(select(users).order_by(users.c.username))
        return [_user(row) for row in rows]

    def by_directory_id(self, directory_id: str) -> User | None:
        """The local shadow of a directory user, or None."""
        statement = select(users).where(users.c.directory_id == directory_id)
        row = self._connection.execute(statement).first()
        return _user(row) if row else None

    def rename(self, user_id: UserId, username: str) -> None:
        """Change a user's name; UserExists when another account has it."""
        statement = update(users).where(users.c.id == user_id).values(username=username)
        try:
            with self._connection.begin_nested():
                self._connection.execute(statement)
        except IntegrityError as error:
            raise UserExists(f"a user named {username!r} exists", field="username") from error

    def set_role(self, user_id: UserId, role: Role | None) -> None:
        """Change a user's role."""
        value = role.value if role else None
        self._connection.execute(update(users).where(users.c.id == user_id).values(role=value))

    def set_password_hash(self, user_id: UserId, password_hash: str) -> None:
        """Replace a user's password hash."""
        statement = update(users).where(users.c.id == user_id).values(password_hash=password_hash)
        self._connection.execute(statement)

    def remove(self, user_id: UserId) -> None:
        """Delete a user (their token families go with them)."""
        self._connection.execute(delete(users).where(users.c.id == user_id))
