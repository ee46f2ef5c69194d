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
        fresh = [event_id for event_id, item in zip(ids, results) if item is not None]
        backlog = await store.inbox_backlog()
        again = await store.inbox_put("telegram", "7", {})
        await store.close()
        return fresh, backlog, again

    fresh, backlog, again = asyncio.run(scenario())
    assert sorted(fresh, key=int) == [str(n) for n in range(100)]
    assert backlog == 100
    assert again is None
