"""The health report of GET /status: a tree of pass/warn/fail components."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from o16n.domain.ports import MetadataStore

HealthState = Literal["pass", "warn", "fail"]
Detail = str | int | float | bool | None


@dataclass(frozen=True)
class Health:
    """One node of the report; the worst state of the components bubbles up."""

    state: HealthState
    details: dict[str, Detail] = field(default_factory=dict)
    components: dict[str, Health] | None = None


def _worst(states: list[HealthState]) -> HealthState:
    if "fail" in states:
        return "fail"
    return "warn" if "warn" in states else "pass"


class StatusReporter:
    """Asks each part of the server how it is."""

    def __init__(
        self,
        store: MetadataStore,
        backends: Callable[[], dict[str, Health]],
        details: dict[str, Detail],
    ) -> None:
        self._store = store
        self._backends = backends
        self._details = details

    def report(self) -> Health:
        """The whole tree: database, authentication and compute backends."""
        backends = self._backends()
        components = {
            "database": self._database(),
            "authentication": Health("pass", components={"local": Health("pass")}),
            "backends": Health(_worst([b.state for b in backends.values()]), {}, backends),
        }
        state = _worst([component.state for component in components.values()])
        return Health(state, dict(self._details), components)

    def _database(self) -> Health:
        try:
            return Health("pass", dict(self._store.describe()))
        except Exception as error:
            return Health("fail", {"error": type(error).__name__})
