"""The single authorization decision: may this caller do this to that resource?"""

from __future__ import annotations

from o16n.auth.roles import PERMISSIONS, Action
from o16n.domain.models import Principal
from o16n.ids import UserId

_OWNED_ACTIONS = {Action.MANAGE_OWN_SERVICES: Action.MANAGE_ANY_SERVICE}


def is_allowed(user: Principal, action: Action, owner: UserId | None = None) -> bool:
    """Whether `user` may do `action`; `owner` is the owner of the resource, where it has one.

    An action on an owned resource is allowed to its owner with the "own" right, and to
    anybody holding the matching "any" right. A user without a role may do nothing.
    """
    if user.role is None:
        return False
    rights = PERMISSIONS[user.role]
    if owner is None or action not in _OWNED_ACTIONS:
        return action in rights
    if owner == user.user_id and action in rights:
        return True
    return _OWNED_ACTIONS[action] in rights
