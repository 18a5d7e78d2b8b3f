"""Per-request authentication: verify an access token and resolve the caller's role, cached."""

from __future__ import annotations

import time
from collections import OrderedDict

from o16n.domain.models import Principal
from o16n.domain.ports import MetadataStore, TokenSigner
from o16n.errors import Unauthenticated

_CACHE_LIMIT = 10_000


class Authenticator:
    """Turns a bearer token into a Principal; results are cached for `cache_seconds`.

    Revocation, refresh and role changes made through this process call `forget_all`;
    changes made elsewhere (another node, the CLI) are seen within `cache_seconds`.
    """

    def __init__(self, store: MetadataStore, signer: TokenSigner, cache_seconds: float) -> None:
        self._store = store
        self._signer = signer
        self._cache_seconds = cache_seconds
        self._cache: OrderedDict[str, tuple[float, Principal]] = OrderedDict()

    def cached(self, token: str) -> Principal | None:
        """The principal for `token` when a fresh cache entry exists (no I/O)."""
        entry = self._cache.get(token)
        if entry is None:
            return None
        valid_until, principal = entry
        if time.monotonic() >= valid_until:
            del self._cache[token]
            return None
        return principal

    def authenticate(self, token: str) -> Principal:
        """Verify `token` against the signature, expiry, its family and the user's role."""
        principal = self.cached(token)
        if principal is not None:
            return principal
        claims = self._signer.verify(token)
        with self._store.unit_of_work() as uow:
            family = uow.tokens.family(claims.family_id)
            user = uow.users.by_id(claims.user_id)
        if family is None or family.revoked or family.generation != claims.generation:
            raise Unauthenticated("token was revoked or replaced by a newer one")
        if user is None:
            raise Unauthenticated("the account no longer exists")
        principal = Principal(user.id, user.username, user.role, family.id)
        lifetime = min(self._cache_seconds, claims.expires_on - time.time())
        if lifetime > 0:
            self._remember(token, time.monotonic() + lifetime, principal)
        return principal

    def forget_all(self) -> None:
        """Drop every cached result (after a revocation, refresh or role change)."""
        self._cache.clear()

    def _remember(self, token: str, valid_until: float, principal: Principal) -> None:
        self._cache[token] = (valid_until, principal)
        if len(self._cache) > _CACHE_LIMIT:
            self._cache.popitem(last=False)
