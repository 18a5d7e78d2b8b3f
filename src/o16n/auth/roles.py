"""The permission table of ML Server's roles (reference §16), in one place."""

from __future__ import annotations

import enum

from o16n.domain.models import Role


class Action(enum.StrEnum):
    """Everything a caller may be allowed to do."""

    READ_STATUS = "read_status"
    USE_SESSIONS = "use_sessions"
    USE_SNAPSHOTS = "use_snapshots"
    READ_SERVICES = "read_services"
    CONSUME_SERVICES = "consume_services"
    PUBLISH_SERVICES = "publish_services"
    MANAGE_OWN_SERVICES = "manage_own_services"
    MANAGE_ANY_SERVICE = "manage_any_service"
    SEE_ANY_CODE = "see_any_code"
    MANAGE_ANY_SESSION = "manage_any_session"
    MANAGE_USERS = "manage_users"
    MANAGE_ANY_BATCH = "manage_any_batch"
    READ_METRICS = "read_metrics"
    MANAGE_COMPUTE_NODES = "manage_compute_nodes"


_READER = frozenset(
    {
        Action.READ_STATUS,
        Action.USE_SESSIONS,
        Action.USE_SNAPSHOTS,
        Action.READ_SERVICES,
        Action.CONSUME_SERVICES,
    }
)
_CONTRIBUTOR = _READER | {Action.PUBLISH_SERVICES, Action.MANAGE_OWN_SERVICES}
_OWNER = _CONTRIBUTOR | {
    Action.MANAGE_ANY_SERVICE,
    Action.SEE_ANY_CODE,
    Action.MANAGE_ANY_SESSION,
    Action.MANAGE_USERS,
    Action.MANAGE_ANY_BATCH,
    Action.READ_METRICS,
    Action.MANAGE_COMPUTE_NODES,
}

PERMISSIONS: dict[Role, frozenset[Action]] = {
    Role.READER: _READER,
    Role.CONTRIBUTOR: frozenset(_CONTRIBUTOR),
    Role.OWNER: frozenset(_OWNER),
}
