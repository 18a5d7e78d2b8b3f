"""Signed access tokens (JWT, HS256) with a key kept in the data directory."""

from __future__ import annotations

import contextlib
import os
import secrets
import tempfile
from pathlib import Path

import jwt

from o16n.domain.models import AccessClaims
from o16n.errors import Unauthenticated
from o16n.ids import TokenFamilyId, UserId

_ALGORITHM = "HS256"
_ISSUER = "o16n"
_KEY_BYTES = 64


def load_or_create_key(path: Path) -> bytes:
    """The signing key at `path`, created on first use (mode 0600, in a 0700 directory).

    The new key is written to a unique temporary file and linked into place, so two
    processes creating it at once end up with the same key.
    """
    if not path.exists():
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=".key-")
        try:
            with os.fdopen(descriptor, "wb") as handle:
                handle.write(secrets.token_bytes(_KEY_BYTES))
                handle.flush()
                os.fsync(handle.fileno())
            with contextlib.suppress(FileExistsError):
                os.link(temporary, path)
        finally:
            os.unlink(temporary)
    return path.read_bytes()


class JwtSigner:
    """The TokenSigner port: compact HS256 JWTs carrying identity, family and generation."""

    def __init__(self, key: bytes) -> None:
        self._key = key

    def sign(self, claims: AccessClaims) -> str:
        """A token for `claims`, expiring at `claims.expires_on`."""
        payload = {
            "iss": _ISSUER,
            "sub": claims.username,
            "uid": claims.user_id,
            "fam": claims.family_id,
            "gen": claims.generation,
            "exp": claims.expires_on,
        }
        return jwt.encode(payload, self._key, algorithm=_ALGORITHM)

    def verify(self, token: str) -> AccessClaims:
        """The claims of a valid token; Unauthenticated when forged, malformed or expired."""
        try:
            payload = jwt.decode(
                token,
                self._key,
                algorithms=[_ALGORITHM],
                issuer=_ISSUER,
                options={"require": ["exp", "sub", "uid", "fam", "gen"]},
            )
        except jwt.ExpiredSignatureError as error:
            raise Unauthenticated("access token expired: refresh it or log in again") from error
        except jwt.InvalidTokenError as error:
            raise Unauthenticated("access token is invalid") from error
        return AccessClaims(
            user_id=UserId(str(payload["uid"])),
            username=str(payload["sub"]),
            family_id=TokenFamilyId(str(payload["fam"])),
            generation=int(payload["gen"]),
            expires_on=int(payload["exp"]),
        )
