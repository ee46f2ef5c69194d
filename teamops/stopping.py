"""How a background task is stopped: cancelled, and cancelled again until it has ended.

On Python 3.11 (what Render runs) a cancellation can be lost: `asyncio.wait_for` returns what it
waited for, and the task goes on, when that arrives in the same moment as the cancellation
(CPython gh-86296, fixed in 3.12 by building `wait_for` on `asyncio.timeout`). Our own code waits
with `asyncio.timeout` (ruff refuses `asyncio.wait_for`, see pyproject.toml), but the MongoDB
driver still uses `wait_for` on every socket read, so a loop stopped in the middle of a query can
keep running. Cancelled once and awaited, such a task keeps a shutdown waiting forever (and a
lease renewed by a process that is going away).
"""

from __future__ import annotations

import asyncio
import logging
import time

log = logging.getLogger("teamops.stopping")

RECANCEL_SECONDS = 0.5  # a task still running this long after its cancellation is cancelled again


async def stop(*tasks: asyncio.Task, patience: float | None = None) -> None:
    """Cancel `tasks` and wait until each has ended, cancelling again those that go on; with
    `patience`, give up on those still running after that many seconds (logged)."""
    pending = {task for task in tasks if task is not None and not task.done()}
    deadline = None if patience is None else time.monotonic() + patience
    while pending:
        for task in pending:
            task.cancel()
        wait = RECANCEL_SECONDS if deadline is None else min(RECANCEL_SECONDS, max(0.0, deadline - time.monotonic()))
        _, pending = await asyncio.wait(pending, timeout=wait)
        if pending and deadline is not None and time.monotonic() >= deadline:
            log.warning("%d tasks still running %.1fs after they were cancelled; left behind", len(pending), patience)
            break
    for task in tasks:  # what ended with an error was reported where it happened; here it is only read
        if task is not None and task.done() and not task.cancelled():
            task.exception()
