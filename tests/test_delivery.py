"""Delivery under stress: slow platform APIs, several instances, retried decisions, debug logs."""

from __future__ import annotations

import asyncio
import time

from conftest import BOT_TOKEN, app_env, tg_message, wait_for
from teamops.assistant import Assistant
from teamops.config import Config
from teamops.events import ChatMessage, ZoneVerified
from teamops.store import Store


def _known(db, user_id, tz="Europe/Berlin", chat_id="-100500", extra=("Asia/Tokyo",)):
    db.users.insert_one({"platform": "telegram", "user_id": str(user_id), "tz": tz})
    db.chats.update_one({"platform": "telegram", "chat_id": chat_id},
                        {"$set": {"extra_zones": list(extra), "members": {}}}, upsert=True)


def test_a_send_slower_than_the_lease_is_not_sent_twice(start_app, mongo_uri, telegram_api, db):
    _known(db, 8001)
    app = start_app(app_env(mongo_uri, telegram_api, INBOX_LEASE_SECONDS=1))
    telegram_api.delays.append(3.5)  # Telegram takes 3.5 s to accept the reply; the lease is 1 s
    app.telegram(tg_message("sync at 15:30", user_id=8001))
    telegram_api.wait_sent(1, timeout=15)
    time.sleep(3)
    assert len(telegram_api.calls) == 1, "the lease is held while the send is slow: nobody sends it again"


def test_two_instances_share_the_inbox_and_answer_each_message_once(start_app, mongo_uri, telegram_api, db):
    for user in range(8101, 8111):
        _known(db, user)
    env = app_env(mongo_uri, telegram_api, INBOX_LEASE_SECONDS=2)
    first, second = start_app(env), start_app(env)
    updates = [tg_message(f"call at {10 + n}:00", user_id=8101 + n) for n in range(10)]
    for update in updates:  # Telegram redelivers each update to the other instance too
        assert first.telegram(update).status == 200
        assert second.telegram(update).status == 200
    telegram_api.wait_sent(10, timeout=20)
    time.sleep(2.5)
    sent = telegram_api.sent()
    assert len(sent) == 10
    assert sorted(r["reply_parameters"]["message_id"] for r in sent) == sorted(u["message"]["message_id"] for u in updates)


def test_deciding_again_after_a_failure_decides_the_same(mongo_uri):
    """A crash between deciding and recording the plan makes the worker decide again; the
    state changes made the first time (prompt asked, waiting message taken) must not change
    the answer for that same event."""
    config = Config(public_base_url="http://x.test", verify_token_secret="s" * 32)

    async def scenario():
        store = Store(mongo_uri, "unused")
        await store.ensure_indexes()
        assistant = Assistant(store, config)
        await store.add_chat_zone("telegram", "-1", "Asia/Tokyo")
        message = ChatMessage(platform="telegram", chat_id="-1", user_id="9", user_name="Ana",
                              text="sync at 15:30", sent_at=time.time(), message_id="77")
        first = await assistant.handle(message, "update-1")
        again = await assistant.handle(message, "update-1")
        other = await assistant.handle(message, "update-2")  # a new message within 24 h: no second prompt
        await store.set_user_zone("telegram", "9", "Europe/Lisbon", "web")
        verified = ZoneVerified(platform="telegram", chat_id="-1", user_id="9", tz="Europe/Lisbon")
        confirm = await assistant.handle(verified, "verified:n1")
        confirm_again = await assistant.handle(verified, "verified:n1")
        await store.close()
        return first, again, other, confirm, confirm_again

    first, again, other, confirm, confirm_again = asyncio.run(scenario())
    assert len(first) == 1 and first[0].buttons, "the unknown sender is asked for a zone"
    assert [(r.plain_text, len(r.buttons)) for r in again] == [(r.plain_text, len(r.buttons)) for r in first]
    assert other == []
    assert len(confirm) == 2 and "Tokyo" in confirm[1].plain_text, "the waiting message is converted"
    assert [r.plain_text for r in confirm_again] == [r.plain_text for r in confirm]


def test_debug_logging_still_hides_tokens_and_text(start_app, mongo_uri, telegram_api, db):
    _known(db, 8201)
    app = start_app(app_env(mongo_uri, telegram_api, LOG_LEVEL="DEBUG"))
    app.telegram(tg_message("octopus-rendezvous at 13:00", user_id=8201))
    telegram_api.wait_sent(1)
    time.sleep(0.5)
    logs = app.logs()
    assert BOT_TOKEN not in logs and "octopus" not in logs


def test_bot_removed_from_a_group_forgets_the_chat(start_app, mongo_uri, telegram_api, db):
    _known(db, 8301)
    app = start_app(app_env(mongo_uri, telegram_api))
    app.telegram(tg_message("/zones add Asia/Tokyo", user_id=8301))
    telegram_api.wait_sent(1)
    bot = {"id": 4242, "is_bot": True, "first_name": "Team Ops"}
    app.telegram({"update_id": 99000001, "my_chat_member": {
        "chat": {"id": -100500, "type": "supergroup"}, "from": {"id": 8301, "is_bot": False, "first_name": "Ana"},
        "date": int(time.time()), "old_chat_member": {"status": "member", "user": bot},
        "new_chat_member": {"status": "kicked", "user": bot}}})
    wait_for(lambda: db.chats.find_one({"chat_id": "-100500"}) is None, what="the chat to be forgotten")


def test_a_busy_chat_does_not_hold_up_another(start_app, mongo_uri, telegram_api, db):
    for user in range(8401, 8407):
        _known(db, user, chat_id="-100500")
    _known(db, 8499, chat_id="-100600")
    app = start_app(app_env(mongo_uri, telegram_api))
    telegram_api.delays.extend([1.0] * 6)  # the busy chat's replies each take a second to accept
    for user in range(8401, 8407):
        app.telegram(tg_message(f"call at {user - 8390}:00", user_id=user, chat_id=-100500))
    time.sleep(0.3)
    started = time.monotonic()
    app.telegram(tg_message("sync at 15:30", user_id=8499, chat_id=-100600))
    wait_for(lambda: any(r["chat_id"] == -100600 for r in telegram_api.sent()), 15, what="the other chat's reply")
    assert time.monotonic() - started < 2.5, "the quiet chat's reply did not wait for the busy chat's queue"
    telegram_api.wait_sent(7, timeout=20)
    busy = [r["reply_parameters"]["message_id"] for r in telegram_api.sent() if r["chat_id"] == -100500]
    assert busy == sorted(busy), "one chat's replies go out in the order its messages came"
