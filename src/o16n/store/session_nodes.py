"""The SessionDirectory port in the metadata database: one row per live session, naming the
internal URL of the node that holds it."""

from __future__ import annotations

from sqlalchemy import Engine, Row, delete, insert, select

from o16n.domain.models import Session
from o16n.ids import SessionId, UserId
from o16n.store.tables import session_nodes


def _session(row: Row[tuple[object, ...]]) -> Session:
    mapping = row._mapping
    return Session(
        id=SessionId(mapping["session_id"]),
        name=mapping["name"],
        owner_id=UserId(mapping["owner_id"]),
        owner_name=mapping["owner_name"],
        runtime_type=mapping["runtime_type"],
        created_at=mapping["created_at"],
    )


class SqlSessionDirectory:
    """Where every node's sessions live; this node is the one reached at `node_url`."""

    def __init__(self, engine: Engine, node_url: str) -> None:
        self._engine = engine
        self._node_url = node_url

    def record(self, session: Session) -> None:
        """This node holds `session`."""
        values = {
            "session_id": session.id,
            "node_url": self._node_url,
            "name": session.name,
            "owner_id": session.owner_id,
            "owner_name": session.owner_name,
            "runtime_type": session.runtime_type,
            "created_at": session.created_at,
        }
        with self._engine.begin() as connection:
            connection.execute(insert(session_nodes).values(values))

    def remove(self, session_ids: list[SessionId]) -> None:
        """These sessions of this node are closed."""
        with self._engine.begin() as connection:
            connection.execute(
                delete(session_nodes).where(
                    session_nodes.c.session_id.in_(session_ids),
                    session_nodes.c.node_url == self._node_url,
                )
            )

    def node_of(self, session_id: str) -> str | None:
        """The URL of the other node that holds the session (None: this one, or none)."""
        statement = select(session_nodes.c.node_url).where(session_nodes.c.session_id == session_id)
        with self._engine.connect() as connection:
            url = connection.execute(statement).scalar()
        return None if url is None or url == self._node_url else str(url)

    def listed(self, owner_id: UserId | None) -> list[Session]:
        """Every node's live sessions (of one owner), oldest first."""
        statement = select(session_nodes).order_by(session_nodes.c.created_at)
        if owner_id is not None:
            statement = statement.where(session_nodes.c.owner_id == owner_id)
        with self._engine.connect() as connection:
            return [_session(row) for row in connection.execute(statement)]

    def forget_this_node(self) -> None:
        """Drop the sessions an earlier run of this node recorded."""
        with self._engine.begin() as connection:
            connection.execute(
                delete(session_nodes).where(session_nodes.c.node_url == self._node_url)
            )
