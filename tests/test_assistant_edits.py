"""The assistant's decisions about edits and private answers, without any platform: events in,
Reply values out, against a real database."""

from __future__ import annotations

import asyncio
import time
from datetime import datetime, timedelta, timezone

import pytest

from teamops.assistant import Assistant, Later
from teamops.config import Config
from teamops.events import ChatMessage, Quoted
from teamops.store import Store

CONFIG = Config(public_base_url="http://x.test", verify_token_secret="s" * 32)


def _message(text, edited_at=0.0, user_id="9", chat_id="-1", message_id="77", sent_at=None):
    return ChatMessage(platform="p", chat_id=chat_id, user_id=user_id, user_name="Ana", text=text,
                       sent_at=time.time() - 60 if sent_at is None else sent_at, message_id=message_id,
                       edited_at=edited_at)


def _run(mongo_uri, scenario):
    async def wrapped():
        store = Store(mongo_uri, "unused")
        await store.ensure_indexes()
        await store.set_user_zone("p", "9", "Europe/Berlin", "command")
        await store.add_chat_zone("p", "-1", "Asia/Tokyo")
        try:
            return await scenario(store, Assistant(store, CONFIG))
        finally:
            await store.close()

    return asyncio.run(wrapped())


def test_an_edit_follows_the_reply_it_edits_and_is_decided_the_same_again(mongo_uri):
    async def scenario(store, assistant):
        [original] = await assistant.handle(_message("sync at 15:30"), "u1")
        try:
            await assistant.handle(_message("sync at 16:00", edited_at=100.0), "u2")
            waited = False
        except Later:
            waited = True  # our reply is not out yet
        await store.reply_delivered("p", "-1", "77", "900")
        await store.db.replies.update_one({"message_id": "77"}, {"$set": {"changed_at": datetime.now(timezone.utc) - timedelta(minutes=1)}})
        [edit] = await assistant.handle(_message("sync at 16:00", edited_at=100.0), "u2")
        [again] = await assistant.handle(_message("sync at 16:00", edited_at=100.0), "u2")  # retried
        older = await assistant.handle(_message("sync at 15:45", edited_at=90.0), "u3")
        return original, waited, edit, again, older

    original, waited, edit, again, older = _run(mongo_uri, scenario)
    assert original.follows == "77" and not original.edit_of
    assert waited, "an edit never answers a message whose reply is still on its way"
    assert (edit.edit_of, edit.follows, edit.delete) == ("900", "77", False) and "16:00" in edit.plain_text
    assert again == edit, "a retried decision comes out the same"
    assert older == [], "an older edit arriving late changes nothing"


def test_a_second_event_for_an_answered_message_sends_nothing(mongo_uri):
    """The edit came first (its original was still undecided) and answered; the original, decided
    later, must not answer again."""

    async def scenario(store, assistant):
        [first] = await assistant.handle(_message("sync at 16:00", edited_at=100.0), "edit")
        late_original = await assistant.handle(_message("sync at 15:30"), "original")
        return first, late_original

    first, late_original = _run(mongo_uri, scenario)
    assert first.follows == "77" and "16:00" in first.plain_text
    assert late_original == []


def test_edits_that_change_nothing_shown_or_come_too_fast_wait_or_stay(mongo_uri):
    async def scenario(store, assistant):
        await assistant.handle(_message("sync at 15:30"), "u1")
        await store.reply_delivered("p", "-1", "77", "900")  # just now
        with pytest.raises(Later) as storm:
            await assistant.handle(_message("sync at 16:00", edited_at=100.0), "u2")
        same = await assistant.handle(_message("Sync at 15:30!", edited_at=101.0), "u3")
        stale = await assistant.handle(_message("sync at 16:00", sent_at=time.time() - 8 * 24 * 3600, edited_at=1.0), "u4")
        return storm.value, same, stale

    storm, same, stale = _run(mongo_uri, scenario)
    assert 0 < storm.seconds <= 3.0, "our reply changed a moment ago: the edit waits its turn"
    assert same == [], "a typo fixed elsewhere leaves our reply alone"
    assert stale == [], "an edit older than the reply store is ignored"


def test_private_answers_carry_a_public_fallback_without_personal_links(mongo_uri):
    async def scenario(store, assistant):
        unknown = _message("sync at 15:30", user_id="10")
        in_private = ChatMessage(platform="p", chat_id="10", user_id="10", user_name="Bo", text="/tz",
                                 sent_at=time.time(), message_id="5", private=True)
        return await assistant.handle(unknown, "u1"), await assistant.handle(in_private, "u2")

    [prompt], [direct] = _run(mongo_uri, scenario)
    assert prompt.private_to == "10" and prompt.buttons[0][0].url.startswith("http://x.test/verify?token=")
    fallback = prompt.fallback
    assert fallback.private_to == "" and fallback.buttons[0][0].url == "" and fallback.buttons[0][0].private_start
    assert fallback.plain_text == prompt.plain_text
    assert direct.private_to == "" and direct.fallback is None, "a one-to-one chat is private already"


def test_conversion_on_demand_reads_the_writers_zone(mongo_uri):
    async def scenario(store, assistant):
        await store.set_user_zone("p", "11", "Asia/Tokyo", "command")
        target = Quoted(message_id="70", text="call at 15:30", sent_at=time.time() - 60, user_id="9", user_name="Ana")
        asking = ChatMessage(platform="p", chat_id="-1", user_id="11", user_name="Bo", text="/time",
                             sent_at=time.time(), message_id="71", replied_to=target)
        await store.chat_settings("p", "-1", muted=True)
        return await assistant.handle(asking, "u1")

    [reply] = _run(mongo_uri, scenario)
    assert reply.reply_to == "70", "answered under the converted message"
    assert "15:30" in reply.plain_text and "Berlin" in reply.plain_text and "Tokyo" in reply.plain_text
