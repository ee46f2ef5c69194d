"""The store against a real server: grouped inbox writes keep dedup exact under concurrency."""

from __future__ import annotations

import asyncio

from teamops.store import Store


def test_concurrent_inbox_writes_are_each_answered_and_deduplicated(mongo_uri):
    async def scenario():
        store = Store(mongo_uri, "unused")
        await store.ensure_indexes()
        # 300 deliveries of 100 distinct events, all at once: each event is fresh exactly once.
        ids = [str(n % 100) for n in range(300)]
        results = await asyncio.gather(*(store.inbox_put("telegram", event_id, {"n": event_id}) for event_id in ids))
        fresh = [event_id for event_id, item in zip(ids, results, strict=True) if item is not None]
        backlog = await store.inbox_backlog()
        again = await store.inbox_put("telegram", "7", {})
        await store.close()
        return fresh, backlog, again

    fresh, backlog, again = asyncio.run(scenario())
    assert sorted(fresh, key=int) == [str(n) for n in range(100)]
    assert backlog == 100
    assert again is None


def test_a_copy_read_before_a_retry_cannot_take_the_item_again(mongo_uri):
    """The webhook's copy and the scan's copy of one item both reach the worker; after the item
    was taken, planned, partly sent and put back for a retry, the old copy must not win."""

    async def scenario():
        store = Store(mongo_uri, "unused")
        await store.ensure_indexes()
        stale = await store.inbox_put("telegram", "1", {"chat_id": "-1"})
        taken = await store.inbox_take(stale, 60)
        await store.inbox_plan(taken, [{"platform": "telegram", "chat_id": "-1"}] * 2)
        await store.inbox_sent(taken, 1)
        await store.inbox_retry(taken, 0.0, "send 502")
        second_take = await store.inbox_take(stale, 60)
        [fresh] = await store.inbox_due(10)
        resumed = await store.inbox_take(fresh, 60)
        await store.close()
        return taken, second_take, resumed

    taken, second_take, resumed = asyncio.run(scenario())
    assert taken is not None
    assert second_take is None, "a stale copy cannot take the item back"
    assert resumed["sent"] == 1 and len(resumed["replies"]) == 2, "the taker resumes after the reply already sent"


def test_inbox_writes_wait_for_the_unique_index(mongo_uri):
    """Deliveries that arrive while start-up is still making the indexes are held until the
    unique index exists, so duplicates among them are still recognised."""

    async def scenario():
        store = Store(mongo_uri, "unused")
        writes = [asyncio.create_task(store.inbox_put("telegram", "42", {})) for _ in range(3)]
        await asyncio.sleep(0.2)
        waiting = not any(task.done() for task in writes)
        await store.ensure_indexes()
        results = await asyncio.gather(*writes)
        backlog = await store.inbox_backlog()
        await store.close()
        return waiting, results, backlog

    waiting, results, backlog = asyncio.run(scenario())
    assert waiting, "nothing is written before the index exists"
    assert sum(item is not None for item in results) == 1 and backlog == 1


def test_member_upserts_wait_for_the_unique_index(mongo_uri, db):
    """Sightings of one chat's members racing at start-up must not create the chat twice."""

    async def scenario():
        store = Store(mongo_uri, "unused")
        writes = [asyncio.create_task(store.touch_member("telegram", "-1", str(n), f"m{n}", None)) for n in range(5)]
        await asyncio.sleep(0.2)
        waiting = not any(task.done() for task in writes)
        await store.ensure_indexes()
        await asyncio.gather(*writes)
        await store.close()
        return waiting

    assert asyncio.run(scenario()), "nothing is written before the index exists"
    [chat] = list(db.chats.find({"platform": "telegram", "chat_id": "-1"}))
    assert sorted(chat["members"]) == ["0", "1", "2", "3", "4"]
