"""The inbox worker: take an item, decide once, deliver in order, mark done.

An item is leased before anything is done with it (a webhook's new item is usually stored leased
already to the worker that will hold it: Worker.lease_for), and the lease is renewed while it is in
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
import collections
import functools
import logging
import secrets
import time
from datetime import datetime, timezone

from teamops import logs, stopping
from teamops.assistant import Later
from teamops.events import event_from_doc, lane_of, replies_from_doc, to_doc
from teamops.senders import Outcome

log = logging.getLogger("teamops.worker")

SCAN_EVERY_SECONDS = 2.0  # how often the inbox is searched for items nobody handed over
SCAN_LIMIT = 500
QUEUE_LIMIT = 2_000  # items held in memory; beyond that they wait in the inbox
LANE_LIMIT = 100  # items of one lane held in memory; beyond that they wait in the inbox, in order
LANE_BACKLOG_LIMIT = 1_000  # a lane's items waiting in the inbox past which its new ones are refused
RETRY_BASE_SECONDS = 5.0
STOP_GRACE_SECONDS = 8.0  # on shutdown, how long items in hand may take to finish
OUTAGE_WAIT_SECONDS = 5.0  # an item in hand when the database went away waits this long for it
RECORD_PATIENCE_SECONDS = 120.0  # how long replies already out wait to be recorded through an outage


class LeaseLost(Exception):
    """Another worker holds this item now: stop touching it."""


class _Lane:
    """The items of one lane (a chat, or a chat's questions for the model) held in memory, in order.

    `spilled`: an item of this lane was refused (the lane or the worker was full), so it and
    everything after it wait in the inbox; until the lane has been read back from there
    (Worker._refill), later items are refused too, or they would overtake it."""

    __slots__ = ("items", "busy", "spilled", "refused_at", "refilling", "stored", "releasing")

    def __init__(self):
        self.items: collections.deque = collections.deque()
        self.busy = False  # an item of this lane is in hand
        self.spilled = False
        self.refused_at = 0.0
        self.refilling = False
        self.stored = 0  # items refused here since it spilled: waiting in the inbox (an estimate)
        self.releasing = 0  # items of this lane being given back to the inbox: no read back until they are


class Worker:
    """Items reach the worker two ways: the webhook hands over what it just stored (the hot path:
    no query needed to find it), and a scan every few seconds finds what was left behind: retries
    that fell due, items of a crashed worker whose lease ran out, items of another instance.

    Fairness: every lane waits in a ring, and each free slot takes one item of the next lane in
    turn, at most one item per lane in hand. A chat with a thousand items waiting gets one turn
    per round like a chat with one, so a quiet chat waits for at most one item of each busy chat.
    A lane holds at most LANE_LIMIT items in memory; the rest wait in the inbox and are read back,
    oldest first, when the lane has run dry, so a flood is slowed, never dropped, and its order kept.
    """

    def __init__(self, store, assistant, senders: dict, lease_seconds: float, max_attempts: int, concurrency: int = 4,
                 platforms=None, backlog_limit: int = 1_000):
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
        self._lanes: dict[tuple, _Lane] = {}  # (platform, lane) -> its items in memory
        self._ready: collections.deque = collections.deque()  # lanes with an item to take, in turn
        self._held = 0  # items in the lanes, not yet in hand
        self._queued: set = set()  # ids of items held or in hand
        self._minted: dict[str, float] = {}  # lease tokens handed to webhooks (lease_for), not yet offered
        self._taken: set = set()  # ids of held items stored taken by us: no inbox_take needed
        self._wake = asyncio.Event()
        self._in_hand: set[asyncio.Task] = set()
        self._loops: list[asyncio.Task] = []
        self._refills: set[asyncio.Task] = set()
        self._slots = asyncio.Semaphore(concurrency)  # items being worked on at once
        self._stopping = False
        self.backlog_limit = backlog_limit
        self._stored = 0  # the lanes' `stored`, summed
        self._turned_away = 0
        self._turned_away_logged = -10.0
        self._turning_away_since = 0.0
        health = getattr(store, "health", None)
        if health is not None:
            health.waiting = lambda: len(self._queued)

    def lease_for(self, platform: str, event: dict) -> str | None:
        """A lease token for a new event a webhook is about to store, when this worker would hold
        it at once: the item is then stored already taken (see Store.inbox_put), which saves the
        write that takes it, a quarter of what a converted message costs the database. None when
        the item would wait in the inbox (its lane spilled or full, the worker full or stopping, a
        platform this worker does not serve): it is stored pending, as before."""
        if self._stopping or platform not in self.served() or self._held >= QUEUE_LIMIT:
            return None
        lane = self._lanes.get((platform, lane_of(event)))
        if lane is not None and (lane.spilled or len(lane.items) >= LANE_LIMIT):
            return None
        if len(self._minted) >= QUEUE_LIMIT:  # tokens of writes that failed or were duplicates
            stale = time.monotonic() - self.lease_seconds
            self._minted = {token: at for token, at in self._minted.items() if at > stale}
        token = secrets.token_hex(8)
        self._minted[token] = time.monotonic()
        return token

    async def put(self, platform: str, event_id: str, event: dict, due_in: float = 0.0,
                  redelivered: bool = False) -> dict | None:
        """Store a new event and hand it to this worker: the stored item, or None for a duplicate.
        Raises StorageError as Store.inbox_put does (nothing was handed over)."""
        item = await self.store.inbox_put(platform, event_id, event, due_in=due_in, redelivered=redelivered,
                                          lease=self.lease_for(platform, event), lease_seconds=self.lease_seconds)
        if item is not None:
            self.offer(item)
        return item

    def offer(self, item: dict) -> bool:
        """Take this item soon. False when it is held already, or it must wait in the inbox (its
        lane or the worker is full: the lane reads it back later), or it is for a platform this
        worker does not serve."""
        taken = item.get("state") == "working" and self._minted.pop(item.get("lease"), None) is not None
        if item["_id"] in self._queued or item["platform"] not in self.served():
            return False
        key = _lane_key(item)
        lane = self._lanes.get(key)
        if lane is None:
            lane = self._lanes[key] = _Lane()
        if taken and lane.spilled:
            # Stored taken, but an item of its lane that came in meanwhile waits in the inbox: give
            # this one back too (its place in the lane's order kept), or it would overtake that one.
            # The lane is read back only once it is pending again, or the read would miss it.
            lane.refused_at = time.monotonic()
            lane.stored += 1
            self._stored += 1
            lane.releasing += 1
            self._give_back([item], (key, lane))
            return False
        if taken:  # ours already: held even past the limits (by at most the writes on their way)
            self._taken.add(item["_id"])
            self._hold(key, lane, item)
            return True
        if lane.spilled or len(lane.items) >= LANE_LIMIT or self._held >= QUEUE_LIMIT:
            lane.spilled = True
            lane.refused_at = time.monotonic()
            lane.stored += 1
            self._stored += 1
            if not (lane.busy or lane.items or lane.refilling) and self._held < QUEUE_LIMIT:
                self._refill(key, lane)  # an idle lane: nothing else would read it back soon
            return False
        self._hold(key, lane, item)
        return True

    def backlog(self) -> int:
        """Items this worker knows to be waiting: in memory, in hand, and spilled to the inbox."""
        return len(self._queued) + self._stored

    def admits(self, platform: str, event: dict) -> bool:
        """May a webhook store this new event? No when its lane has items waiting (in memory or in
        the inbox) and either the lane has LANE_BACKLOG_LIMIT items waiting in the inbox or this
        worker's whole backlog is past `backlog_limit`: the webhook then answers 503 and the
        platform keeps the message and redelivers it later, so neither memory nor the wait for a
        reply grows without bound (many chats each a little behind count as much as one far
        behind). A chat with nothing waiting is always admitted: its reply comes in its next turn."""
        lane = self._lanes.get((platform, lane_of(event)))
        if lane is None or not (lane.items or lane.spilled):
            return True
        if lane.stored < LANE_BACKLOG_LIMIT and self.backlog() < self.backlog_limit:
            return True
        now = time.monotonic()
        if not self._turned_away:
            self._turning_away_since = now
        self._turned_away += 1
        if now - self._turned_away_logged >= 10.0:
            log.warning("backlog full: %d deliveries refused (503) in %.0fs, %d items waiting",
                        self._turned_away, now - self._turning_away_since, self.backlog())
            self._turned_away, self._turned_away_logged = 0, now
        return False

    def _give_back(self, items: list[dict], lane_of_items: tuple | None = None) -> None:
        """Release items stored taken by us that we will not start (Store.inbox_release); if that
        fails their leases run out and any worker takes them then. With `lane_of_items` (its key
        and _Lane, whose `releasing` counts these), the lane is read back once they are pending."""
        async def release():
            try:
                await self.store.inbox_release(items)
            except Exception as exc:
                self._db_failed(exc)
                log.warning("releasing %d items failed: %s", len(items), type(exc).__name__)
            finally:
                if lane_of_items is not None:
                    key, lane = lane_of_items
                    lane.releasing -= 1
                    lane.refused_at = time.monotonic()  # a read begun before this cannot have seen them
                    if not (lane.busy or lane.items or lane.refilling) and self._lanes.get(key) is lane:
                        self._refill(key, lane)

        task = asyncio.get_running_loop().create_task(release())
        self._refills.add(task)
        task.add_done_callback(self._refills.discard)

    def _hold(self, key: tuple, lane: _Lane, item: dict) -> None:
        lane.items.append(item)
        self._queued.add(item["_id"])
        self._held += 1
        if not lane.busy and len(lane.items) == 1:
            self._ready.append(key)
            self._wake.set()

    def served(self):
        return self.platforms if self.platforms is not None else self.senders.keys()

    def start(self) -> None:
        self._stopping = False
        self._loops = [asyncio.create_task(self._scan()), asyncio.create_task(self._dispatch())]

    async def stop(self) -> None:
        """Stop taking items; let those in hand finish what they are sending (up to a grace
        period), leave those not started, then let the rest go: their leases run out and
        another instance, or this one restarted, takes them."""
        self._stopping = True
        await stopping.stop(*self._loops, *self._refills)
        self._loops = []
        # Held items stored taken by us go back to pending, so another instance need not wait for
        # their leases to run out.
        mine = [item for lane in self._lanes.values() for item in lane.items if item["_id"] in self._taken]
        if mine:
            try:
                async with asyncio.timeout(STOP_GRACE_SECONDS):
                    await self.store.inbox_release(mine)
            except Exception as exc:
                log.warning("releasing %d held items at shutdown failed: %s", len(mine), type(exc).__name__)
        if self._in_hand:
            _, late = await asyncio.wait(set(self._in_hand), timeout=STOP_GRACE_SECONDS)
            await stopping.stop(*late, patience=STOP_GRACE_SECONDS)

    def _health(self):
        return getattr(self.store, "health", None)

    async def _scan(self) -> None:
        while True:
            backlog = False
            health = self._health()
            try:
                if health is not None and health.down:
                    await health.until_up(SCAN_EVERY_SECONDS)  # the probe is on it; no query meanwhile
                    continue
                # Lanes that wait in the inbox and have nothing in memory are read back here too,
                # in case their own read failed.
                for key, lane in list(self._lanes.items()):
                    if lane.spilled and not (lane.busy or lane.items or lane.refilling):
                        self._refill(key, lane)
                page = min(SCAN_LIMIT, QUEUE_LIMIT - self._held)
                if page > 0:
                    spilled = [key for key, lane in self._lanes.items() if lane.spilled]
                    due = await self.store.inbox_due(page, self.served(), spilled)
                    fresh = sum(self.offer(item) for item in due)
                    backlog = fresh == len(due) == page
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self._db_failed(exc)
                log.warning("inbox scan failed: %s", type(exc).__name__)
            # A full page means more is waiting: look again as soon as the queue has room.
            await asyncio.sleep(0.2 if backlog else SCAN_EVERY_SECONDS)

    def _refill(self, key: tuple, lane: _Lane) -> None:
        if self._stopping or lane.refilling or lane.releasing:
            return
        lane.refilling = True
        task = asyncio.get_running_loop().create_task(self._read_back(key, lane))
        self._refills.add(task)
        task.add_done_callback(self._refills.discard)

    async def _read_back(self, key: tuple, lane: _Lane) -> None:
        """Read a spilled lane's next items from the inbox, oldest first. Once a read that began
        after the lane's last refusal finds less than it asked for, everything of the lane is in
        memory again and the lane takes items handed over directly once more."""
        started = time.monotonic()
        room = LANE_LIMIT - len(lane.items)
        try:
            due = await self.store.inbox_lane_due(key[0], key[1], room)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # the scan tries again
            self._db_failed(exc)
            log.warning("inbox read of a lane failed: %s", type(exc).__name__)
            return
        finally:
            lane.refilling = False
        complete = len(due) < room and started > lane.refused_at
        read = min(lane.stored, len(due))
        lane.stored -= read
        self._stored -= read
        for item in due:
            if item["_id"] in self._queued:
                continue
            if self._held >= QUEUE_LIMIT:
                complete = False
                break
            self._hold(key, lane, item)
        if complete:
            lane.spilled = False
            self._stored -= lane.stored
            lane.stored = 0
        if not (lane.busy or lane.items or lane.spilled or lane.refilling) and self._lanes.get(key) is lane:
            del self._lanes[key]

    async def _dispatch(self) -> None:
        """One task per item, at most `concurrency` at once, each from the next lane in turn."""
        while True:
            await self._slots.acquire()
            health = self._health()
            while not self._ready or (health is not None and health.down):
                if health is not None and health.down:
                    await health.until_up(SCAN_EVERY_SECONDS)
                    continue
                self._wake.clear()
                await self._wake.wait()
            key = self._ready.popleft()
            lane = self._lanes[key]
            item = lane.items.popleft()
            self._held -= 1
            lane.busy = True
            task = asyncio.create_task(self._run(item))
            self._in_hand.add(task)
            task.add_done_callback(functools.partial(self._finished, key, lane, item["_id"]))

    def _finished(self, key: tuple, lane: _Lane, item_id, task: asyncio.Task) -> None:
        self._in_hand.discard(task)
        self._queued.discard(item_id)  # only now may the scan offer it again
        self._slots.release()
        lane.busy = False
        if lane.items:
            self._ready.append(key)  # its next item waits for the lane's next turn
            self._wake.set()
        elif lane.spilled:
            self._refill(key, lane)
        elif not lane.refilling and self._lanes.get(key) is lane:
            del self._lanes[key]
        if not task.cancelled() and task.exception() is not None:
            logs.failure(log, "item task failed", task.exception())

    def _db_failed(self, exc: BaseException) -> bool:
        """Report a failure that says the database is unreachable; True if it was one."""
        from teamops.store import unreachable

        health = self._health()
        if health is None or not unreachable(exc):
            return False
        health.failed(exc)
        return True

    async def _run(self, item: dict) -> None:
        if item["_id"] in self._taken:
            self._taken.discard(item["_id"])
            if self._stopping:
                self._give_back([item])
                return
            # Stored taken by us: in hand as it is while two thirds of its lease are left; past
            # that (it waited long in memory) taken anew, which renews the lease if it is still ours.
            left = (item["lease_until"] - _now()).total_seconds()
            if left > self.lease_seconds * 2 / 3:
                await self.process(item, left)
                return
        if self._stopping:
            return
        try:
            taken = await self.store.inbox_take(item, self.lease_seconds)
        except Exception as exc:  # the scan offers it again once the database answers
            self._db_failed(exc)
            log.warning("inbox take failed: %s", type(exc).__name__)
            return
        if taken is not None:
            await self.process(taken)

    async def process(self, item: dict, lease_left: float | None = None) -> None:
        lease = _LeaseClock(self.lease_seconds, lease_left)
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
                if not self._db_failed(exc):
                    log.warning("lease renewal failed: %s", type(exc).__name__)

    async def _process(self, item: dict, lease: "_LeaseClock") -> None:
        started = time.perf_counter()
        where = f"platform={item['platform']} event={logs.ident(item['event_id'])}"
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
                # Kept on the item when a retry must know what is out already: several replies, or
                # some gone in the request's response. A lone reply is not: a retry decides it again
                # and comes to the same (the assistant's state changes are keyed by the event), and
                # the write saved is a fifth of what a converted message costs the database.
                if sent < len(replies) and (len(replies) - sent > 1 or waiter is not None):
                    _held(await self.store.inbox_plan(item, replies_doc, sent))
                if waiter is not None and sent < len(replies):
                    await waiter.out()  # a follow-up must not overtake the response it follows
            else:
                replies = replies_from_doc(replies_doc)
                sent = item.get("sent", 0)
            last_note = None
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
                    log.warning("reply dropped: %s chat=%s %s", where, logs.ident(reply.chat_id), outcome.detail)
                if reply.follows and index + 1 < len(replies):
                    await self._note_delivered(reply, outcome)
                elif reply.follows:
                    last_note = self._note_delivered(reply, outcome)  # beside the write that ends the item
                if index + 1 < len(replies):  # after the last one, marking the item done says it
                    _held(await self._record(lambda count=index + 1: self.store.inbox_sent(item, count)))
            done = self._record(lambda: self.store.inbox_done(item, f"replies={len(replies)}"))
            if last_note is not None:
                _, ours = await asyncio.gather(last_note, done)
            else:
                ours = await done
            _held(ours)
            log.info("handled %s replies=%d ms=%d", where, len(replies), (time.perf_counter() - started) * 1000)
        except LeaseLost:
            log.warning("lease taken over, leaving it: %s", where)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            if self._db_failed(exc):
                # An outage, not a bug: one line, no frames (Health says the rest). Back to pending
                # as soon as the database answers, without the retry's backoff.
                log.warning("database unreachable while handling %s: %s", where, type(exc).__name__)
                await self._health().until_up(OUTAGE_WAIT_SECONDS)
                try:
                    await self.store.inbox_retry(item, 0.0, type(exc).__name__)
                except Exception:  # still away: the lease runs out and the scan offers it again
                    pass
                return
            logs.failure(log, f"processing failed: {where}", exc)
            await self._retry(item, type(exc).__name__, 0.0)

    async def _record(self, write) -> bool:
        """A write that records replies already out. If the database went away meanwhile, wait for
        it and write again (the item is still in this worker's hands, so nobody here takes it
        again): giving up would send those replies a second time on the retry."""
        deadline = time.monotonic() + RECORD_PATIENCE_SECONDS
        while True:
            try:
                return await write()
            except Exception as exc:
                if not self._db_failed(exc) or time.monotonic() > deadline:
                    raise
                await self._health().until_up(OUTAGE_WAIT_SECONDS)
                await asyncio.sleep(0.2)

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
        log.info("private answer refused (%s), sending its fallback: %s chat=%s", outcome.detail, where,
                 logs.ident(reply.chat_id))
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
        where = f"platform={item['platform']} event={logs.ident(item['event_id'])}"
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


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _lane_key(item: dict) -> tuple:
    lane = item.get("lane")
    return (item["platform"], lane if lane is not None else lane_of(item.get("event") or {}))


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
            async with asyncio.timeout(RequestAnswers.OUT_WAIT_SECONDS):
                await self._out.wait()
        except TimeoutError:
            pass


class _LeaseClock:
    """When our lease is surely still ours: a send starts only with a third of the lease in hand,
    so it ends before anybody else could take the item, even if renewals fail meanwhile."""

    def __init__(self, lease_seconds: float, left: float | None = None):
        self.lease_seconds = lease_seconds
        self.renewed(lease_seconds if left is None else left)

    def renewed(self, left: float | None = None) -> None:
        left = self.lease_seconds if left is None else left
        self._safe_until = time.monotonic() + left - self.lease_seconds / 3

    def lost(self) -> None:
        self._safe_until = 0.0

    def safe(self) -> bool:
        return time.monotonic() < self._safe_until
