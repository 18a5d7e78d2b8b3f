"""Signed access tokens (JWT, HS256) with keys kept in the database."""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import jwt

from o16n.domain.models import AccessClaims, SigningKey
from o16n.errors import Unauthenticated
from o16n.ids import TokenFamilyId, UserId, new_guid

_ALGORITHM = "HS256"
_ISSUER = "o16n"
_KEY_BYTES = 64


def new_key(legacy_file: Path) -> SigningKey:
    """A key to store if the database has none: the one an older o16n kept in `legacy_file`
    (so that its tokens stay valid), else a fresh random one."""
    secret = legacy_file.read_bytes() if legacy_file.is_file() else secrets.token_bytes(_KEY_BYTES)
    return SigningKey(kid=new_guid(), secret=secret)


class JwtSigner:
    """The TokenSigner port: compact HS256 JWTs carrying identity, family and generation.

    The newest of `keys` signs (its id in the `kid` header); any of them verifies, so a key
    can be rotated. A token without `kid` (from before keys had ids) is tried with each.
    """

    def __init__(self, keys: Sequence[SigningKey]) -> None:
        if not keys:
            raise ValueError("a signer needs at least one key")
        self._signing = keys[-1]
        self._by_kid = {key.kid: key.secret for key in keys}

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
        return jwt.encode(
            payload,
            self._signing.secret,
            algorithm=_ALGORITHM,
            headers={"kid": self._signing.kid},
        )

    def verify(self, token: str) -> AccessClaims:
        """The claims of a valid token; Unauthenticated when forged, malformed or expired."""
        try:
            payload = self._decoded(token)
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

    def _decoded(self, token: str) -> dict[str, Any]:
        kid = jwt.get_unverified_header(token).get("kid")
        if kid is None:  # signed before keys had ids: by one of them
            candidates = list(self._by_kid.values())
        elif str(kid) in self._by_kid:
            candidates = [self._by_kid[str(kid)]]
        else:
            raise jwt.InvalidSignatureError("unknown key id")
        for secret in candidates[:-1]:
            with contextlib.suppress(jwt.InvalidSignatureError):
                return _decode(token, secret)
        return _decode(token, candidates[-1])


def _decode(token: str, secret: bytes) -> dict[str, Any]:
    payload: dict[str, Any] = jwt.decode(
        token,
        secret,
        algorithms=[_ALGORITHM],
        issuer=_ISSUER,
        options={"require": ["exp", "sub", "uid", "fam", "gen"]},
    )
    return payload
