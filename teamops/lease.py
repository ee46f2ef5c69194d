"""One holder at a time for a long-lived connection, across every copy of a process (a Discord
Gateway session: two sessions of one bot would each receive every message).

A copy runs the connection only while it holds the lease in MongoDB (the `leases` collection). It
renews the lease every third of its length and stops the connection as soon as it can no longer be
sure the lease is still its own: a renewal refused (someone else holds it) or no renewal for two
thirds of the lease (the database is unreachable), so the connection is closed before anyone else
could take over. A copy that does not hold the lease looks again every third of its length, so it
takes over at most about 4/3 of a lease after the holder's last renewal; a clean stop releases the
lease and the other copy takes over on its next look.

Each renewal also carries the connection's heartbeat (its state, and when it was last up), which
`health()` turns into the web service's `/ready` field.
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import socket
import time
from datetime import datetime, timezone

from teamops import stopping

log = logging.getLogger("teamops.lease")

OK, STALE, OFF = "ok", "stale", "off"


def holder_name() -> str:
    """Who we are, for the lease and for the person reading it: host, process, and a random part
    (a restarted process with the same pid is someone else)."""
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{secrets.token_hex(3)}"


def health(doc: dict | None, lease_seconds: float, now: datetime | None = None) -> str:
    """The connection's health from its lease record: "ok" when its holder said it was up within
    one lease length, "off" when nobody runs it (no record, or released by a clean stop), "stale"
    otherwise (its holder died, or cannot connect)."""
    if doc is None or doc.get("state") == "stopped":
        return OFF
    beat = doc.get("beat_at")
    now = now or datetime.now(timezone.utc)
    if beat is not None and (now - beat).total_seconds() <= lease_seconds:
        return OK
    return STALE


class LeaseHolder:
    """Runs `work()` while this process holds lease `name`; `status()` -> (state, up) is written
    with each renewal."""

    def __init__(self, store, name: str, seconds: float, status, holder: str | None = None):
        self.store = store
        self.name = name
        self.seconds = seconds
        self.status = status
        self.holder = holder or holder_name()
        self.held = False

    async def run(self, work) -> None:
        """Wait for the lease, run `work` while it is ours, wait again when it is lost; until
        cancelled, which stops `work` and releases the lease."""
        waiting_logged = False
        while True:
            if not await self._take():
                if not waiting_logged:
                    await self._log_holder()
                    waiting_logged = True
                await asyncio.sleep(self.seconds / 3)
                continue
            waiting_logged = False
            log.info("lease %s taken by %s", self.name, self.holder)
            self.held = True
            try:
                lost = await self._hold(asyncio.create_task(work()))
            except asyncio.CancelledError:  # stopping: the work is stopped, the lease let go
                await self._release()
                raise
            finally:
                self.held = False
            if lost:
                log.warning("lease %s lost; connection stopped, waiting to take it again", self.name)
            else:  # the work ended by itself (a bug): start it again, not in a tight loop
                await asyncio.sleep(self.seconds / 3)

    async def _take(self) -> bool:
        try:
            return await self.store.lease_take(self.name, self.holder, self.seconds)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.warning("lease %s: taking it failed: %s", self.name, type(exc).__name__)
            return False

    async def _log_holder(self) -> None:
        try:
            doc = await self.store.lease(self.name) or {}
        except Exception:
            doc = {}
        log.info("lease %s is held by %s; waiting (looking every %.0fs)", self.name, doc.get("holder", "another copy"),
                 self.seconds / 3)

    async def _hold(self, task: asyncio.Task) -> bool:
        """Renew until the lease is lost (True) or `task` ends (False); the task is stopped either way."""
        safe_until = time.monotonic() + self.seconds * 2 / 3
        try:
            while not task.done():
                done, _ = await asyncio.wait({task}, timeout=self.seconds / 3)
                if done:
                    break
                state, up = self.status()
                try:
                    async with asyncio.timeout(max(0.1, safe_until - time.monotonic())):
                        renewed = await self.store.lease_renew(self.name, self.holder, self.seconds, state, up)
                    if not renewed:
                        return True  # someone else holds it now
                    safe_until = time.monotonic() + self.seconds * 2 / 3
                except asyncio.CancelledError:
                    raise
                except Exception as exc:
                    log.warning("lease %s: renewal failed: %s", self.name, type(exc).__name__)
                    if time.monotonic() >= safe_until:
                        log.error("lease %s: not renewed for %.0fs; stopping before another copy takes over",
                                  self.name, self.seconds * 2 / 3)
                        return True
            if not task.cancelled() and task.exception() is not None:
                log.error("lease %s: the connection ended with %s", self.name, type(task.exception()).__name__)
            return False
        finally:
            await stopping.stop(task)

    async def _release(self) -> None:
        try:
            async with asyncio.timeout(5):
                await self.store.lease_release(self.name, self.holder)
            log.info("lease %s released", self.name)
        except Exception as exc:  # it runs out by itself
            log.warning("lease %s: release failed (%s); it runs out in %.0fs", self.name, type(exc).__name__,
                        self.seconds)
