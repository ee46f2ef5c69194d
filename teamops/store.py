"""All of MongoDB: the client, the indexes, and every read and write the product makes.

Collections:
  users      one per (platform, user_id): the user's zone and where it came from (`source`:
             command, web, or the platform's name for a zone read from the user's profile there,
             with `profile_at` saying when it was read). `aliases`: other ids the platform gave
             for the same person (WhatsApp's phone number beside the business-scoped id); a user
             is found by any of them. `direct_at`: when they last wrote to us one-to-one.
  chats      one per (platform, chat_id): members (name, zone, working hours), extra zones,
             settings (muted, time_format, notices), phrase shapes learned as not times, the last
             verification prompt per member and the message waiting for a member's zone.
  inbox      one per (platform, event_id): the dedup record and the durable work item. Expires
             7 days after it arrived.
  replies    the reply store: one per (platform, chat_id, message_id) of a message we answered
             with a conversion: the id of our reply, so edits of that message can follow, and the
             shapes of the times it read (digits abstracted), for "not a time". Expires
             with the inbox's TTL; an edit of an older message is ignored.
  used_tokens  one per verification-link nonce that has been spent (expires with the link).
  model_cache  one per question asked of the language model (a hash of the normalised text, the
             kind of question, the model and the prompt's version): its decoded answer, so a
             phrase is asked once. Expires after MODEL_CACHE_DAYS.
  model_usage  one per UTC day, and one per chat and day: calls made to the model, for the daily
             caps. Expires after two days.
  model_state  the circuit breaker: failures in a row, and until when the model is not asked.
  leases     one per long-lived connection that only one process may hold at a time (a Discord
             Gateway session): who holds it, until when, and its last heartbeat.

pymongo's AsyncMongoClient keeps every call on the event loop without blocking it. The client is
created lazily, once per process (module level), so importing this module costs nothing and a
cold start does not wait for the driver.

While the database is unreachable, the write a webhook makes fails fast: each inbox write is
bounded (MONGODB_WRITE_TIMEOUT_SECONDS, server selection included), and once a failure says the
server is gone, `Health` refuses every inbox write at once until its probe sees the server answer
again. Past what the database takes, inbox writes beyond INBOX_WRITE_LIMIT waiting are refused at
once too, so a flood turns into 503s (the platform redelivers later), never into a queue in memory.

What a converted message costs the database, in commands: the inbox insert (stored already taken
by the worker that holds it, so no separate take), the writer and the chat read, the reply claim
(an insert), the reply's record and the item's end. Under load the inserts, the records and the
ends each go out grouped, one command for many messages (_GroupInsert, _GroupUpdate, _GroupDone):
on SecantusDB a command costs about the same whatever it holds, and on Atlas each is a round trip.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import secrets
import time
from datetime import datetime, timezone

from teamops.events import lane_of

log = logging.getLogger("teamops.store")

INBOX_TTL_SECONDS = 7 * 24 * 3600
REPLIES_TTL_SECONDS = INBOX_TTL_SECONDS  # an edit's own update lives in the inbox as long
PENDING_TTL_SECONDS = 24 * 3600  # a message waiting for its writer's zone, as long as the link lives
INDEX_WAIT_SECONDS = 5.0  # how long a write that needs a unique key waits for start-up to make it
# Zones a person chose here (/tz, the verification page). A zone read from a platform's profile
# (source: the platform's name) never replaces one of these; `/tz auto` does, on request.
CHOSEN_SOURCES = ("command", "web")

_clients: dict[str, object] = {}


WRITE_PATIENCE_SECONDS = 5.0  # an inbox write nobody redelivers waits this long (a batch's bound too)
AFTER_REPLY_LINGER_SECONDS = 0.02  # see _Group: writes made after a reply is out wait this long for company
PROBE_EVERY_SECONDS = 0.5  # while the database seems down, how often it is pinged
PROBE_TIMEOUT_SECONDS = 1.0
OUTAGE_LOG_EVERY_SECONDS = 30.0  # an outage's WARNING is repeated this often while it lasts


class StorageError(Exception):
    """The database could not be reached or refused the operation."""


class StorageBusy(StorageError):
    """Too many inbox writes are waiting, or one took longer than its bound: the database is slow."""


class StorageDown(StorageError):
    """The database is known to be unreachable right now (Health)."""


class WriteRefused(StorageError):
    """The server refused one write of a group (`code`: its error code; 11000 a duplicate key)."""

    def __init__(self, code):
        super().__init__(f"write error {code}")
        self.code = code


def unreachable(exc: BaseException) -> bool:
    """Does this failure say the database could not be reached (or was too slow to answer)?"""
    from pymongo.errors import ConnectionFailure

    return isinstance(exc, (ConnectionFailure, StorageDown, StorageBusy)) or isinstance(exc.__cause__, ConnectionFailure)


def level_of(exc: BaseException) -> int:
    """How loudly a request should log its failed write: INFO when Health or the write bound has
    said it already (an outage, an overload), WARNING otherwise."""
    return logging.INFO if isinstance(exc, (StorageDown, StorageBusy)) else logging.WARNING


class Health:
    """Whether the database answers, as this process last saw it.

    Any part that meets a connection failure reports it (`failed`); a probe then pings the server
    every PROBE_EVERY_SECONDS until it answers. While the probe fails, `down` is true and inbox
    writes are refused at once (StorageDown) instead of each waiting for the driver's server
    selection. A timeout alone (a slow server, not a gone one) starts the probe but marks nothing
    down: if the server answers the ping, it is busy, and the write bound deals with that.
    The outage is logged as WARNINGs: when it starts, every OUTAGE_LOG_EVERY_SECONDS while it
    lasts, and when it ends, each with the items this process holds (`waiting`, set by the worker).
    """

    def __init__(self, ping):
        self._ping = ping  # async (timeout) -> None; raises when the server does not answer
        self.waiting = lambda: 0
        self.down_since: float | None = None
        self._logged_at = 0.0
        self._probe: asyncio.Task | None = None
        self._up: asyncio.Event | None = None

    @property
    def down(self) -> bool:
        return self.down_since is not None

    def failed(self, exc: BaseException) -> None:
        from pymongo.errors import NetworkTimeout, ServerSelectionTimeoutError

        slow = isinstance(exc, (NetworkTimeout, StorageBusy)) and not isinstance(exc, ServerSelectionTimeoutError)
        if not slow:
            self._mark_down(type(exc).__name__)
        if self._probe is None or self._probe.done():
            self._probe = asyncio.get_running_loop().create_task(self._probing())

    async def until_up(self, timeout: float) -> bool:
        """Wait (at most `timeout`) until the database is not known to be down; True if so."""
        if not self.down:
            return True
        if self._up is None:
            self._up = asyncio.Event()
        try:
            async with asyncio.timeout(timeout):
                await self._up.wait()
        except TimeoutError:
            pass
        return not self.down

    def close(self) -> None:
        if self._probe is not None:
            self._probe.cancel()
            self._probe = None

    def _mark_down(self, reason: str) -> None:
        now = time.monotonic()
        if self.down_since is None:
            self.down_since = now
            self._logged_at = now
            if self._up is not None:
                self._up.clear()
            log.warning("database unreachable (%s), %d items waiting", reason, self.waiting())
        elif now - self._logged_at >= OUTAGE_LOG_EVERY_SECONDS:
            self._logged_at = now
            log.warning("database unreachable for %.0fs (%s), %d items waiting", now - self.down_since, reason,
                        self.waiting())

    async def _probing(self) -> None:
        while True:
            try:
                await self._ping(PROBE_TIMEOUT_SECONDS)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self._mark_down(type(exc).__name__)
                await asyncio.sleep(PROBE_EVERY_SECONDS)
                continue
            if self.down_since is not None:
                log.warning("database reachable again after %.1fs, %d items waiting",
                            time.monotonic() - self.down_since, self.waiting())
                self.down_since = None
                if self._up is not None:
                    self._up.set()
            return


def _client(uri: str):
    client = _clients.get(uri)
    if client is None:
        from pymongo import AsyncMongoClient

        client = AsyncMongoClient(
            uri,
            tz_aware=True,
            connect=False,
            serverSelectionTimeoutMS=5000,
            connectTimeoutMS=3000,
            appname="team-ops-assistant",
        )
        _clients[uri] = client
    return client


def _now() -> datetime:
    return datetime.now(timezone.utc)


class Store:
    def __init__(self, uri: str, db_name: str, write_timeout: float = 0.8, write_limit: int = 1000):
        self._uri = uri
        self._db_name = db_name
        self._db = None
        self.health = Health(self._ping_once)
        self._write_timeout = write_timeout
        self._inbox_writes = _GroupInsert(lambda: self.db.inbox, self.health, write_limit,
                                          max(write_timeout, WRITE_PATIENCE_SECONDS), late=self._stored_late)
        # The writes every item makes (its take and end, its reply's claim and record), grouped like
        # the inserts: on SecantusDB a command costs ~3 ms whatever it holds, so under load a few
        # bulk writes carry what would be dozens of commands, and a lone write goes out at once.
        self._inbox_ends = _GroupUpdate(lambda: self.db.inbox, self.health)  # takes of items read back
        self._inbox_done = _GroupDone(lambda: self.db.inbox, self.health, linger=AFTER_REPLY_LINGER_SECONDS)
        self._inbox_releases = _GroupRelease(lambda: self.db.inbox, self.health)
        self._reply_claims = _GroupInsert(lambda: self.db.replies, self.health, write_limit, WRITE_PATIENCE_SECONDS,
                                          name="reply claim")
        self._reply_ends = _GroupUpdate(lambda: self.db.replies, self.health, linger=AFTER_REPLY_LINGER_SECONDS)
        self._indexed = asyncio.Event()  # set once ensure_indexes has succeeded in this process
        self._late_releases: set[asyncio.Task] = set()

    @property
    def db(self):
        if self._db is None:
            # get_default_database reads the name the client parsed; parsing the URI again here
            # would resolve mongodb+srv:// records with blocking DNS on the event loop.
            self._db = _client(self._uri).get_default_database(self._db_name)
        return self._db

    async def close(self) -> None:
        self.health.close()
        client = _clients.pop(self._uri, None)
        self._db = None
        if client is not None:
            await client.close()

    # ----- lifecycle -----
    async def ensure_indexes(self) -> None:
        """Create every index the product relies on. Idempotent: safe on every start."""
        db = self.db
        await asyncio.gather(
            db.users.create_index([("platform", 1), ("user_id", 1)], unique=True, name="platform_user"),
            db.users.create_index([("platform", 1), ("aliases", 1)], name="platform_aliases"),
            db.chats.create_index([("platform", 1), ("chat_id", 1)], unique=True, name="platform_chat"),
            db.inbox.create_index([("platform", 1), ("event_id", 1)], unique=True, name="platform_event"),
            db.inbox.create_index("state", name="state"),
            db.inbox.create_index([("platform", 1), ("lane", 1), ("state", 1)], name="platform_lane_state"),
            db.inbox.create_index("created_at", expireAfterSeconds=INBOX_TTL_SECONDS, name="ttl_7d"),
            db.used_tokens.create_index("expires_at", expireAfterSeconds=0, name="ttl_expiry"),
            db.pending.create_index([("platform", 1), ("chat_id", 1), ("user_id", 1)], unique=True, name="platform_chat_user"),
            db.pending.create_index("at", expireAfterSeconds=PENDING_TTL_SECONDS, name="ttl_24h"),
            db.replies.create_index(
                [("platform", 1), ("chat_id", 1), ("message_id", 1)], unique=True, name="platform_chat_message"
            ),
            db.replies.create_index("at", expireAfterSeconds=REPLIES_TTL_SECONDS, name="ttl_7d"),
            db.replies.create_index([("platform", 1), ("chat_id", 1), ("reply_id", 1)], name="platform_chat_reply"),
            # Expiry stamped on each document, so changing MODEL_CACHE_DAYS needs no index change.
            db.model_cache.create_index("expires_at", expireAfterSeconds=0, name="ttl_expiry"),
            db.model_usage.create_index("expires_at", expireAfterSeconds=0, name="ttl_expiry"),
            db.chats.create_index([("platform", 1), ("space_id", 1)], name="platform_space"),
        )
        self._indexed.set()

    async def _wait_indexed(self) -> None:
        """Hold a write that relies on a unique key until start-up has made the key. Upserts racing
        before it would store duplicates, and then the index could never be built."""
        if not self._indexed.is_set():
            try:
                async with asyncio.timeout(INDEX_WAIT_SECONDS):
                    await self._indexed.wait()
            except TimeoutError:
                raise StorageError("indexes not ready") from None

    async def _ping_once(self, timeout: float) -> None:
        import pymongo

        with pymongo.timeout(timeout):
            await self.db.command("ping")

    async def ping(self, timeout: float) -> bool:
        try:
            async with asyncio.timeout(timeout):
                await self.db.command("ping")
            return True
        except Exception as exc:  # any failure means "not ready"; the kind is enough for the log
            log.warning("mongodb ping failed: %s", type(exc).__name__)
            return False

    # ----- inbox: dedup + durable work queue -----
    async def inbox_put(self, platform: str, event_id: str, event: dict, due_in: float = 0.0,
                        redelivered: bool = False, lease: str | None = None, lease_seconds: float = 0.0) -> dict | None:
        """Record one event; the stored item, or None when it was already recorded (a duplicate).
        `due_in` keeps other instances' scans off it for a while (the handed-over copy is taken at
        once regardless): a request answered in its own response must be answered before anyone
        may send a follow-up.

        Deduplication is the unique index's job, so nothing is written before start-up has made
        it: on a first deploy Telegram redelivers its backlog at once, and duplicates written
        before the index would be answered twice and keep the index from ever being built.

        Raises StorageDown at once while the database is known to be unreachable, StorageBusy when
        too many writes wait or this one took too long (see _GroupInsert): with `redelivered` (the
        platform delivers it again after a 503) "too long" is MONGODB_WRITE_TIMEOUT_SECONDS, else
        WRITE_PATIENCE_SECONDS (nobody would ask again: a slow write is better than none).

        With `lease` (a token from the worker that will hold the item at once) the item is stored
        already taken, as inbox_take would leave it: the hot path saves the write that takes it."""
        if self.health.down:
            raise StorageDown("database unreachable")
        await self._wait_indexed()
        now = _ms(_now())  # as stored: the copy handed to the worker matches the stored item exactly
        item = {
            "platform": platform,
            "event_id": event_id,
            "lane": lane_of(event),  # the worker takes one item per lane at a time, lanes in turn
            "event": event,
            "state": "pending",
            "due_at": _after(now, due_in) if due_in else now,
            "created_at": now,
            "attempts": 0,
            "v": 0,  # bumped on every change of hands: a copy read before it cannot take the item
        }
        if lease is not None:
            item.update(state="working", lease=lease, lease_until=_ms(_after(now, lease_seconds)), attempts=1, v=1)
        wait = self._write_timeout if redelivered else max(self._write_timeout, WRITE_PATIENCE_SECONDS)
        return item if await self._inbox_writes.put(item, wait) else None

    def _stored_late(self, item: dict) -> None:
        """An inbox write its webhook gave up on (503) was stored after all. The redelivery is a
        duplicate, so nobody hands the item over: one stored taken for a worker is given back at
        once (pending, for the next scan), rather than waiting for its lease to run out."""
        if item.get("lease") is None:
            return  # pending: the scan takes it

        async def release():
            try:
                await self.inbox_release([item])
            except Exception as exc:  # the lease runs out and the scan takes it then
                log.warning("releasing an item stored late failed: %s", type(exc).__name__)

        task = asyncio.get_running_loop().create_task(release())
        self._late_releases.add(task)
        task.add_done_callback(self._late_releases.discard)

    async def inbox_due(self, limit: int, platforms=None, skip=()) -> list[dict]:
        """Open items that may be taken now: pending and due, or working with a lease that ran out
        (its worker crashed). Open items are few and done ones many, so this reads by `state`.
        `platforms`: only items of these (the ones the asking worker can deliver); `skip`: not
        those of these (platform, lane) pairs (the worker reads them lane by lane: inbox_lane_due)."""
        query: dict = {"state": {"$in": ["pending", "working"]}}
        if platforms is not None:
            query["platform"] = {"$in": sorted(platforms)}
        if not skip:
            return await self._due(query, limit)
        # Left out here, not in the query: SecantusDB reads a $nor by scanning the whole inbox.
        # The open items' keys first, a few pages of them (a lane left out may hold many), then
        # the chosen items in full.
        skip = set(skip)
        keys = await self._due(query, limit * 4, projection={"platform": 1, "lane": 1, "state": 1, "due_at": 1,
                                                             "lease_until": 1})
        ids = [doc["_id"] for doc in keys if (doc["platform"], doc.get("lane")) not in skip][:limit]
        if not ids:
            return []
        wanted = {"_id": {"$in": ids}, "state": {"$in": ["pending", "working"]}}
        return sorted(await self._due(wanted, limit), key=lambda doc: ids.index(doc["_id"]))

    async def inbox_lane_due(self, platform: str, lane: str, limit: int) -> list[dict]:
        """The open items of one lane that may be taken now, oldest first."""
        return await self._due({"platform": platform, "lane": lane, "state": {"$in": ["pending", "working"]}}, limit)

    async def _due(self, query: dict, limit: int, projection: dict | None = None) -> list[dict]:
        now = _now()
        cursor = self.db.inbox.find(query, projection=projection)
        open_items = await cursor.sort([("due_at", 1), ("_id", 1)]).limit(limit).to_list()
        return [
            item
            for item in open_items
            if (item["state"] == "pending" and item["due_at"] <= now)
            or (item["state"] == "working" and item.get("lease_until") is not None and item["lease_until"] < now)
        ]

    async def inbox_take(self, item: dict, lease_seconds: float) -> dict | None:
        """Lease `item` if it is still exactly as it was read (same state, same version, same
        lease): two workers (or two instances) can never both take it, and a copy read before a
        retry cannot take it again. Each take gets its own lease token; every later write names
        it, so a worker whose lease was taken over cannot write any more. Returns the item as
        stored now (replies decided and delivered so far included), or None."""
        from pymongo import UpdateOne

        lease = secrets.token_hex(8)
        until = _ms(_after(_now(), lease_seconds))
        taken = await self._inbox_ends.put(UpdateOne(
            {"_id": item["_id"], "state": item["state"], "v": item.get("v"), "lease_until": item.get("lease_until")},
            {
                "$set": {"state": "working", "lease": lease, "lease_until": until},
                "$inc": {"attempts": 1, "v": 1},
            },
        ))
        if taken is None:  # its group missed some: the lease token says whether this one is ours
            taken = await self.db.inbox.find_one({"_id": item["_id"], "lease": lease}, projection={"_id": 1}) is not None
        if not taken:
            return None
        if item["state"] == "pending":
            # Nobody can change a pending item without first taking it (which bumps `v`), so the
            # copy we matched is the stored item: no need to read it back.
            return {**item, "state": "working", "lease": lease, "lease_until": until,
                    "attempts": item.get("attempts", 0) + 1, "v": item.get("v", 0) + 1}
        # A lapsed lease's former holder may have recorded progress since our copy was read.
        return await self.db.inbox.find_one({"_id": item["_id"], "lease": lease})

    async def _leased(self, item: dict, update: dict) -> bool:
        """Apply `update` to an item we hold; False when our lease was taken over meanwhile."""
        result = await self.db.inbox.update_one({"_id": item["_id"], "lease": item["lease"]}, update)
        return result.matched_count == 1

    async def inbox_renew(self, item: dict, lease_seconds: float) -> bool:
        return await self._leased(item, {"$set": {"lease_until": _after(_now(), lease_seconds)}})

    async def inbox_plan(self, item: dict, replies: list[dict], sent: int = 0) -> bool:
        """Keep the decided replies on the item so a retry delivers them without deciding again
        (`sent` of them are out already: they went in the request's own response)."""
        result = await self.db.inbox.update_one(
            {"_id": item["_id"], "lease": item["lease"], "replies": {"$exists": False}},
            {"$set": {"replies": replies, "sent": sent}},
        )
        return result.matched_count == 1

    async def inbox_sent(self, item: dict, count: int) -> bool:
        return await self._leased(item, {"$set": {"sent": count}})

    async def inbox_done(self, item: dict, outcome: str) -> bool:
        """Mark an item we hold handled (False when our lease was taken over). A handled item keeps
        only its dedup key: the event may hold message text we no longer need."""
        matched, done_at = await self._inbox_done.put(item["_id"], item["lease"], outcome)
        if matched is not None:
            return matched
        # Its group missed some: was it ours? Only our write leaves this item done at this instant.
        doc = await self.db.inbox.find_one({"_id": item["_id"]}, projection={"state": 1, "done_at": 1, "lease": 1})
        return doc is not None and doc.get("state") == "done" and "lease" not in doc and doc.get("done_at") == done_at

    async def inbox_release(self, items: list[dict]) -> None:
        """Give back items taken but not started (stored taken for a worker that cannot hold them
        now, or held when it stops): pending again where they were in their lane's order, the take
        not counted as an attempt, for any worker to take at once. An item whose lease is no longer
        the one it was taken with (someone took it since) is left as it is.

        Grouped (_GroupRelease): they come in bursts, one by one, exactly when the database is slow
        (writes that landed after their webhook answered 503, items meeting a lane that spilled
        meanwhile), and one statement each would slow it further."""
        if items:
            await self._inbox_releases.put(items)

    async def inbox_failed(self, item: dict, reason: str) -> bool:
        # Kept whole (event, replies, sent) so the runbook can put it back to pending once fixed.
        return await self._leased(
            item,
            {
                "$set": {"state": "failed", "outcome": f"failed: {reason}", "done_at": _now()},
                "$unset": {"lease_until": "", "lease": ""},
                "$inc": {"v": 1},
            },
        )

    async def inbox_retry(self, item: dict, delay: float, reason: str) -> bool:
        return await self._leased(
            item,
            {
                "$set": {"state": "pending", "due_at": _after(_now(), delay), "last_error": reason},
                "$unset": {"lease_until": "", "lease": ""},
                "$inc": {"v": 1},
            },
        )

    async def inbox_backlog(self) -> int:
        return await self.db.inbox.count_documents({"state": {"$in": ["pending", "working"]}})

    # ----- users -----
    async def user(self, platform: str, user_id: str) -> dict | None:
        """The user stored under this id, or under another id of theirs that has this as an alias."""
        doc = await self.db.users.find_one({"platform": platform, "user_id": user_id})
        if doc is None:
            doc = await self.db.users.find_one({"platform": platform, "aliases": user_id})
        return doc

    async def link_user(self, platform: str, user_id: str, aliases) -> None:
        """`aliases` are other ids of the person `user_id` names (a phone number beside a
        business-scoped id): what was stored under them becomes theirs under `user_id`, their zone
        (unless `user_id` has one already), memberships, prompts and waiting messages, and a later
        look-up by any of them finds this user. One read when nothing is new."""
        from pymongo.errors import DuplicateKeyError

        aliases = [alias for alias in dict.fromkeys(aliases) if alias and alias != user_id]
        if not aliases:
            return
        await self._wait_indexed()
        users = self.db.users
        doc = await users.find_one({"platform": platform, "user_id": user_id})
        if doc is not None and set(aliases) <= set(doc.get("aliases") or ()):
            return
        older = await users.find({"platform": platform, "user_id": {"$in": aliases}}).to_list()
        carried: dict = {}
        for old in older:
            for name in ("tz", "source", "name", "updated_at", "profile_tz", "profile_at", "direct_at"):
                if name in old and (doc is None or name not in doc) and name not in carried:
                    carried[name] = old[name]
            aliases.extend(a for a in old.get("aliases") or () if a != user_id and a not in aliases)
        if doc is not None and "tz" in doc:
            # Their zone under this id wins; what came from the other ids is only filled in.
            for name in ("tz", "source", "updated_at", "profile_tz", "profile_at"):
                carried.pop(name, None)
        update: dict = {"$addToSet": {"aliases": {"$each": aliases}}, "$setOnInsert": {"created_at": _now()}}
        if carried:
            update["$set"] = carried
        try:
            await users.update_one({"platform": platform, "user_id": user_id}, update, upsert=True)
        except DuplicateKeyError:  # written meanwhile by another event of theirs: add to it
            update.pop("$setOnInsert")
            await users.update_one({"platform": platform, "user_id": user_id}, update)
        if older:
            await users.delete_many({"platform": platform, "user_id": {"$in": [old["user_id"] for old in older]}})
        for alias in aliases:
            await self.db.chats.update_many(
                {"platform": platform, "$or": [{f"members.{alias}": {"$exists": True}}, {f"prompts.{alias}": {"$exists": True}}]},
                {"$rename": {f"members.{alias}": f"members.{user_id}", f"prompts.{alias}": f"prompts.{user_id}"}},
            )
            try:
                await self.db.pending.update_many({"platform": platform, "user_id": alias}, {"$set": {"user_id": user_id}})
            except DuplicateKeyError:
                pass  # a message of theirs waits under both ids in one chat: the newer one stays
        if carried.get("tz"):
            await self.db.chats.update_many(
                {"platform": platform, f"members.{user_id}": {"$exists": True}},
                {"$set": {f"members.{user_id}.tz": carried["tz"]}},
            )

    async def note_direct(self, platform: str, user_id: str, at: float) -> None:
        """The user wrote to us one-to-one at `at` (unix seconds): a platform that only lets us
        write to people who wrote lately (WhatsApp's 24-hour window) asks `direct_at`."""
        from pymongo.errors import DuplicateKeyError

        await self._wait_indexed()
        moment = datetime.fromtimestamp(at, timezone.utc)
        try:
            await self.db.users.update_one(
                {"platform": platform, "user_id": user_id},
                {"$max": {"direct_at": moment}, "$setOnInsert": {"created_at": _now()}},
                upsert=True,
            )
        except DuplicateKeyError:
            await self.db.users.update_one({"platform": platform, "user_id": user_id}, {"$max": {"direct_at": moment}})

    async def set_user_zone(self, platform: str, user_id: str, tz: str, source: str, name: str = "") -> None:
        """Store the user's zone and carry it into every chat the user is a member of."""
        await self._wait_indexed()
        now = _now()
        fields = {"tz": tz, "source": source, "updated_at": now}
        if name:
            fields["name"] = name
        await self.db.users.update_one(
            {"platform": platform, "user_id": user_id},
            {"$set": fields, "$setOnInsert": {"created_at": now}},
            upsert=True,
        )
        await self.db.chats.update_many(
            {"platform": platform, f"members.{user_id}": {"$exists": True}},
            {"$set": {f"members.{user_id}.tz": tz}},
        )

    async def set_user_hours(self, platform: str, user_id: str, hours: dict, name: str = "") -> None:
        """Store the user's working hours and carry them into every chat the user is a member of
        (conversions read them from the chat, as they read zones)."""
        await self._wait_indexed()
        now = _now()
        fields = {"hours": hours, "updated_at": now}
        if name:
            fields["name"] = name
        await self.db.users.update_one(
            {"platform": platform, "user_id": user_id}, {"$set": fields, "$setOnInsert": {"created_at": now}}, upsert=True
        )
        await self.db.chats.update_many(
            {"platform": platform, f"members.{user_id}": {"$exists": True}},
            {"$set": {f"members.{user_id}.hours": hours}},
        )

    async def users_many(self, platform: str, user_ids) -> dict[str, dict]:
        ids = list(user_ids)
        if not ids:
            return {}
        docs = await self.db.users.find({"platform": platform, "user_id": {"$in": ids}}).to_list()
        found = {doc["user_id"]: doc for doc in docs}
        missing = [user_id for user_id in ids if user_id not in found]
        if missing:  # found under another id of theirs (Store.link_user)
            for doc in await self.db.users.find({"platform": platform, "aliases": {"$in": missing}}).to_list():
                for alias in doc.get("aliases") or ():
                    if alias in missing:
                        found.setdefault(alias, doc)
        return found

    async def set_profiles(self, platform: str, profiles: dict, source: str, override: bool = False) -> None:
        """Store what a platform's directory says about users (`profiles`: user id -> Profile).

        The profile's zone becomes the user's zone unless they chose one here (CHOSEN_SOURCES);
        `override` (their `/tz auto`) lets the profile win again. Every profile records when it
        was read, so it is not asked for again within a day. Chats the user is a member of follow.
        """
        from pymongo import UpdateOne
        from pymongo.errors import BulkWriteError

        if not profiles:
            return
        await self._wait_indexed()
        now = _now()
        existing = await self.users_many(platform, profiles)
        ops, moves = [], []
        for user_id, profile in profiles.items():
            doc = existing.get(user_id) or {}
            keep_choice = doc.get("source") in CHOSEN_SOURCES and not override
            fields: dict = {"profile_tz": profile.tz, "profile_at": now, "bot": profile.bot}
            if profile.name:
                fields["name"] = profile.name
            update: dict = {"$set": fields, "$setOnInsert": {"created_at": now}}
            where: dict = {"platform": platform, "user_id": user_id}
            if not keep_choice:
                fields.update(source=source, updated_at=now)
                if profile.tz:
                    fields["tz"] = profile.tz
                else:
                    update["$unset"] = {"tz": ""}
                if not override:
                    where["source"] = {"$nin": list(CHOSEN_SOURCES)}  # a choice made meanwhile wins
                if doc.get("tz") != profile.tz:
                    moves.append((len(ops), user_id, profile.tz))
            ops.append(UpdateOne(where, update, upsert=True))
        refused: set[int] = set()
        try:
            await self.db.users.bulk_write(ops, ordered=False)
        except BulkWriteError as exc:
            # A duplicate key here is a user who chose a zone while we were reading: theirs stays.
            for error in exc.details.get("writeErrors", []):
                if error.get("code") != 11000:
                    raise StorageError(f"write error {error.get('code')}") from None
                refused.add(error["index"])
        for index, user_id, tz in moves:
            if index in refused:
                continue
            change = {"$set": {f"members.{user_id}.tz": tz}} if tz else {"$unset": {f"members.{user_id}.tz": ""}}
            await self.db.chats.update_many({"platform": platform, f"members.{user_id}": {"$exists": True}}, change)

    async def forget_user(self, platform: str, user_id: str) -> None:
        """Delete everything stored about one user: the zone, memberships, prompts, waiting messages."""
        await self.db.users.delete_many({"platform": platform, "$or": [{"user_id": user_id}, {"aliases": user_id}]})
        await self.db.chats.update_many(
            {"platform": platform, "$or": [{f"members.{user_id}": {"$exists": True}}, {f"prompts.{user_id}": {"$exists": True}}]},
            {"$unset": {f"members.{user_id}": "", f"prompts.{user_id}": ""}},
        )
        await self.db.pending.delete_many({"platform": platform, "user_id": user_id})

    # ----- chats -----
    async def chat(self, platform: str, chat_id: str) -> dict:
        doc = await self.db.chats.find_one({"platform": platform, "chat_id": chat_id})
        return doc or {"platform": platform, "chat_id": chat_id, "members": {}}

    async def touch_member(self, platform: str, chat_id: str, user_id: str, name: str, tz: str | None,
                           space_id: str = "", hours: dict | None = None) -> None:
        """Record a member of a chat (and the group of chats it belongs to, when there is one)."""
        await self._wait_indexed()
        member: dict = {"seen_at": _now()}
        if name:
            member["name"] = name
        if tz:
            member["tz"] = tz
        if hours:
            member["hours"] = hours
        fields = {f"members.{user_id}.{k}": v for k, v in member.items()}
        if space_id:
            fields["space_id"] = space_id
        await self.db.chats.update_one({"platform": platform, "chat_id": chat_id}, {"$set": fields}, upsert=True)

    async def set_roster(self, platform: str, chat_id: str, state: str, members: dict | None = None,
                         gone=()) -> None:
        """Record a chat's member list as the platform gave it. `state`: "full" (`members`, user id
        -> {"tz", "name"}, is everyone; `gone` are members stored before who are not in it any
        more), "partial" (too many to list: members count once seen writing) or "failed" (the
        platform could not say; asked again sooner)."""
        await self._wait_indexed()
        fields: dict = {"roster": state, "roster_at": _now()}
        unset: dict = {}
        for user_id, member in (members or {}).items():
            if member.get("name"):
                fields[f"members.{user_id}.name"] = member["name"]
            if member.get("tz"):
                fields[f"members.{user_id}.tz"] = member["tz"]
            else:
                unset[f"members.{user_id}.tz"] = ""
            fields[f"members.{user_id}.listed"] = True  # the entry exists even with no zone or name yet
        for user_id in gone:
            unset[f"members.{user_id}"] = ""
        update: dict = {"$set": fields}
        if unset:
            update["$unset"] = unset
        await self.db.chats.update_one({"platform": platform, "chat_id": chat_id}, update, upsert=True)

    async def remove_member(self, platform: str, chat_id: str, user_id: str) -> None:
        await self.db.chats.update_one(
            {"platform": platform, "chat_id": chat_id},
            {"$unset": {f"members.{user_id}": "", f"prompts.{user_id}": ""}},
        )
        await self.db.pending.delete_one({"platform": platform, "chat_id": chat_id, "user_id": user_id})

    async def _space_chats(self, platform: str, space_id: str) -> list[str]:
        docs = await self.db.chats.find({"platform": platform, "space_id": space_id}, projection={"chat_id": 1}).to_list()
        return [doc["chat_id"] for doc in docs]

    async def remove_member_from_space(self, platform: str, space_id: str, user_id: str) -> None:
        """The user left the group: they leave every chat of it we know."""
        chat_ids = await self._space_chats(platform, space_id)
        if not chat_ids:
            return
        await self.db.chats.update_many(
            {"platform": platform, "chat_id": {"$in": chat_ids}},
            {"$unset": {f"members.{user_id}": "", f"prompts.{user_id}": ""}},
        )
        await self.db.pending.delete_many({"platform": platform, "chat_id": {"$in": chat_ids}, "user_id": user_id})

    async def forget_space(self, platform: str, space_id: str) -> None:
        """The bot left the group: nothing about any chat of it is needed any more."""
        chat_ids = await self._space_chats(platform, space_id)
        if not chat_ids:
            return
        await self.db.chats.delete_many({"platform": platform, "chat_id": {"$in": chat_ids}})
        await self.db.pending.delete_many({"platform": platform, "chat_id": {"$in": chat_ids}})
        await self.db.replies.delete_many({"platform": platform, "chat_id": {"$in": chat_ids}})

    async def forget_chat(self, platform: str, chat_id: str) -> None:
        """The bot left or was removed: nothing about this chat is needed any more."""
        await self.db.chats.delete_one({"platform": platform, "chat_id": chat_id})
        await self.db.pending.delete_many({"platform": platform, "chat_id": chat_id})
        await self.db.replies.delete_many({"platform": platform, "chat_id": chat_id})

    async def chat_settings(self, platform: str, chat_id: str, **fields) -> None:
        await self._wait_indexed()
        await self.db.chats.update_one(
            {"platform": platform, "chat_id": chat_id}, {"$set": fields}, upsert=True
        )

    async def add_chat_zone(self, platform: str, chat_id: str, tz: str) -> None:
        await self._wait_indexed()
        await self.db.chats.update_one(
            {"platform": platform, "chat_id": chat_id}, {"$addToSet": {"extra_zones": tz}}, upsert=True
        )

    async def remove_chat_zone(self, platform: str, chat_id: str, tz: str) -> None:
        await self.db.chats.update_one(
            {"platform": platform, "chat_id": chat_id}, {"$pull": {"extra_zones": tz}}
        )

    async def claim_prompt(self, platform: str, chat_id: str, user_id: str, kind: str, every_seconds: float, key: str) -> bool:
        """True at most once per `every_seconds` per user, chat and kind of question ("verify",
        "move"). `key` names the event asking: the same event asking again (a retry) gets True
        again, so a retried decision comes out the same."""
        from pymongo.errors import DuplicateKeyError

        await self._wait_indexed()
        now = _now()
        field = f"prompts.{user_id}.{kind}"
        try:
            result = await self.db.chats.update_one(
                {
                    "platform": platform,
                    "chat_id": chat_id,
                    "$or": [
                        {field: {"$exists": False}},
                        {f"{field}.at": {"$lt": _after(now, -every_seconds)}},
                        {field: {"$lt": _after(now, -every_seconds)}},  # stored as a bare date by earlier builds
                        {f"{field}.key": key},
                    ],
                },
                {"$set": {field: {"at": now, "key": key}}},
                upsert=True,
            )
        except DuplicateKeyError:
            # The chat exists and the filter did not match it: asked recently, by another event.
            return False
        return bool(result.matched_count or result.upserted_id is not None)

    async def set_pending(self, platform: str, chat_id: str, user_id: str, message: dict) -> None:
        """Keep the message that is waiting for its writer's zone (24 h at most, then it expires)."""
        await self._wait_indexed()
        await self.db.pending.update_one(
            {"platform": platform, "chat_id": chat_id, "user_id": user_id},
            {"$set": {"message": message, "at": _now()}, "$unset": {"taken_by": ""}},
            upsert=True,
        )

    async def take_pending(self, platform: str, chat_id: str, user_id: str, key: str) -> dict | None:
        """The waiting message, marked as taken by event `key`; the same event gets it again on a
        retry, any other event gets None."""
        from pymongo import ReturnDocument

        doc = await self.db.pending.find_one_and_update(
            {
                "platform": platform,
                "chat_id": chat_id,
                "user_id": user_id,
                "$or": [{"taken_by": {"$exists": False}}, {"taken_by": key}],
            },
            {"$set": {"taken_by": key}},
            return_document=ReturnDocument.AFTER,
        )
        return (doc or {}).get("message")

    # ----- the reply store: our reply to each message we converted, so edits can follow -----
    # A record is "planned" from the decision to answer (or to edit or delete the answer) until
    # that delivery is done, then "sent" (with our reply's id) or "none" (deleted, dropped, or
    # no id the platform could give). `key` is the event whose decision it reflects, `digest` a
    # hash of the body our reply shows, `seen_at` the newest edit stamp seen for the message,
    # `text_at` the stamp of the text our reply follows, `changed_at` our reply's last change.

    async def reply_claim(self, platform: str, chat_id: str, message_id: str, key: str, digest: str,
                          text_at: float = 0.0, shapes=()) -> bool:
        """Take the right to answer a message with a new reply: True when it has no reply (never
        answered, or our reply was deleted), or when event `key` took it before (a retry decides
        the same). False when another event answered it already."""
        from pymongo import ReturnDocument
        from pymongo.errors import DuplicateKeyError

        await self._wait_indexed()
        now = _now()
        # One findAndModify whose filter is the unique key alone, the condition evaluated in the
        # update: a filter with $or is read by a scan of the whole collection on SecantusDB (the
        # embedded database), which made every converted message slower as the replies grew.
        claimable = {"$or": [
            {"$eq": [{"$type": "$state"}, "missing"]},  # just inserted: no reply yet
            {"$eq": ["$state", "none"]},
            {"$and": [{"$eq": ["$key", {"$literal": key}]}, {"$eq": ["$reply_id", ""]}]},
        ]}

        fields = {"state": "planned", "key": key, "digest": digest, "reply_id": "", "text_at": text_at,
                  "shapes": list(shapes)}
        update = [
            {"$set": {"_claim": claimable}},
            {"$set": {**{field: {"$cond": ["$_claim", {"$literal": value}, "$" + field]} for field, value in fields.items()},
                      "seen_at": {"$max": ["$seen_at", {"$literal": text_at}]},
                      "at": {"$ifNull": ["$at", {"$literal": now}]},
                      "changed_at": {"$ifNull": ["$changed_at", {"$literal": now}]}}},
            {"$unset": "_claim"},
        ]
        where = {"platform": platform, "chat_id": chat_id, "message_id": message_id}
        # A message seen for the first time (nearly every claim) has no record yet: a plain insert,
        # grouped with other claims under load, is the claim, at a sixth of the update's cost.
        first = {**where, **fields, "seen_at": text_at, "at": now, "changed_at": now}
        if await self._reply_claims.put(first, WRITE_PATIENCE_SECONDS):
            return True
        try:
            doc = await self.db.replies.find_one_and_update(where, update, upsert=True,
                                                            return_document=ReturnDocument.AFTER)
        except DuplicateKeyError:  # two first claims at once: the other inserted it; decide on it now
            doc = await self.db.replies.find_one_and_update(where, update, return_document=ReturnDocument.AFTER)
        return doc is not None and doc.get("state") == "planned" and doc.get("key") == key and doc.get("reply_id") == ""

    async def reply_for_edit(self, platform: str, chat_id: str, message_id: str, edited_at: float) -> dict | None:
        """The record of our reply to a message being edited, after noting the edit's stamp (so an
        older edit still on its way knows a newer one exists); None when we never answered it."""
        from pymongo import ReturnDocument

        return await self.db.replies.find_one_and_update(
            {"platform": platform, "chat_id": chat_id, "message_id": message_id},
            {"$max": {"seen_at": edited_at}},
            return_document=ReturnDocument.AFTER,
        )

    async def reply_plan_edit(self, platform: str, chat_id: str, message_id: str, key: str, digest: str,
                              edited_at: float, shapes=()) -> bool:
        """Take the right to edit (or delete) our reply for the edit stamped `edited_at`: only while
        the reply is out and no newer edit has been seen. False when something changed since."""
        result = await self.db.replies.update_one(
            {
                "platform": platform,
                "chat_id": chat_id,
                "message_id": message_id,
                "state": "sent",
                "seen_at": {"$lte": edited_at},
            },
            {"$set": {"state": "planned", "key": key, "digest": digest, "text_at": edited_at, "shapes": list(shapes)}},
        )
        return result.matched_count == 1

    async def reply_delivered(self, platform: str, chat_id: str, message_id: str, reply_id: str) -> None:
        """The planned delivery is done: our reply to the message is now `reply_id` ("" = none)."""
        from pymongo import UpdateOne

        await self._reply_ends.put(UpdateOne(
            {"platform": platform, "chat_id": chat_id, "message_id": message_id},
            {"$set": {"state": "sent" if reply_id else "none", "reply_id": reply_id, "changed_at": _now()}},
        ))

    async def reply_by_id(self, platform: str, chat_id: str, reply_id: str) -> dict | None:
        """The record of the conversion we sent as message `reply_id` (None: not one of ours)."""
        if not reply_id:
            return None
        return await self.db.replies.find_one({"platform": platform, "chat_id": chat_id, "reply_id": reply_id})

    async def reply_of(self, platform: str, chat_id: str, message_id: str) -> dict | None:
        return await self.db.replies.find_one({"platform": platform, "chat_id": chat_id, "message_id": message_id})

    async def learn_not_times(self, platform: str, chat_id: str, shapes) -> None:
        """Phrase shapes this chat said are not times (kept on the chat; /zones unlearn clears them)."""
        await self._wait_indexed()
        await self.db.chats.update_one(
            {"platform": platform, "chat_id": chat_id}, {"$addToSet": {"not_times": {"$each": list(shapes)}}}, upsert=True
        )

    # ----- the language model's guard rails: cache, daily caps, circuit breaker -----
    async def model_cached(self, key: str) -> dict | None:
        doc = await self.db.model_cache.find_one({"_id": key})
        return None if doc is None else doc.get("answer")

    async def model_cache_put(self, key: str, answer: dict, keep_seconds: float) -> None:
        now = _now()
        await self.db.model_cache.update_one(
            {"_id": key}, {"$set": {"answer": answer, "at": now, "expires_at": _after(now, keep_seconds)}}, upsert=True
        )

    async def model_spend(self, day: str, chat_key: str, chat_cap: int, global_cap: int) -> str | None:
        """Count one call to the model against today's caps: None when it may be made, else the
        cap that is full ("chat" or "global"). A refused call counts against nothing."""
        from pymongo.errors import DuplicateKeyError

        expires = _after(_now(), 2 * 24 * 3600)

        async def spend(key: str, cap: int) -> bool:
            try:
                # The filter misses a counter at its cap; the upsert then collides with it.
                await self.db.model_usage.update_one(
                    {"_id": key, "n": {"$lt": cap}}, {"$inc": {"n": 1}, "$set": {"expires_at": expires}}, upsert=True
                )
            except DuplicateKeyError:
                return False
            return True

        if chat_cap <= 0 or not await spend(f"{day}|{chat_key}", chat_cap):
            return "chat"
        if global_cap <= 0 or not await spend(day, global_cap):
            await self.db.model_usage.update_one({"_id": f"{day}|{chat_key}"}, {"$inc": {"n": -1}})
            return "global"
        return None

    async def breaker(self, name: str) -> dict | None:
        return await self.db.model_state.find_one({"_id": name})

    async def breaker_probe(self, name: str, hold_seconds: float) -> bool:
        """After the cool-down, let one caller (of all instances) try again: True for the one that
        gets to; the others see the breaker open for `hold_seconds` more."""
        now = _now()
        result = await self.db.model_state.update_one(
            {"_id": name, "$or": [{"open_until": {"$lte": now}}, {"open_until": {"$exists": False}}]},
            {"$set": {"open_until": _after(now, hold_seconds)}},
        )
        return result.modified_count == 1

    async def breaker_failed(self, name: str, threshold: int, cooldown_seconds: float) -> int:
        """One more failure in a row; at `threshold` the breaker opens for the cool-down. Returns
        the failures in a row now."""
        from pymongo import ReturnDocument

        doc = await self.db.model_state.find_one_and_update(
            {"_id": name}, {"$inc": {"failures": 1}, "$set": {"failed_at": _now()}},
            upsert=True, return_document=ReturnDocument.AFTER,
        )
        failures = doc.get("failures", 1)
        if failures >= threshold:
            await self.db.model_state.update_one(
                {"_id": name}, {"$set": {"open_until": _after(_now(), cooldown_seconds)}}
            )
        return failures

    async def breaker_ok(self, name: str) -> bool:
        """A call went through: the failures in a row start again from 0. True when the breaker
        had been open (it is closed now)."""
        doc = await self.db.model_state.find_one_and_update(
            {"_id": name, "failures": {"$gt": 0}}, {"$set": {"failures": 0}, "$unset": {"open_until": ""}}
        )
        return doc is not None and doc.get("open_until") is not None

    # ----- leases: one holder at a time for a long-lived connection -----
    # {_id: name, holder, until, beat_at, state}. `until` and `beat_at` are written with the
    # holder's clock: copies on hosts whose clocks differ by more than a few seconds would shorten
    # or lengthen the hand-over by as much (hosts keep NTP time; Render's do).

    async def lease_take(self, name: str, holder: str, seconds: float) -> bool:
        """Hold lease `name` for `seconds` if nobody else holds it (theirs ran out, or was
        released). True when it is ours now."""
        from pymongo.errors import DuplicateKeyError

        now = _now()
        try:
            await self.db.leases.update_one(
                {"_id": name, "$or": [{"holder": holder}, {"until": {"$lt": now}}]},
                {"$set": {"holder": holder, "until": _after(now, seconds), "state": "starting", "taken_at": now}},
                upsert=True,
            )
        except DuplicateKeyError:
            return False  # someone else holds it
        return True

    async def lease_renew(self, name: str, holder: str, seconds: float, state: str, beat: bool) -> bool:
        """Keep holding the lease, noting the connection's state (and, with `beat`, that it is up
        now). False when it is no longer ours."""
        now = _now()
        fields: dict = {"until": _after(now, seconds), "state": state}
        if beat:
            fields["beat_at"] = now
        result = await self.db.leases.update_one({"_id": name, "holder": holder}, {"$set": fields})
        return result.matched_count == 1

    async def lease_release(self, name: str, holder: str) -> None:
        """Let go at once (a clean stop): another copy may take it on its next look."""
        await self.db.leases.update_one(
            {"_id": name, "holder": holder}, {"$set": {"until": _now(), "state": "stopped"}}
        )

    async def lease(self, name: str) -> dict | None:
        return await self.db.leases.find_one({"_id": name})

    # ----- verification tokens -----
    async def spend_token(self, nonce: str, expires_at: float) -> bool:
        """Record a verification nonce as used. False if it had been used already."""
        from pymongo.errors import DuplicateKeyError

        try:
            await self.db.used_tokens.insert_one(
                {"_id": nonce, "expires_at": datetime.fromtimestamp(expires_at, timezone.utc), "used_at": _now()}
            )
        except DuplicateKeyError:
            return False
        return True

    async def unspend_token(self, nonce: str) -> None:
        await self.db.used_tokens.delete_one({"_id": nonce})

    async def token_spent(self, nonce: str) -> bool:
        return await self.db.used_tokens.find_one({"_id": nonce}, projection={"_id": 1}) is not None


class _GroupInsert:
    """Inserts into one collection, grouped: while one insert_many is on its way, the documents
    that arrive meanwhile wait and go together in the next one.

    Under load this turns N round trips (and N index updates paid one command at a time) into a
    few, with no added delay when traffic is light: a lone document goes out at once. Each caller
    learns about its own document: True inserted, False a duplicate key, StorageError otherwise.

    Bounded both ways: a caller waits at most the `wait` it gives (StorageBusy after that; a
    document still waiting is withdrawn, one already sent may be stored, and its redelivery is then
    a duplicate the scan answers), and past `limit` documents waiting or on their way a new one is
    refused at once. One insert_many may take `batch_timeout` (server selection included).
    Connection failures are reported to `health`.
    """

    MAX_BATCH = 200

    def __init__(self, collection, health: Health, limit: int = 1000, batch_timeout: float = 5.0, name: str = "inbox",
                 late=None):
        self._collection = collection
        self._name = name
        self._late = late  # called with a document whose caller gave up waiting, once it is stored after all
        self._health = health
        self._batch_timeout = batch_timeout
        self._limit = limit
        self._waiting: list[tuple[dict, asyncio.Future]] = []
        self._sending = 0
        self._flusher: asyncio.Task | None = None
        self._refused = 0
        self._refused_logged = -10.0
        self._refusing_since = 0.0

    async def put(self, doc: dict, wait: float) -> bool:
        if len(self._waiting) + self._sending >= self._limit:
            self._refuse()
            raise StorageBusy(f"too many {self._name} writes waiting")
        future = asyncio.get_running_loop().create_future()
        entry = (doc, future)
        self._waiting.append(entry)
        if self._flusher is None:
            self._flusher = asyncio.create_task(self._flush())
        try:
            async with asyncio.timeout(wait):
                return await asyncio.shield(future)
        except TimeoutError:
            if entry in self._waiting:
                self._waiting.remove(entry)
                future.cancel()  # never sent: nobody waits for it any more
            elif self._late is not None:
                future.add_done_callback(functools.partial(self._landed_late, doc))  # on its way: it may land
            else:
                future.cancel()
            self._refuse()
            raise StorageBusy(f"{self._name} write timed out") from None

    def _landed_late(self, doc: dict, future: asyncio.Future) -> None:
        if not future.cancelled() and future.exception() is None and future.result():
            self._late(doc)

    def _refuse(self) -> None:
        """Count refusals; say so at most every 10 s (one line, not one per request)."""
        now = time.monotonic()
        if not self._refused:
            self._refusing_since = now
        self._refused += 1
        if now - self._refused_logged >= 10.0:
            log.warning("%s writes refused (503): %d in %.0fs, %d waiting or on their way", self._name,
                        self._refused, now - self._refusing_since, len(self._waiting) + self._sending)
            self._refused, self._refused_logged = 0, now

    async def _flush(self) -> None:
        import pymongo
        from pymongo.errors import BulkWriteError, PyMongoError

        try:
            while self._waiting:
                batch = self._waiting[: self.MAX_BATCH]
                del self._waiting[: self.MAX_BATCH]
                self._sending = len(batch)
                outcome: dict[int, object] = {}
                try:
                    with pymongo.timeout(self._batch_timeout):  # server selection included
                        await self._collection().insert_many([doc for doc, _ in batch], ordered=False)
                except BulkWriteError as exc:
                    for error in exc.details.get("writeErrors", []):
                        duplicate = error.get("code") == 11000
                        outcome[error["index"]] = False if duplicate else StorageError(f"write error {error.get('code')}")
                except PyMongoError as exc:
                    if unreachable(exc) or exc.timeout:
                        self._health.failed(exc)
                    outcome = {index: _failed(exc) for index in range(len(batch))}
                except BaseException:
                    # Cancelled (shutdown) or a bug: nobody in this batch may be left waiting.
                    for _, future in batch:
                        if not future.done():
                            future.set_exception(StorageError("insert interrupted"))
                    raise
                finally:
                    self._sending = 0
                for index, (_, future) in enumerate(batch):
                    if future.done():
                        continue
                    result = outcome.get(index, True)
                    if isinstance(result, Exception):
                        future.set_exception(result)
                    else:
                        future.set_result(result)
        finally:
            self._flusher = None
            for _, future in self._waiting:  # only if this task was cancelled mid-way
                if not future.done():
                    future.set_exception(StorageError("shutting down"))
            self._waiting.clear()


class _Group:
    """Calls of one kind on one collection, grouped: while one write is on its way, the calls that
    arrive meanwhile wait and go together in the next (as _GroupInsert does for inserts), so under
    load a few commands carry what would be dozens, and a lone call goes out at once. A subclass
    sends a batch of (request, future) pairs and answers every future it can; any it leaves, and
    any still waiting when the flusher stops (cancelled at shutdown), get a StorageError."""

    MAX_BATCH = 200

    def __init__(self, collection, health: Health, linger: float = 0.0):
        self._collection = collection
        self._health = health
        # How long a flush waits for company before it sends. Only for writes made once the reply
        # is out (its record, the item's end): nobody waits for them, and at a steady 100 msg/s a
        # 20 ms wait lets one command carry two or three of them instead of one.
        self._linger = linger
        self._waiting: list[tuple[object, asyncio.Future]] = []
        self._flusher: asyncio.Task | None = None

    async def _put(self, request):
        future = asyncio.get_running_loop().create_future()
        self._waiting.append((request, future))
        if self._flusher is None:
            self._flusher = asyncio.create_task(self._flush())
        return await future

    async def _send(self, batch: list[tuple[object, asyncio.Future]]) -> None:
        raise NotImplementedError

    def _fail_all(self, exc: Exception, futures) -> None:
        if unreachable(exc):
            self._health.failed(exc)
        for future in futures:
            if not future.done():
                future.set_exception(_failed(exc))

    async def _flush(self) -> None:
        try:
            while self._waiting:
                if self._linger:
                    await asyncio.sleep(self._linger)
                batch = self._waiting[: self.MAX_BATCH]
                del self._waiting[: self.MAX_BATCH]
                try:
                    await self._send(batch)
                finally:  # cancelled (shutdown) or a bug: nobody in this batch may be left waiting
                    for _, future in batch:
                        if not future.done():
                            future.set_exception(StorageError("write interrupted"))
        finally:
            self._flusher = None
            for _, future in self._waiting:
                if not future.done():
                    future.set_exception(StorageError("shutting down"))
            self._waiting.clear()


class _GroupUpdate(_Group):
    """update_one calls grouped into one bulk_write. Each caller learns whether its update matched
    a document: True or False when the group's count says so for all, None when some in the group
    missed and the count cannot say which (the caller looks); StorageError when the write failed."""

    async def put(self, op) -> bool | None:
        return await self._put(op)

    async def _send(self, batch) -> None:
        from pymongo.errors import BulkWriteError, PyMongoError

        failed: dict[int, Exception] = {}
        try:
            result = await self._collection().bulk_write([op for op, _ in batch], ordered=False)
            matched = result.matched_count
        except BulkWriteError as exc:
            matched = exc.details.get("nMatched", -1)
            for error in exc.details.get("writeErrors", []):
                failed[error["index"]] = WriteRefused(error.get("code"))
        except PyMongoError as exc:
            self._fail_all(exc, [future for _, future in batch])
            return
        whole = len(batch) - len(failed)
        answer = True if matched == whole else (False if matched == 0 else None)
        for index, (_, future) in enumerate(batch):
            if future.done():
                continue
            if index in failed:
                future.set_exception(failed[index])
            else:
                future.set_result(answer)


class _GroupDone(_Group):
    """inbox_done calls grouped into one update_many per outcome: on SecantusDB one statement over
    fifty items costs about half of fifty single updates (each its own transaction), and on Atlas
    it is one round trip; it matches as _taken_as says. Each caller gets (True, done_at) when
    its whole group matched, (False, …) when none did, (None, …) when the count cannot say (the
    caller looks: only our write leaves the item done at that `done_at`)."""

    async def put(self, item_id, lease: str, outcome: str) -> tuple[bool | None, datetime]:
        return await self._put((item_id, lease, outcome))

    async def _send(self, batch) -> None:
        from pymongo.errors import PyMongoError

        groups: dict[str, list] = {}
        for (item_id, lease, outcome), future in batch:
            groups.setdefault(outcome, []).append((item_id, lease, future))
        for outcome, group in groups.items():
            done_at = _ms(_now())
            try:
                result = await self._collection().update_many(
                    _taken_as([(item_id, lease) for item_id, lease, _ in group]),
                    {
                        "$set": {"state": "done", "outcome": outcome, "done_at": done_at},
                        "$unset": {"event": "", "replies": "", "lease_until": "", "lease": ""},
                        "$inc": {"v": 1},
                    },
                )
            except PyMongoError as exc:
                self._fail_all(exc, [future for _, _, future in group])
                continue
            matched = result.matched_count
            answer = True if matched == len(group) else (False if matched == 0 else None)
            for _, _, future in group:
                if not future.done():
                    future.set_result((answer, done_at))


class _GroupRelease(_Group):
    """inbox_release calls grouped into one update_many (matching as _taken_as says)."""

    async def put(self, items: list[dict]) -> None:
        await self._put(items)

    async def _send(self, batch) -> None:
        from pymongo.errors import PyMongoError

        items = [item for request, _ in batch for item in request]
        try:
            await self._collection().update_many(
                _taken_as([(item["_id"], item["lease"]) for item in items]),
                {"$set": {"state": "pending"}, "$unset": {"lease_until": "", "lease": ""},
                 "$inc": {"attempts": -1, "v": 1}},
            )
        except PyMongoError as exc:
            self._fail_all(exc, [future for _, future in batch])
            return
        for _, future in batch:
            if not future.done():
                future.set_result(None)


def _taken_as(pairs: list[tuple]) -> dict:
    """The filter of items still taken as (item _id, lease token) say, for one write over many:
    `{_id: {$in}, lease: {$in}}` matches exactly the pairs asked for, as a lease token is drawn at
    random for one take of one item; an item taken again since (another token) is left alone."""
    return {"_id": {"$in": [item_id for item_id, _ in pairs]}, "lease": {"$in": [lease for _, lease in pairs]}}


def _failed(exc: BaseException) -> StorageError:
    """What each caller of a failed grouped write is told: its kind, and the driver's error as the
    cause, so `unreachable` still tells an outage (a WARNING, wait and resume) from a bug."""
    error = StorageError(type(exc).__name__)
    error.__cause__ = exc
    return error


def _ms(moment: datetime) -> datetime:
    """`moment` as BSON keeps it (milliseconds), so a copy in memory equals the stored value."""
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def _after(moment: datetime, seconds: float) -> datetime:
    from datetime import timedelta

    return moment + timedelta(seconds=seconds)


