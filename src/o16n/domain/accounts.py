"""Accounts: users, login with throttling, refresh-token rotation and revocation."""

from __future__ import annotations

import enum
import hashlib
import math
import re
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Literal

from o16n.domain.models import (
    AccessClaims,
    DirectoryUser,
    RefreshToken,
    Role,
    StoredCredentials,
    TokenFamily,
    TokenPair,
    User,
)
from o16n.domain.ports import (
    IdentitySource,
    MetadataStore,
    PasswordHasher,
    TokenSigner,
    UnitOfWork,
)
from o16n.errors import (
    InvalidCredentials,
    InvalidInput,
    InvalidRefreshToken,
    OwnAccount,
    TooManyAttempts,
    UserNotFound,
)
from o16n.ids import TokenFamilyId, UserId, new_guid, new_secret, now

_USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")
MIN_PASSWORD_LENGTH = 8
# Stored as the password hash of directory users' shadows: no argon2 hash, so nothing verifies.
_NO_LOCAL_PASSWORD = "!directory"


class Keep(enum.Enum):
    """What `Accounts.update_user` leaves as it is when not told otherwise."""

    ROLE = "role"


@dataclass(frozen=True)
class TokenPolicy:
    """Lifetimes and throttling limits, taken from Settings by the composition root."""

    access_seconds: int
    refresh_seconds: int
    chain_seconds: int
    max_failures: int
    failure_window_seconds: int
    cooldown_seconds: int


def validate_username(username: str) -> str:
    """`username` if it is a valid account name; InvalidInput naming the field otherwise."""
    if not _USERNAME.match(username):
        raise InvalidInput(
            "username must be 1-64 letters, digits or . _ @ - and start with a letter or digit",
            field="username",
        )
    return username


def validate_password(password: str) -> str:
    """`password` if it is long enough to be set; InvalidInput otherwise."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(
            f"password must have at least {MIN_PASSWORD_LENGTH} characters", field="password"
        )
    return password


def _hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class Accounts:
    """Use cases about accounts and their tokens; each runs in one transaction.

    Logins are checked by local passwords (`local_logins`) and/or by a `directory`. A name
    that belongs to a local account is never sent to the directory; any other name is, and a
    directory user gets a local shadow account (keyed by the directory's id) whose role is
    refreshed from the directory's groups at every login and every token renewal.
    """

    def __init__(
        self,
        store: MetadataStore,
        hasher: PasswordHasher,
        signer: TokenSigner,
        policy: TokenPolicy,
        *,
        directory: IdentitySource | None = None,
        local_logins: bool = True,
    ) -> None:
        self._store = store
        self._hasher = hasher
        self._signer = signer
        self._policy = policy
        self._directory = directory
        self._local_logins = local_logins

    def add_user(self, username: str, password: str, role: Role | None) -> User:
        """Create an account; UserExists when the name is taken."""
        user = User(UserId(new_guid()), validate_username(username), role, now())
        password_hash = self._hasher.hash(validate_password(password))
        with self._store.unit_of_work() as uow:
            uow.users.add(user, password_hash)
        return user

    def users(self) -> list[User]:
        """Every account, by name."""
        with self._store.unit_of_work() as uow:
            return uow.users.all()

    def user(self, username: str) -> User:
        """The account of that name; UserNotFound otherwise."""
        with self._store.unit_of_work() as uow:
            return self._existing(uow, username)

    def set_role(self, username: str, role: Role | None) -> User:
        """Give an account another role (None: no rights at all)."""
        return self.update_user(username, role=role)

    def set_password(self, username: str, password: str) -> None:
        """Replace an account's password and sign out all its sessions."""
        self.update_user(username, password=password)

    def update_user(
        self,
        username: str,
        *,
        role: Role | Literal[Keep.ROLE] | None = Keep.ROLE,
        password: str | None = None,
        by: UserId | None = None,
    ) -> User:
        """Change an account's role (None: no rights at all) and/or its password (which signs
        out all its sessions), all or nothing. `by`, the account doing it, may not take the
        Owner role from itself (OwnAccount); a directory user's password is the directory's."""
        password_hash = None if password is None else self._hasher.hash(validate_password(password))
        with self._store.unit_of_work() as uow:
            user = self._existing(uow, username)
            if role is not Keep.ROLE:
                if user.id == by and role is not Role.OWNER:
                    raise OwnAccount(
                        "you may not take the Owner role from your own account: another Owner can",
                        field="role",
                    )
                uow.users.set_role(user.id, role)
                user = replace(user, role=role)
            if password_hash is not None:
                if user.directory_id is not None:
                    raise InvalidInput(
                        f"{username!r} is a directory (LDAP) user: the directory keeps the"
                        " password",
                        field="username",
                    )
                uow.users.set_password_hash(user.id, password_hash)
                uow.tokens.revoke_user_families(user.id)
        return user

    def remove_user(self, username: str, *, by: UserId | None = None) -> None:
        """Delete an account; its tokens stop working. `by`, the account doing it, may not
        delete itself (OwnAccount)."""
        with self._store.unit_of_work() as uow:
            user = self._existing(uow, username)
            if user.id == by:
                raise OwnAccount(
                    "you may not delete your own account: another Owner can", field="username"
                )
            uow.tokens.revoke_user_families(user.id)
            uow.users.remove(user.id)

    def login(self, username: str, password: str) -> TokenPair:
        """Check a password (throttled per username) and start a new token family.

        The attempt counts as a failure from the start, in the same transaction as the
        throttling check, so parallel guesses cannot pass the limit; success clears it.
        Names are counted without case and surrounding blanks: a directory matches them so.
        """
        counted = " ".join(username.split()).casefold()
        with self._store.unit_of_work() as uow:
            self._refuse_while_cooling(uow, counted)
            moment = now()
            keep = max(self._policy.failure_window_seconds, self._policy.cooldown_seconds)
            uow.login_failures.record(
                counted, moment, forget_before=moment - timedelta(seconds=keep)
            )
            stored = uow.users.by_name(username)
        if stored is not None and stored.user.directory_id is None:
            checked: User | DirectoryUser = self._local_login(stored, password)
        else:
            checked = self._directory_login(username, password)
        with self._store.unit_of_work() as uow:
            uow.login_failures.clear(counted)
            user = checked if isinstance(checked, User) else self._shadow(uow, checked)
            family = TokenFamily(TokenFamilyId(new_guid()), user.id, now(), 0, False)
            uow.tokens.add_family(family)
            return self._issue(uow, user, family.id, 0)

    def _local_login(self, stored: StoredCredentials, password: str) -> User:
        if not self._local_logins or not self._hasher.verify(stored.password_hash, password):
            raise InvalidCredentials("invalid username or password")
        return stored.user

    def _directory_login(self, username: str, password: str) -> DirectoryUser:
        if self._directory is None:
            self._hasher.dummy_verify()
            raise InvalidCredentials("invalid username or password")
        found = self._directory.authenticate(username, password)
        if found is None:
            raise InvalidCredentials("invalid username or password")
        return found

    @staticmethod
    def _shadow(uow: UnitOfWork, found: DirectoryUser) -> User:
        """The shadow account of a directory user, created or brought up to date."""
        user = uow.users.by_directory_id(found.directory_id)
        if user is None:
            user = User(UserId(new_guid()), found.username, found.role, now(), found.directory_id)
            uow.users.add(user, _NO_LOCAL_PASSWORD)
            return user
        if user.username != found.username:
            uow.users.rename(user.id, found.username)
        if user.role != found.role:
            uow.users.set_role(user.id, found.role)
        return User(user.id, found.username, found.role, user.created_at, user.directory_id)

    def refresh(self, refresh_token: str) -> TokenPair:
        """Rotate a refresh token; reusing a rotated one revokes its whole family.

        A directory user's role is first looked up again in the directory; one the directory
        no longer knows loses the whole family.
        """
        self._recheck_directory_user(refresh_token)
        with self._store.unit_of_work() as uow:
            token = uow.tokens.token(_hash_secret(refresh_token))
            family = uow.tokens.family(token.family_id) if token else None
            if token is None or family is None or family.revoked:
                raise InvalidRefreshToken("refresh token is unknown or revoked")
            reused = token.used
            if reused:
                uow.tokens.revoke_family(family.id)
            else:
                return self._rotate(uow, token, family)
        raise InvalidRefreshToken("refresh token was already used: all its tokens are revoked")

    def _rotate(self, uow: UnitOfWork, token: RefreshToken, family: TokenFamily) -> TokenPair:
        moment = now()
        if token.expires_at <= moment or self._chain_ended(family, moment):
            raise InvalidRefreshToken("refresh token expired: log in again")
        user = uow.users.by_id(family.user_id)
        if user is None:
            raise InvalidRefreshToken("the account no longer exists")
        uow.tokens.mark_used(token.token_hash)
        uow.tokens.advance_family(family.id, family.generation + 1)
        return self._issue(uow, user, family.id, family.generation + 1)

    def _recheck_directory_user(self, refresh_token: str) -> None:
        with self._store.unit_of_work() as uow:
            token = uow.tokens.token(_hash_secret(refresh_token))
            family = uow.tokens.family(token.family_id) if token else None
            user = uow.users.by_id(family.user_id) if family else None
        if family is None or user is None or user.directory_id is None:
            return
        found = self._directory.lookup(user.username) if self._directory else None
        gone = found is None or found.directory_id != user.directory_id
        with self._store.unit_of_work() as uow:
            if gone:
                uow.tokens.revoke_family(family.id)
            elif found is not None:
                self._shadow(uow, found)
        if gone:
            raise InvalidRefreshToken("the directory no longer knows this account: log in again")

    def revoke(self, refresh_token: str) -> TokenFamilyId:
        """Revoke a refresh token and every access token of its family."""
        with self._store.unit_of_work() as uow:
            token = uow.tokens.token(_hash_secret(refresh_token))
            if token is None or token.expires_at <= now():
                raise InvalidRefreshToken("refresh token is unknown or expired")
            uow.tokens.revoke_family(token.family_id)
            return token.family_id

    def _chain_ended(self, family: TokenFamily, moment: datetime) -> bool:
        return family.started_at + timedelta(seconds=self._policy.chain_seconds) <= moment

    def _refuse_while_cooling(self, uow: UnitOfWork, username: str) -> None:
        moment = now()
        window = timedelta(seconds=self._policy.failure_window_seconds)
        failures = uow.login_failures.since(username, moment - window)
        if len(failures) < self._policy.max_failures:
            return
        cooled_at = failures[-1] + timedelta(seconds=self._policy.cooldown_seconds)
        if cooled_at > moment:
            wait = math.ceil((cooled_at - moment).total_seconds())
            raise TooManyAttempts(
                f"too many failed logins for {username!r}: try again in {wait} s",
                retry_after=wait,
            )

    def _issue(
        self, uow: UnitOfWork, user: User, family_id: TokenFamilyId, generation: int
    ) -> TokenPair:
        moment = now()
        expires_on = math.ceil(moment.timestamp()) + self._policy.access_seconds
        claims = AccessClaims(user.id, user.username, family_id, generation, expires_on)
        secret = new_secret()
        refresh_expiry = moment + timedelta(seconds=self._policy.refresh_seconds)
        uow.tokens.add_token(
            RefreshToken(_hash_secret(secret), family_id, generation, refresh_expiry, False)
        )
        return TokenPair(
            access_token=self._signer.sign(claims),
            expires_in=self._policy.access_seconds,
            expires_on=expires_on,
            refresh_token=secret,
        )

    @staticmethod
    def _existing(uow: UnitOfWork, username: str) -> User:
        stored = uow.users.by_name(username)
        if stored is None:
            raise UserNotFound(f"no user named {username!r}", field="username")
        return stored.user
