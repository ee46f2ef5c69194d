"""The inbox worker: lease due items, decide once, deliver, mark done.

An item is leased (so two instances never both take it), its replies are decided once and kept on
the item, then delivered in order with the count of delivered replies recorded after each one. A
crash leaves the lease to run out; the next claim resumes after the last recorded reply, so a reply
is neither lost nor sent twice (bar a crash in the instant between an accepted send and the write
that records it).
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import time

from teamops import logs
from teamops.events import event_from_doc, replies_from_doc, to_doc
from teamops.senders import Outcome

log = logging.getLogger("teamops.worker")

SCAN_EVERY_SECONDS = 2.0  # how often the inbox is searched for items nobody handed over
SCAN_LIMIT = 100
QUEUE_LIMIT = 10_000
RETRY_BASE_SECONDS = 5.0


class Worker:
    """Items reach the worker two ways: the webhook hands over what it just stored (the hot path:
    no query needed to find it), and a scan every few seconds finds what was left behind: retries
    that fell due, items of a crashed worker whose lease ran out, items offered to a full queue.
    Either way an item is processed only after `inbox_take` leased it."""

    def __init__(self, store, assistant, senders: dict, lease_seconds: float, max_attempts: int, concurrency: int = 4):
        self.store = store
        self.assistant = assistant
        self.senders = senders
        self.lease_seconds = lease_seconds
        self.max_attempts = max_attempts
        self.concurrency = concurrency
        self.owner = f"{os.getpid()}-{secrets.token_hex(4)}"
        self._queue: asyncio.Queue = asyncio.Queue(maxsize=QUEUE_LIMIT)
        self._queued: set = set()
        self._tasks: list[asyncio.Task] = []

    def offer(self, item: dict) -> None:
        """Take this item soon. A full queue drops the offer: the scan will find the item later."""
        if item["_id"] in self._queued or self._queue.full():
            return
        self._queued.add(item["_id"])
        self._queue.put_nowait(item)

    def start(self) -> None:
        self._tasks = [asyncio.create_task(self._scan())]
        self._tasks += [asyncio.create_task(self._loop()) for _ in range(self.concurrency)]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []

    async def _scan(self) -> None:
        while True:
            try:
                for item in await self.store.inbox_due(SCAN_LIMIT):
                    self.offer(item)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("inbox scan failed: %s", type(exc).__name__)
            await asyncio.sleep(SCAN_EVERY_SECONDS)

    async def _loop(self) -> None:
        while True:
            item = await self._queue.get()
            self._queued.discard(item["_id"])
            try:
                taken = await self.store.inbox_take(item, self.owner, self.lease_seconds)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the scan offers it again once the database answers
                log.warning("inbox take failed: %s", type(exc).__name__)
                continue
            if taken is not None:
                await self.process(taken)
    async def process(self, item: dict) -> None:
        started = time.perf_counter()
        item_id = item["_id"]
        where = f"platform={item['platform']} event={item['event_id']}"
        try:
            replies_doc = item.get("replies")
            if replies_doc is None:
                event = event_from_doc(item["event"])
                replies = await self.assistant.handle(event)
                replies_doc = [to_doc(r) for r in replies]
                await self.store.inbox_plan(item_id, self.owner, replies_doc)
                sent = 0
            else:
                replies = replies_from_doc(replies_doc)
                sent = item.get("sent", 0)
            for index in range(sent, len(replies)):
                reply = replies[index]
                sender = self.senders.get(reply.platform)
                if sender is None:
                    log.error("no sender for platform %s; dropping reply (%s)", reply.platform, where)
                    outcome = Outcome("dropped", detail="no sender")
                else:
                    outcome = await sender.send(reply)
                if outcome.status == "retry":
                    await self._retry(item, f"send {outcome.detail}", outcome.retry_after)
                    return
                if outcome.status == "dropped":
                    log.warning("reply dropped: %s chat=%s %s", where, reply.chat_id, outcome.detail)
                await self.store.inbox_sent(item_id, self.owner, index + 1)
            await self.store.inbox_done(item_id, self.owner, f"replies={len(replies)}")
            log.info("handled %s replies=%d ms=%d", where, len(replies), (time.perf_counter() - started) * 1000)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            logs.failure(log, f"processing failed: {where}", exc)
            await self._retry(item, type(exc).__name__, 0.0)

    async def _retry(self, item: dict, reason: str, after: float) -> None:
        attempts = item.get("attempts", 1)
        where = f"platform={item['platform']} event={item['event_id']}"
        try:
            if attempts >= self.max_attempts:
                log.error("giving up after %d attempts: %s (%s)", attempts, where, reason)
                await self.store.inbox_done(item["_id"], self.owner, f"failed: {reason}")
                return
            delay = max(after, RETRY_BASE_SECONDS * 2 ** (attempts - 1))
            log.warning("will retry in %.0fs: %s (%s)", delay, where, reason)
            await self.store.inbox_retry(item["_id"], self.owner, delay, reason)
        except Exception as exc:  # the lease runs out and another claim takes it
            log.warning("could not reschedule %s: %s", where, type(exc).__name__)
