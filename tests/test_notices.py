"""Clock-change notices against a real server and the fake Bot API: two instances (scheduler and
worker each) on one database send each notice once; a restart sends nothing again; a muted chat,
a chat that said /notices off and a chat with one zone get none. Only the clock is mocked."""

from __future__ import annotations

import asyncio
import html
import re
from datetime import datetime, timezone
from unittest import mock

from conftest import BOT_TOKEN

from teamops import notices, stopping
from teamops.assistant import Assistant
from teamops.config import Config
from teamops.senders.telegram import TelegramSender
from teamops.store import Store
from teamops.worker import Worker

# Thu 11 Mar 2027, noon UTC: New York moves its clocks on Sun 14 Mar, Lisbon only on Sun 28 Mar.
BEFORE_US_CHANGE = datetime(2027, 3, 11, 12, 0, tzinfo=timezone.utc)
TEAM = {"1": "Europe/Lisbon", "2": "America/New_York", "3": "Asia/Tokyo"}
EXPECTED = ("From Sun 14 Mar, New York is 4 h behind Lisbon instead of 5 h (for 2 weeks) "
            "and 13 h behind Tokyo instead of 14 h.")


class Instance:
    """One copy of the service's scheduled part: its own store client, assistant, worker, scheduler."""

    def __init__(self, mongo_uri: str, api_base: str):
        self.store = Store(mongo_uri, "unused")
        config = Config(mongodb_uri=mongo_uri)
        senders = {"telegram": TelegramSender(api_base, BOT_TOKEN, 5, "team_ops_bot")}
        self.worker = Worker(self.store, Assistant(self.store, config, senders), senders, 2, 3)
        self.scheduler = notices.NoticeScheduler(self.store, config)
        self.loop: asyncio.Task | None = None

    async def start(self, scheduling: bool = True) -> "Instance":
        await self.store.ensure_indexes()
        self.worker.start()
        if scheduling:
            self.loop = asyncio.create_task(self.scheduler.run())
        return self

    async def stop(self) -> None:
        if self.loop is not None:
            await stopping.stop(self.loop)
        await self.worker.stop()


async def _chats(store: Store) -> None:
    await store.ensure_indexes()
    for chat_id in ("-100900", "-100901", "-100902"):
        for user_id, tz in TEAM.items():
            await store.touch_member("telegram", chat_id, user_id, f"member{user_id}", tz)
    await store.chat_settings("telegram", "-100901", muted=True)
    await store.chat_settings("telegram", "-100902", notices=False)
    await store.touch_member("telegram", "-100903", "2", "member2", "America/New_York")  # one zone only


def _notices(telegram_api) -> list[tuple[int, str]]:
    return [(b["chat_id"], html.unescape(re.sub(r"<[^>]+>", "", b["text"])))
            for b in telegram_api.sent() if "Clocks change" in b.get("text", "")]


async def _until(predicate, seconds: float = 10.0):
    for _ in range(int(seconds / 0.05)):
        if predicate():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("timed out")


def test_two_instances_send_each_notice_once_and_a_restart_sends_nothing_again(mongo_uri, telegram_api):
    async def scenario():
        with mock.patch("teamops.notices._now", return_value=BEFORE_US_CHANGE), \
                mock.patch("teamops.notices.SCAN_EVERY_SECONDS", 0.2), \
                mock.patch("teamops.notices.FIRST_SCAN_SECONDS", 0.1):
            first = Instance(mongo_uri, telegram_api.base)
            await _chats(first.store)
            second = Instance(mongo_uri, telegram_api.base)
            await second.store.ensure_indexes()
            # Both scan at the same moment, lease or not: the inbox key lets one notice through.
            queued = await asyncio.gather(first.scheduler.scan(), second.scheduler.scan())
            assert sorted(queued) == [0, 1], f"one chat, one change day, one notice: {queued}"
            await first.start()
            await second.start()
            await _until(lambda: _notices(telegram_api))
            await asyncio.sleep(2.5)  # both loops scan again and again; both workers look for due items
            sent = _notices(telegram_api)
            assert sent == [(-100900, f"\u23f0 Clocks change soon. {EXPECTED}")], sent
            held = await first.store.lease(notices.LEASE_NAME)
            holders = {first.scheduler.lease.holder, second.scheduler.lease.holder}
            assert held["holder"] in holders and [first.scheduler.lease.held, second.scheduler.lease.held].count(True) == 1
            await first.stop()
            await second.stop()

            # A restart (new processes, same database) scans again: nothing new, nothing repeated.
            third = await Instance(mongo_uri, telegram_api.base).start()
            await asyncio.sleep(2.5)
            assert await third.scheduler.scan() == 0
            await third.stop()
            assert len(_notices(telegram_api)) == 1
            await third.store.close()

    asyncio.run(scenario())


def test_a_notice_queued_by_an_instance_that_dies_is_sent_by_another(mongo_uri, telegram_api):
    async def scenario():
        with mock.patch("teamops.notices._now", return_value=BEFORE_US_CHANGE):
            dying = Instance(mongo_uri, telegram_api.base)
            await _chats(dying.store)
            assert await dying.scheduler.scan() == 1  # queued, then the process is gone before sending
            assert _notices(telegram_api) == []
            survivor = await Instance(mongo_uri, telegram_api.base).start(scheduling=False)
            await _until(lambda: _notices(telegram_api))
            await survivor.stop()
            assert [chat for chat, _ in _notices(telegram_api)] == [-100900]
            await survivor.store.close()

    asyncio.run(scenario())


def test_a_chat_muted_or_with_notices_off_after_queueing_gets_nothing(mongo_uri, telegram_api):
    async def scenario():
        with mock.patch("teamops.notices._now", return_value=BEFORE_US_CHANGE):
            instance = Instance(mongo_uri, telegram_api.base)
            await _chats(instance.store)
            assert await instance.scheduler.scan() == 1
            await instance.store.chat_settings("telegram", "-100900", notices=False)  # /notices off meanwhile
            await instance.start(scheduling=False)
            done = lambda: instance.store.db.inbox.count_documents({"state": "done"})  # noqa: E731
            for _ in range(200):
                if await done() == 1:
                    break
                await asyncio.sleep(0.05)
            await instance.stop()
            assert _notices(telegram_api) == [], "told /notices off before it was due: silent"
            await instance.store.close()

    asyncio.run(scenario())


def test_southern_and_northern_changes_are_found_on_their_own_days():
    zones = ["Australia/Sydney", "America/Santiago", "Europe/Lisbon"]
    days = notices.due_days(zones, datetime(2027, 3, 30, tzinfo=timezone.utc))
    assert [d.isoformat() for d in days] == ["2027-04-03", "2027-04-04"], "Sydney (Sat 16:00 UTC), Santiago (Sun 03:00 UTC)"
    body = "".join(s.text for s in notices.notice_body(zones, datetime(2027, 4, 3, tzinfo=timezone.utc)))
    assert "From Sun 4 Apr, Sydney is 9 h ahead of Lisbon instead of 10 h" in body, body
