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


def test_a_person_known_by_two_ids_is_one_user_found_by_either(mongo_uri):
    """Phone first (zone, a group membership, a waiting message), then the business-scoped id,
    whose record another event of theirs had already started (their one-to-one stamp)."""

    async def scenario():
        store = Store(mongo_uri, "unused")
        await store.ensure_indexes()
        await store.set_user_zone("whatsapp", "14155550000", "Asia/Tokyo", "command", "Kenji")
        await store.touch_member("whatsapp", "group:G", "14155550000", "Kenji", "Asia/Tokyo")
        await store.set_pending("whatsapp", "group:G", "14155550000", {"text": "at 10"})
        await store.note_direct("whatsapp", "US-999", 1_780_000_000)
        await store.link_user("whatsapp", "US-999", ["14155550000"])
        await store.link_user("whatsapp", "US-999", ["14155550000"])  # again: nothing new, nothing changes
        by_bsuid = await store.user("whatsapp", "US-999")
        by_phone = await store.user("whatsapp", "14155550000")
        many = await store.users_many("whatsapp", ["14155550000", "US-999"])
        chat = await store.chat("whatsapp", "group:G")
        waiting = await store.take_pending("whatsapp", "group:G", "US-999", "k")
        count = await store.db.users.count_documents({"platform": "whatsapp"})
        await store.forget_user("whatsapp", "14155550000")
        gone = await store.user("whatsapp", "US-999")
        await store.close()
        return by_bsuid, by_phone, many, chat, waiting, count, gone

    by_bsuid, by_phone, many, chat, waiting, count, gone = asyncio.run(scenario())
    assert count == 1, "one record, not two"
    assert by_bsuid["tz"] == "Asia/Tokyo" and by_bsuid["source"] == "command" and by_bsuid["direct_at"]
    assert by_bsuid["aliases"] == ["14155550000"] and by_phone["_id"] == by_bsuid["_id"]
    assert many["14155550000"]["_id"] == many["US-999"]["_id"]
    assert list(chat["members"]) == ["US-999"] and chat["members"]["US-999"]["tz"] == "Asia/Tokyo"
    assert waiting == {"text": "at 10"}
    assert gone is None, "/forget under either id forgets the person"


def test_items_ended_together_each_learn_whether_their_lease_was_still_held(mongo_uri):
    """Ends arriving together go out as one write; the one whose lease another worker took over
    meanwhile must hear so (its worker stops), and the others must hear they are done."""

    async def scenario():
        store = Store(mongo_uri, "unused")
        await store.ensure_indexes()
        items = [await store.inbox_put("telegram", str(n), {"chat_id": str(n)}) for n in range(20)]
        taken = [await store.inbox_take(item, 60) for item in items]
        lost = taken[7]
        await store.inbox_retry(lost, 0.0, "lease ran out")  # as if it ran out and another took it
        [again] = await store.inbox_due(50)
        assert await store.inbox_take(again, 60) is not None
        answers = await asyncio.gather(*(store.inbox_done(item, "replies=1") for item in taken))
        states = {doc["event_id"]: doc["state"] for doc in await store.db.inbox.find({}).to_list()}
        await store.close()
        return answers, states

    answers, states = asyncio.run(scenario())
    assert answers == [n != 7 for n in range(20)]
    assert states == {str(n): "working" if n == 7 else "done" for n in range(20)}


def test_an_item_stored_taken_that_would_overtake_its_lane_is_given_back_in_order(mongo_uri, monkeypatch):
    """A webhook stores an item already taken for its worker when the worker will hold it at once.
    If meanwhile an earlier item of the same chat had to wait in the inbox, holding this one would
    answer it first: it is given back instead, and the chat's items are read back in order."""
    from teamops import worker as worker_module
    from teamops.worker import Worker

    monkeypatch.setattr(worker_module, "LANE_LIMIT", 1)

    async def scenario():
        store = Store(mongo_uri, "unused")
        await store.ensure_indexes()
        worker = Worker(store, None, {"telegram": object()}, lease_seconds=60, max_attempts=5)  # not started
        event = {"chat_id": "-1"}
        late_token = worker.lease_for("telegram", event)  # its write is slow to come back
        first = await worker.put("telegram", "1", event)  # held: the lane is full now
        second = await worker.put("telegram", "2", event)  # waits in the inbox
        third = await store.inbox_put("telegram", "3", event, lease=late_token, lease_seconds=60)
        worker.offer(third)
        for _ in range(50):
            if (await store.db.inbox.find_one({"event_id": "3"}))["state"] == "pending":
                break
            await asyncio.sleep(0.05)
        stored = {doc["event_id"]: doc for doc in await store.db.inbox.find({}).to_list()}
        in_order = [doc["event_id"] for doc in await store.inbox_lane_due("telegram", third["lane"], 10)]
        await store.close()
        return first, second, stored, in_order

    first, second, stored, in_order = asyncio.run(scenario())
    assert first["state"] == "working" and second["state"] == "pending"
    assert stored["3"]["state"] == "pending" and "lease" not in stored["3"] and stored["3"]["attempts"] == 0
    assert in_order == ["2", "3"], "the chat's waiting items are read back oldest first"


def test_items_given_back_together_go_back_in_one_write_and_only_if_still_ours(mongo_uri):
    """Give-backs come in bursts exactly when the database is slow (writes that landed after their
    503, items meeting a lane that spilled): one by one they cost a statement each. Forty at once
    go out as a few writes; each goes back to pending unless someone took it since."""

    async def scenario():
        store = Store(mongo_uri, "unused")
        await store.ensure_indexes()
        items = [await store.inbox_put("telegram", str(n), {"chat_id": str(n)}, lease=f"tok{n}", lease_seconds=60)
                 for n in range(40)]
        await store.inbox_retry(items[5], 0.0, "lease ran out")  # someone else's now:
        [again] = await store.inbox_due(50)
        assert await store.inbox_take(again, 60) is not None
        requests = lambda: store.db.client.admin.command("serverStatus")  # noqa: E731
        before = (await requests())["network"]["numRequests"]
        await asyncio.gather(*(store.inbox_release([item]) for item in items))
        used = (await requests())["network"]["numRequests"] - before - 1
        docs = {doc["event_id"]: doc for doc in await store.db.inbox.find({}).to_list()}
        await store.close()
        return used, docs

    used, docs = asyncio.run(scenario())
    assert used <= 3, f"{used} round trips for 40 give-backs"
    assert all(docs[str(n)]["state"] == "pending" and "lease" not in docs[str(n)] and docs[str(n)]["attempts"] == 0
               for n in range(40) if n != 5)
    assert docs["5"]["state"] == "working", "taken by someone else since: left to them"
