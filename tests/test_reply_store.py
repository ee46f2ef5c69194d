"""The reply store against a real server: one answer per message, edits newest-last, a TTL."""

from __future__ import annotations

import asyncio

from teamops.store import REPLIES_TTL_SECONDS, Store

P, CHAT, MSG = "telegram", "-100500", "5"


def _run(mongo_uri, scenario):
    async def wrapped():
        store = Store(mongo_uri, "unused")
        await store.ensure_indexes()
        try:
            return await scenario(store)
        finally:
            await store.close()

    return asyncio.run(wrapped())


def test_a_message_is_answered_by_one_event_only(mongo_uri):
    async def scenario(store):
        first = await store.reply_claim(P, CHAT, MSG, "update-1", "d1")
        again = await store.reply_claim(P, CHAT, MSG, "update-1", "d1")  # the same event, retried
        other = await store.reply_claim(P, CHAT, MSG, "update-2", "d2")  # an edit decided meanwhile
        await store.reply_delivered(P, CHAT, MSG, "900")
        after_send = await store.reply_claim(P, CHAT, MSG, "update-1", "d1")
        racing = await asyncio.gather(*(store.reply_claim(P, CHAT, "6", f"u{n}", "d") for n in range(5)))
        return first, again, other, after_send, racing

    first, again, other, after_send, racing = _run(mongo_uri, scenario)
    assert first and again, "the event that answers first keeps the answer, also when it is decided again"
    assert not other, "a second event must not answer the same message with a second reply"
    assert not after_send, "once the reply is out, nobody sends another"
    assert sum(racing) == 1, "events racing for one message: exactly one answers"


def test_deleted_reply_lets_a_later_edit_answer_again(mongo_uri, db):
    async def scenario(store):
        await store.reply_claim(P, CHAT, MSG, "update-1", "d1")
        await store.reply_delivered(P, CHAT, MSG, "900")
        record = await store.reply_for_edit(P, CHAT, MSG, 100.0)
        deleting = await store.reply_plan_edit(P, CHAT, MSG, "update-2", "empty", 100.0)
        await store.reply_delivered(P, CHAT, MSG, "")  # deleted
        answer_again = await store.reply_claim(P, CHAT, MSG, "update-3", "d3", 200.0)
        return record, deleting, answer_again

    record, deleting, answer_again = _run(mongo_uri, scenario)
    assert (record["state"], record["reply_id"], record["seen_at"]) == ("sent", "900", 100.0)
    assert deleting and answer_again
    stored = db.replies.find_one({"platform": P, "chat_id": CHAT, "message_id": MSG})
    assert (stored["state"], stored["key"], stored["text_at"]) == ("planned", "update-3", 200.0)


def test_an_older_edit_cannot_overwrite_a_newer_one(mongo_uri):
    async def scenario(store):
        await store.reply_claim(P, CHAT, MSG, "update-1", "d1")
        await store.reply_delivered(P, CHAT, MSG, "900")
        await store.reply_for_edit(P, CHAT, MSG, 300.0)  # the newer edit is seen first...
        record = await store.reply_for_edit(P, CHAT, MSG, 200.0)  # ...then the older one
        older = await store.reply_plan_edit(P, CHAT, MSG, "update-2", "d2", 200.0)
        newer = await store.reply_plan_edit(P, CHAT, MSG, "update-3", "d3", 300.0)
        while_planned = await store.reply_plan_edit(P, CHAT, MSG, "update-4", "d4", 400.0)
        unknown = await store.reply_for_edit(P, CHAT, "never-answered", 1.0)
        return record, older, newer, while_planned, unknown

    record, older, newer, while_planned, unknown = _run(mongo_uri, scenario)
    assert record["seen_at"] == 300.0, "the stamp only moves forward"
    assert not older and newer
    assert not while_planned, "no second change of our reply while the first is still on its way"
    assert unknown is None


def test_the_reply_store_expires_with_the_inbox(mongo_uri, db):
    _run(mongo_uri, lambda store: store.reply_claim(P, CHAT, MSG, "update-1", "d1"))
    [ttl] = [ix for ix in db.replies.list_indexes() if ix.get("expireAfterSeconds") is not None]
    assert ttl["key"] == {"at": 1} and ttl["expireAfterSeconds"] == REPLIES_TTL_SECONDS
    inbox_ttl = [ix for ix in db.inbox.list_indexes() if ix.get("expireAfterSeconds") is not None][0]
    assert ttl["expireAfterSeconds"] == inbox_ttl["expireAfterSeconds"]


def test_forgetting_a_chat_forgets_its_replies(mongo_uri, db):
    async def scenario(store):
        await store.reply_claim(P, CHAT, MSG, "update-1", "d1")
        await store.reply_claim(P, "-100600", MSG, "update-2", "d2")
        await store.forget_chat(P, CHAT)

    _run(mongo_uri, scenario)
    assert [r["chat_id"] for r in db.replies.find()] == ["-100600"]
