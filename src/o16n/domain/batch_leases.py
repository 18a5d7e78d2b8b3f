"""Leases on batch executions, so that many web nodes share them and take over a dead one's.

Each server process is a node with a random id. A node holds an execution it runs by a lease
in the database (holder, expiry, generation): it renews its leases every fifth of the lease
time, and every half of it claims the unfinished executions whose lease expired (their node
died or stalled) or that have none. Whatever a node commits for an execution goes through the
journal, which refuses the entries of a lease the node no longer holds.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from o16n.ids import new_guid

_log = logging.getLogger("o16n.batch")


@dataclass(frozen=True)
class LeaseTerms:
    """This node's id and how long its leases last."""

    seconds: float
    node: str = field(default_factory=new_guid)

    def until(self, moment: datetime) -> datetime:
        """When a lease taken or renewed at `moment` expires."""
        return moment + timedelta(seconds=self.seconds)


async def keep_leases(
    terms: LeaseTerms,
    renew: Callable[[], Awaitable[int]],
    take_over: Callable[[], Awaitable[int]],
) -> None:
    """Forever: `renew` every fifth of a lease, `take_over` at once and every half lease (each
    says how many executions it stopped or took)."""
    next_scan = time.monotonic()
    while True:
        await _logged(renew, "batch executions stopped, their lease lost: %d")
        if time.monotonic() >= next_scan:
            await _logged(take_over, "batch executions taken over: %d")
            next_scan = time.monotonic() + terms.seconds / 2
        await asyncio.sleep(terms.seconds / 5)


async def _logged(step: Callable[[], Awaitable[int]], message: str) -> None:
    """Run one step; a database hiccup is logged and outlived."""
    try:
        count = await step()
    except Exception:
        _log.exception("batch leases: a step failed")
    else:
        if count:
            _log.info(message, count)
