"""The token signing keys every node shares: made once, by whichever node starts first."""

from __future__ import annotations

from o16n.domain.models import SigningKey
from o16n.domain.ports import MetadataStore


def shared_keys(store: MetadataStore, candidate: SigningKey) -> list[SigningKey]:
    """Every stored key, oldest first (the last one signs).

    On an empty table `candidate` becomes the first key; when nodes start together, one
    insert wins and every node reads back the same key.
    """
    with store.unit_of_work() as uow:
        uow.signing_keys.add_first(candidate)
        return uow.signing_keys.all()
