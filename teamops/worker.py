"""The inbox worker: take an item, decide once, deliver in order, mark done.

An item is leased before anything is done with it, and the lease is renewed while the item is in
hand, so however slow a send is, no other worker or instance takes the item meanwhile; every write
names the lease, so a worker that lost its lease cannot write or send any further. The replies are
decided once and kept on the item, then delivered in order with the count of delivered replies
recorded after each one. A crash leaves the lease to run out; the next take resumes after the last
recorded reply, so a reply is neither lost nor sent twice (bar a crash in the instant between an
accepted send and the write that records it). The assistant's own state changes are keyed by the
event, so a decision made again after a failure comes out the same.

Items of one chat are handled one at a time, in the order they arrived. That alone does not keep
an edit from overtaking its original (the original's send may be waiting for a retry, or another
instance may hold it): the reply store does (see Assistant.on_edit), and the assistant may ask for
an item to be decided again later (Later), which puts it back like a retry.
A question for the language model waits in a lane of its own beside its chat's (events.lane_of),
so a slow model delays that answer, never the chat's later messages.

A request that is still waiting for its own HTTP response (a Discord interaction, see
RequestAnswers) may carry the first replies itself; those are recorded as sent and the worker
delivers only the rest. Such replies are never kept on the item: if the item must be taken again,
the decision is made again and delivered again, which the platforms that answer in the response
take as an edit of the same message (Discord's `@original`), never as a second message.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time

from teamops import logs
from teamops.assistant import Later
from teamops.events import event_from_doc, lane_of, replies_from_doc, to_doc
from teamops.senders import Outcome

log = logging.getLogger("teamops.worker")

SCAN_EVERY_SECONDS = 2.0  # how often the inbox is searched for items nobody handed over
SCAN_LIMIT = 500
QUEUE_LIMIT = 2_000  # items held in memory; beyond that they wait in the inbox for the scan
RETRY_BASE_SECONDS = 5.0
STOP_GRACE_SECONDS = 8.0  # on shutdown, how long items in hand may take to finish
IN_FLIGHT = 200  # items taken off the queue and not yet finished (most wait for their chat)


class LeaseLost(Exception):
    """Another worker holds this item now: stop touching it."""


class Worker:
    """Items reach the worker two ways: the webhook hands over what it just stored (the hot path:
    no query needed to find it), and a scan every few seconds finds what was left behind: retries
    that fell due, items of a crashed worker whose lease ran out, items offered to a full queue."""

    def __init__(self, store, assistant, senders: dict, lease_seconds: float, max_attempts: int, concurrency: int = 4,
                 platforms=None):
        self.answers = RequestAnswers()
        # Only items of these platforms are taken (None: those this worker has a sender for). Another
        # process may serve the rest: the Gateway worker and the web service share one inbox.
        self.platforms = platforms
        self.store = store
        self.assistant = assistant
        self.senders = senders
        self.lease_seconds = lease_seconds
        self.max_attempts = max_attempts
        self.concurrency = concurrency
        self._queue: asyncio.Queue = asyncio.Queue(maxsize=QUEUE_LIMIT)
        self._queued: set = set()
        self._chat_locks: dict[tuple, list] = {}  # chat -> [lock, items waiting or in hand]
        self._in_hand: set[asyncio.Task] = set()
        self._loops: list[asyncio.Task] = []
        self._slots = asyncio.Semaphore(concurrency)  # items being worked on at once
        self._admitted = asyncio.Semaphore(IN_FLIGHT)
        self._stopping = False

    def offer(self, item: dict) -> bool:
        """Take this item soon. False when it is queued already, or the queue is full (then the
        scan finds it later), or it is for a platform this worker does not serve."""
        if item["_id"] in self._queued or self._queue.full() or item["platform"] not in self.served():
            return False
        self._queued.add(item["_id"])
        self._queue.put_nowait(item)
        return True

    def served(self):
        return self.platforms if self.platforms is not None else self.senders.keys()

    def start(self) -> None:
        self._stopping = False
        self._loops = [asyncio.create_task(self._scan()), asyncio.create_task(self._dispatch())]

    async def stop(self) -> None:
        """Stop taking items; let those in hand finish what they are sending (up to a grace
        period), hand back those not started, then let the rest go: their leases run out and
        another instance, or this one restarted, takes them."""
        self._stopping = True
        for task in self._loops:
            task.cancel()
        await asyncio.gather(*self._loops, return_exceptions=True)
        self._loops = []
        if self._in_hand:
            _, late = await asyncio.wait(set(self._in_hand), timeout=STOP_GRACE_SECONDS)
            for task in late:
                task.cancel()
            await asyncio.gather(*late, return_exceptions=True)

    async def _scan(self) -> None:
        while True:
            backlog = False
            try:
                page = min(SCAN_LIMIT, QUEUE_LIMIT - self._queue.qsize())
                if page > 0:
                    due = await self.store.inbox_due(page, self.served())
                    fresh = sum(self.offer(item) for item in due)
                    backlog = fresh == len(due) == page
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("inbox scan failed: %s", type(exc).__name__)
            # A full page means more is waiting: look again as soon as the queue has room.
            await asyncio.sleep(0.2 if backlog else SCAN_EVERY_SECONDS)

    async def _dispatch(self) -> None:
        """One task per item, so an item waiting for its chat's turn holds no worker slot and a
        busy chat never holds up the others; at most IN_FLIGHT items between queue and done."""
        while True:
            await self._admitted.acquire()
            item = await self._queue.get()
            task = asyncio.create_task(self._run(item))
            self._in_hand.add(task)
            task.add_done_callback(functools.partial(self._finished, item["_id"]))

    def _finished(self, item_id, task: asyncio.Task) -> None:
        self._in_hand.discard(task)
        self._queued.discard(item_id)  # only now may the scan offer it again
        self._admitted.release()
        if not task.cancelled() and task.exception() is not None:
            logs.failure(log, "item task failed", task.exception())

    async def _run(self, item: dict) -> None:
        key = (item["platform"], lane_of(item.get("event") or {}))
        entry = self._chat_locks.setdefault(key, [asyncio.Lock(), 0])
        entry[1] += 1
        try:
            async with entry[0], self._slots:
                if self._stopping:
                    return
                try:
                    taken = await self.store.inbox_take(item, self.lease_seconds)
                except Exception as exc:  # the scan offers it again once the database answers
                    log.warning("inbox take failed: %s", type(exc).__name__)
                    return
                if taken is not None:
                    await self.process(taken)
        finally:
            entry[1] -= 1
            if entry[1] == 0:
                del self._chat_locks[key]

    async def process(self, item: dict) -> None:
        lease = _LeaseClock(self.lease_seconds)
        keeper = asyncio.create_task(self._keep_lease(item, lease))
        try:
            await self._process(item, lease)
        finally:
            keeper.cancel()

    async def _keep_lease(self, item: dict, lease: "_LeaseClock") -> None:
        while True:
            await asyncio.sleep(self.lease_seconds / 3)
            try:
                if await self.store.inbox_renew(item, self.lease_seconds):
                    lease.renewed()
                else:
                    lease.lost()
                    return
            except Exception as exc:  # not renewed: the clock runs down and sending stops in time
                log.warning("lease renewal failed: %s", type(exc).__name__)

    async def _process(self, item: dict, lease: "_LeaseClock") -> None:
        started = time.perf_counter()
        where = f"platform={item['platform']} event={item['event_id']}"
        try:
            replies_doc = item.get("replies")
            if replies_doc is None:
                event = event_from_doc(item["event"])
                try:
                    replies = await self.assistant.handle(event, item["event_id"])
                except Later as later:  # e.g. an edit whose reply is not out yet: decided again then
                    await self._retry(item, later.reason, later.seconds, quiet=True)
                    return
                replies_doc = [to_doc(r) for r in replies]
                # The request may still be waiting to carry the first replies in its response.
                sent, waiter = self.answers.hand_over(item["platform"], item["event_id"], replies)
                if sent < len(replies):
                    _held(await self.store.inbox_plan(item, replies_doc, sent))
                if waiter is not None and sent < len(replies):
                    await waiter.out()  # a follow-up must not overtake the response it follows
            else:
                replies = replies_from_doc(replies_doc)
                sent = item.get("sent", 0)
            for index in range(sent, len(replies)):
                if not lease.safe():
                    raise LeaseLost()
                if self._stopping:
                    await self.store.inbox_retry(item, 0.0, "shutting down")  # next instance resumes here
                    return
                reply = replies[index]
                outcome = await self._deliver(reply, where)
                if outcome.status == "retry":
                    await self._retry(item, f"send {outcome.detail}", outcome.retry_after)
                    return
                if outcome.status == "dropped":
                    log.warning("reply dropped: %s chat=%s %s", where, reply.chat_id, outcome.detail)
                if reply.follows:
                    await self._note_delivered(reply, outcome)
                if index + 1 < len(replies):  # after the last one, marking the item done says it
                    _held(await self.store.inbox_sent(item, index + 1))
            _held(await self.store.inbox_done(item, f"replies={len(replies)}"))
            log.info("handled %s replies=%d ms=%d", where, len(replies), (time.perf_counter() - started) * 1000)
        except LeaseLost:
            log.warning("lease taken over, leaving it: %s", where)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            logs.failure(log, f"processing failed: {where}", exc)
            await self._retry(item, type(exc).__name__, 0.0)

    async def _deliver(self, reply, where: str) -> Outcome:
        """Send one reply; a private answer the platform refuses is replaced by its fallback,
        never sent publicly as it is (it may carry a personal link)."""
        sender = self.senders.get(reply.platform)
        if sender is None:
            log.error("no sender for platform %s; dropping reply (%s)", reply.platform, where)
            return Outcome("dropped", detail="no sender")
        outcome = await sender.send(reply)
        if outcome.status != "refused":
            return outcome
        if reply.fallback is None:
            return Outcome("dropped", detail=f"private answer refused: {outcome.detail}")
        log.info("private answer refused (%s), sending its fallback: %s chat=%s", outcome.detail, where, reply.chat_id)
        outcome = await sender.send(reply.fallback)
        return Outcome("dropped", detail="fallback refused") if outcome.status == "refused" else outcome

    async def _note_delivered(self, reply, outcome: Outcome) -> None:
        """Keep the id of our reply to the message it follows, so an edit of that message can
        edit or delete it; "" when there is no reply left that we could edit."""
        if reply.delete or outcome.status != "sent":
            reply_id = ""
        else:
            reply_id = reply.edit_of or outcome.message_id
        try:
            await self.store.reply_delivered(reply.platform, reply.chat_id, reply.follows, reply_id)
        except Exception as exc:  # the reply is out: failing the item now would send it twice
            log.warning("recording a sent reply failed: %s", type(exc).__name__)

    async def _retry(self, item: dict, reason: str, after: float, quiet: bool = False) -> None:
        attempts = item.get("attempts", 1)
        where = f"platform={item['platform']} event={item['event_id']}"
        try:
            if attempts >= self.max_attempts:
                log.error("giving up after %d attempts: %s (%s)", attempts, where, reason)
                await self.store.inbox_failed(item, reason)
                return
            delay = max(after, RETRY_BASE_SECONDS * 2 ** (attempts - 1))
            log.log(logging.INFO if quiet else logging.WARNING, "will retry in %.0fs: %s (%s)", delay, where, reason)
            await self.store.inbox_retry(item, delay, reason)
        except Exception as exc:  # the lease runs out and the scan offers it again
            log.warning("could not reschedule %s: %s", where, type(exc).__name__)


def _held(still_ours: bool) -> None:
    if not still_ours:
        raise LeaseLost()


class RequestAnswers:
    """Requests that can carry their first replies in their own HTTP response (a Discord
    interaction must be answered within 3 s, and an answer in the response is the quickest).

    The handler registers the request with `expect` and waits a bounded time. If the worker decides
    meanwhile, `hand_over` lets the handler's `take` choose the replies its response carries, and
    the worker delivers only the rest, once the response is out. If the wait ends first, `defer`
    makes the worker deliver everything itself. All of it runs on the event loop, between awaits,
    so the two can never both deliver one reply.
    """

    OUT_WAIT_SECONDS = 5.0

    def __init__(self):
        self._waiting: dict[tuple[str, str], _Waiter] = {}

    def expect(self, platform: str, event_id: str, take) -> "_Waiter | None":
        """`take(replies) -> (response, count)`: the response for the first `count` replies.
        None when the same request is waiting already (a duplicate delivery)."""
        if (platform, event_id) in self._waiting:
            return None
        waiter = _Waiter(take)
        self._waiting[(platform, event_id)] = waiter
        return waiter

    def waiting(self, platform: str, event_id: str, waiter: "_Waiter") -> bool:
        return self._waiting.get((platform, event_id)) is waiter

    def defer(self, platform: str, event_id: str, waiter: "_Waiter") -> bool:
        """Stop waiting. False when the replies were handed over already (then use them)."""
        if self._waiting.get((platform, event_id)) is waiter:
            del self._waiting[(platform, event_id)]
        return not waiter.decided.done()

    def hand_over(self, platform: str, event_id: str, replies: list) -> tuple[int, "_Waiter | None"]:
        """How many replies the waiting request carries (0 when nobody waits) and its waiter."""
        waiter = self._waiting.pop((platform, event_id), None)
        if waiter is None or waiter.decided.done():
            return 0, None
        try:
            response, count = waiter.take(replies)
        except Exception as exc:  # a rendering bug: the request defers, the worker sends it all
            logs.failure(log, "answering in the request failed", exc)
            return 0, None
        waiter.decided.set_result(response)
        return count, waiter


class _Waiter:
    def __init__(self, take):
        self.take = take
        self.decided: asyncio.Future = asyncio.get_running_loop().create_future()
        self._out = asyncio.Event()

    def responded(self) -> None:
        """The response has been sent (called after it, e.g. from Falcon's resp.schedule)."""
        self._out.set()

    async def out(self) -> None:
        try:
            await asyncio.wait_for(self._out.wait(), RequestAnswers.OUT_WAIT_SECONDS)
        except TimeoutError:
            pass


class _LeaseClock:
    """When our lease is surely still ours: a send starts only with a third of the lease in hand,
    so it ends before anybody else could take the item, even if renewals fail meanwhile."""

    def __init__(self, lease_seconds: float):
        self.lease_seconds = lease_seconds
        self.renewed()

    def renewed(self) -> None:
        self._safe_until = time.monotonic() + self.lease_seconds * 2 / 3

    def lost(self) -> None:
        self._safe_until = 0.0

    def safe(self) -> bool:
        return time.monotonic() < self._safe_until
