"""Clock-change notices: the assistant's first work on its own schedule.

A scan (every SCAN_EVERY_SECONDS, in one instance at a time: a lease in `leases`) looks at each
chat's zones; when one of them changes its UTC offset within LOOKAHEAD, it puts one ClockNotice
per chat and UTC day of the change in the inbox, due NOTICE_AHEAD before the change. The inbox's
unique (platform, event_id) key is what keeps it to one notice per change per chat: a second
instance, a rescan or a restart finds the key taken and adds nothing; the worker delivers the
item like any other (leased, retried, resumed after a crash), so no notice is lost either. The
inbox keeps that key for 7 days after it was written, and a change is only looked for up to
7 days ahead, so the key outlives the change it stands for.

What the notice says is decided when it is delivered (teamops/assistant.py hands the event here):
the chat's zones then, unless the chat is muted or said /notices off by then.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import date, datetime, timedelta, timezone
from functools import lru_cache

from teamops import wording
from teamops.events import ClockNotice, Reply, to_doc

log = logging.getLogger("teamops.notices")

LOOKAHEAD = timedelta(days=7)  # changes looked for this far ahead (not more: see the inbox's TTL)
NOTICE_AHEAD = timedelta(days=3)  # a notice is due this long before the change
SCAN_EVERY_SECONDS = 1800.0
FIRST_SCAN_SECONDS = 60.0  # after taking the lease: a deploy's start-up is busy enough
LEASE_NAME = "scheduler:notices"
LEASE_SECONDS = 120.0
PAGE = 500  # chats read per query; the loop yields between pages


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _offset(tz: str, instant: datetime) -> timedelta:
    from teamops.mentions import zone_for

    return instant.astimezone(zone_for(tz)).utcoffset() or timedelta(0)


@lru_cache(maxsize=8192)
def _changes_on(tz: str, day: date) -> tuple[tuple[datetime, timedelta, timedelta], ...]:
    """The offset changes of `tz` during the UTC day `day`: (instant, offset before, after)."""
    start = datetime(day.year, day.month, day.day, tzinfo=timezone.utc)
    end = start + timedelta(days=1)
    before, after = _offset(tz, start), _offset(tz, end)
    if before == after:
        return ()
    low, high = start, end  # bisect to the minute: rules change on whole minutes
    while high - low > timedelta(minutes=1):
        middle = low + (high - low) / 2
        if _offset(tz, middle) == before:
            low = middle
        else:
            high = middle
    return ((high.replace(second=0, microsecond=0), before, after),)


def changes(tz: str, start: datetime, end: datetime) -> list[tuple[datetime, timedelta, timedelta]]:
    """Offset changes of `tz` in (start, end]."""
    found = []
    day = start.astimezone(timezone.utc).date()
    while datetime(day.year, day.month, day.day, tzinfo=timezone.utc) <= end:
        found.extend(c for c in _changes_on(tz, day) if start < c[0] <= end)
        day += timedelta(days=1)
    return found


def next_change(tzs, after: datetime, within: timedelta) -> datetime | None:
    soonest = None
    for tz in tzs:
        for instant, _, _ in changes(tz, after, after + within):
            soonest = instant if soonest is None or instant < soonest else soonest
            break
    return soonest


def chat_zones_of(chat: dict, team_zones=()) -> list[str]:
    zones = {m["tz"] for m in (chat.get("members") or {}).values() if m.get("tz")}
    zones.update(chat.get("extra_zones") or ())
    zones.update(team_zones)
    return sorted(zones)


def due_days(zones, now: datetime) -> list[date]:
    """UTC days within LOOKAHEAD on which a zone of the chat changes its offset."""
    days = set()
    for tz in zones:
        for instant, _, _ in changes(tz, now, now + LOOKAHEAD):
            days.add(instant.date())
    return sorted(days)


def event_id(chat_id: str, day: date) -> str:
    return f"notice:{chat_id}:{day.isoformat()}"


class NoticeScheduler:
    """Scans chats and queues their notices. `run()` holds the lease and scans on a timer;
    `scan()` is one pass (what a test calls directly)."""

    def __init__(self, store, config):
        from teamops.lease import LeaseHolder

        self.store = store
        self.config = config
        self.lease = LeaseHolder(store, LEASE_NAME, LEASE_SECONDS, lambda: ("scanning", True))

    async def scan(self) -> int:
        """One pass over every chat that may get a notice; the notices queued now."""
        from teamops.mentions import zone_for

        now = _now()
        queued = 0
        query = {"muted": {"$ne": True}, "notices": {"$ne": False}}
        projection = {"platform": 1, "chat_id": 1, "members": 1, "extra_zones": 1}
        last_id = None
        while True:
            page_query = dict(query, **({"_id": {"$gt": last_id}} if last_id is not None else {}))
            chats = await self.store.db.chats.find(page_query, projection=projection).sort("_id", 1).limit(PAGE).to_list()
            if not chats:
                break
            last_id = chats[-1]["_id"]
            for chat in chats:
                zones = []
                for tz in chat_zones_of(chat, self.config.team_timezones):
                    try:
                        zone_for(tz)
                        zones.append(tz)
                    except ValueError:
                        continue
                if len(zones) < 2:
                    continue  # alone in a zone, nothing differs between members
                for day in due_days(zones, now):
                    change = datetime(day.year, day.month, day.day, tzinfo=timezone.utc)
                    due_in = max(0.0, (change - NOTICE_AHEAD - now).total_seconds())
                    event = ClockNotice(platform=chat["platform"], chat_id=chat["chat_id"], day=day.isoformat())
                    item = await self.store.inbox_put(chat["platform"], event_id(chat["chat_id"], day), to_doc(event),
                                                      due_in=due_in)
                    if item is not None:
                        queued += 1
                        log.info("clock-change notice queued: platform=%s chat=%s day=%s due_in=%.0fs",
                                 chat["platform"], chat["chat_id"][:40], day.isoformat(), due_in)
            await asyncio.sleep(0)  # many chats: let the webhooks in between pages
            if len(chats) < PAGE:
                break
        return queued

    async def loop(self) -> None:
        await asyncio.sleep(FIRST_SCAN_SECONDS)
        while True:
            started = _now()
            try:
                queued = await self.scan()
                log.info("notice scan done: queued=%d ms=%d", queued, (_now() - started).total_seconds() * 1000)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the next pass tries again; nothing was half-written
                log.warning("notice scan failed: %s", type(exc).__name__)
            await asyncio.sleep(SCAN_EVERY_SECONDS)

    async def run(self) -> None:
        """Scan on a timer while this instance holds the scheduler's lease (one instance scans;
        if it dies, another takes over within about 4/3 of LEASE_SECONDS)."""
        await self.lease.run(self.loop)


async def answer(assistant, event: ClockNotice) -> list[Reply]:
    """The notice for a chat whose zones change on `event.day`, as the chat is now: nothing in a
    muted chat, after /notices off, or when no zone of it changes that day any more."""
    chat = await assistant.store.chat(event.platform, event.chat_id)
    if chat.get("muted") or chat.get("notices") is False:
        return []
    zones = assistant.chat_zones(chat)
    day = date.fromisoformat(event.day)
    start = datetime(day.year, day.month, day.day, tzinfo=timezone.utc)
    body = notice_body(zones, start)
    if not body:
        return []
    return [Reply(platform=event.platform, chat_id=event.chat_id, body=body)]


def notice_body(zones, day_start: datetime):
    """"From Sun 14 Mar, New York is 4 h behind Lisbon instead of 5 h (for 2 weeks) and 13 h
    behind Tokyo instead of 14 h." One sentence per zone that changes that UTC day."""
    day_end = day_start + timedelta(days=1)
    moving = {}
    for tz in zones:
        found = changes(tz, day_start - timedelta(seconds=1), day_end)
        if found:
            moving[tz] = found[0]
    if not moving:
        return ()
    sentences = []
    for tz, (instant, before, after) in sorted(moving.items(), key=lambda item: item[1][0]):
        comparisons = []
        for other in zones:
            if other == tz:
                continue
            old = before - _offset(other, instant - timedelta(minutes=1))
            new = after - _offset(other, instant + timedelta(minutes=1))
            if old == new:
                continue
            # How long the new difference lasts: until either zone changes again.
            until = next_change([tz, other], instant + timedelta(minutes=1), timedelta(weeks=8))
            comparisons.append((other, old, new, until, instant))
        comparisons.sort(key=lambda c: (abs(c[2]), c[0]))  # the nearest zones first
        if comparisons:
            sentences.append(wording.clock_change(tz, instant, comparisons))
    return wording.clock_notice(sentences) if sentences else ()
