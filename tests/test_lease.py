"""The lease that keeps one Gateway session per bot, against a real server: one holder at a time,
taken over once it runs out or is released, and the health `/ready` reads from its heartbeat.
Also the store's part in people leaving a server: every channel of it, and nothing elsewhere."""

from __future__ import annotations

import asyncio
import time
from datetime import datetime, timedelta, timezone

import pytest

from teamops import lease, stopping
from teamops.lease import LeaseHolder
from teamops.store import Store

NAME = "discord-gateway:1"


def test_one_holder_at_a_time_until_it_runs_out_or_is_released(mongo_uri):
    async def scenario():
        store = Store(mongo_uri, "unused")
        steps = [
            await store.lease_take(NAME, "a", 0.6),  # nobody holds it: a takes it
            not await store.lease_take(NAME, "b", 0.6),  # a holds it: b waits
            await store.lease_renew(NAME, "a", 0.6, "connected", True),
            not await store.lease_renew(NAME, "b", 0.6, "connected", True),  # b cannot renew what it lacks
            await store.lease_take(NAME, "a", 0.6),  # taking what one holds already is a renewal
        ]
        await asyncio.sleep(0.8)  # a stops renewing (its process died): the lease runs out
        steps += [
            await store.lease_take(NAME, "b", 60),  # long enough that a slow machine cannot let it run out
            not await store.lease_renew(NAME, "a", 0.6, "connected", True),  # a, back, learns it lost it
        ]
        await store.lease_release(NAME, "a")  # a release by a non-holder changes nothing
        steps.append(not await store.lease_take(NAME, "a", 60))
        await store.lease_release(NAME, "b")  # a clean stop: a may take it at once
        steps.append(await store.lease_take(NAME, "a", 60))
        doc = await store.lease(NAME)
        await store.close()
        return steps, doc

    steps, doc = asyncio.run(scenario())
    assert steps == [True] * len(steps), steps
    assert doc["holder"] == "a" and doc["state"] == "starting"


NOW = datetime(2026, 7, 20, 12, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize(("doc", "expected", "why"), [
    (None, "off", "never run"),
    ({"state": "stopped", "beat_at": NOW}, "off", "stopped cleanly: nobody runs it now, by choice"),
    ({"state": "connected", "beat_at": NOW - timedelta(seconds=10)}, "ok", "a heartbeat within one lease"),
    ({"state": "reconnecting", "beat_at": NOW - timedelta(seconds=20)}, "ok", "a short reconnect is not an outage"),
    ({"state": "connected", "beat_at": NOW - timedelta(seconds=31)}, "stale", "its process died"),
    ({"state": "refused"}, "stale", "running but never connected (token or intents refused)"),
])
def test_health_from_the_heartbeat(doc, expected, why):
    assert lease.health(doc, 30, NOW) == expected, why


def test_two_holders_never_run_the_work_at_once(mongo_uri):
    """Two copies start together; the work (a Gateway session) runs in one; when that copy stops,
    the other takes over and runs it, and at no moment do both run it."""

    async def scenario():
        store = Store(mongo_uri, "unused")
        running: list[str] = []
        overlaps = []
        history = []

        def work(who):
            async def session():
                running.append(who)
                history.append(who)
                overlaps.append(len(running) > 1)
                try:
                    await asyncio.Event().wait()
                finally:
                    running.remove(who)
            return session

        holders = {who: LeaseHolder(store, NAME, 0.6, lambda: ("connected", True), holder=who) for who in "ab"}
        tasks = {who: asyncio.create_task(holder.run(work(who))) for who, holder in holders.items()}
        await asyncio.sleep(1.0)
        first = list(running)
        tasks[first[0]].cancel()  # a clean stop releases the lease
        await asyncio.gather(tasks[first[0]], return_exceptions=True)
        await asyncio.sleep(1.0)
        second = list(running)
        for task in tasks.values():
            task.cancel()
        await asyncio.gather(*tasks.values(), return_exceptions=True)
        doc = await store.lease(NAME)
        await store.close()
        return first, second, overlaps, history, doc

    first, second, overlaps, history, doc = asyncio.run(scenario())
    assert len(first) == 1 and len(second) == 1 and first != second, (first, second)
    assert not any(overlaps) and history == first + second
    assert doc["state"] == "stopped", "the last one released it too"


async def _loses_its_first_cancellation(cancels: list) -> None:
    """A scan loop, one query after another, that loses its first cancellation as `wait_for` can
    (the loop goes on) and ends at the second."""
    while True:
        try:
            await asyncio.sleep(0.05)
        except asyncio.CancelledError:
            cancels.append(time.monotonic())
            if len(cancels) > 1:
                raise


def test_a_stop_the_work_loses_once_still_stops_it_and_lets_the_lease_go(mongo_uri):
    """On Python 3.11 `asyncio.wait_for` (inside the MongoDB driver too) can return a result and
    drop the cancellation that arrived in the same moment; the work here drops its first one that
    way. A shutdown must still end, with the work stopped and the lease released, not wait forever."""

    async def scenario():
        store = Store(mongo_uri, "unused")
        cancels = []
        started = asyncio.Event()

        async def work():
            started.set()
            await _loses_its_first_cancellation(cancels)

        holder = LeaseHolder(store, NAME, 30, lambda: ("connected", True), holder="a")
        running = asyncio.create_task(holder.run(work))
        async with asyncio.timeout(10):
            await started.wait()
        began = time.monotonic()
        running.cancel()  # the one cancellation a shutdown gives it
        try:
            async with asyncio.timeout(10):
                await asyncio.gather(running, return_exceptions=True)
        finally:
            took = time.monotonic() - began
        doc = await store.lease(NAME)
        await store.close()
        return running, cancels, took, doc

    running, cancels, took, doc = asyncio.run(scenario())
    assert running.cancelled(), "the holder ended as a stopped task does"
    assert len(cancels) == 2, "cancelled again once the first cancellation was lost"
    assert took < 5, f"the stop took {took:.1f}s"
    assert doc["state"] == "stopped", "released: another copy takes over at once"


def test_stopping_a_task_that_loses_its_cancellation_cancels_it_again():
    async def scenario():
        cancels = []

        let_go = asyncio.Event()

        async def stubborn():
            while True:
                try:
                    await asyncio.sleep(0.05)
                except asyncio.CancelledError:
                    if let_go.is_set():
                        raise
                    # otherwise it never stops: left behind once patience runs out

        tasks = [asyncio.create_task(_loses_its_first_cancellation(cancels)), asyncio.create_task(stubborn())]
        await asyncio.sleep(0.1)
        async with asyncio.timeout(10):
            await stopping.stop(tasks[0])
            began = time.monotonic()
            await stopping.stop(tasks[1], patience=1.0)
            gave_up_after = time.monotonic() - began
        left = not tasks[1].done()
        let_go.set()  # only so the test can end
        await stopping.stop(tasks[1])
        return tasks[0].cancelled(), len(cancels), left, gave_up_after

    stopped, cancels, left, gave_up_after = asyncio.run(scenario())
    assert stopped and cancels == 2
    assert left and 0.9 <= gave_up_after < 3, gave_up_after


def test_leaving_a_server_leaves_each_of_its_channels_only(mongo_uri):
    async def scenario():
        store = Store(mongo_uri, "unused")
        await store.ensure_indexes()
        for chat, space in (("c1", "g1"), ("c2", "g1"), ("c3", "g2")):
            await store.touch_member("discord", chat, "bo", "Bo", "Asia/Tokyo", space)
            await store.touch_member("discord", chat, "mason", "Mason", "Europe/Berlin", space)
        await store.touch_member("telegram", "c1", "bo", "Bo", "Asia/Tokyo")  # same ids, another platform
        await store.remove_member_from_space("discord", "g1", "bo")
        members = {chat: sorted((await store.chat("discord", chat))["members"]) for chat in ("c1", "c2", "c3")}
        telegram = sorted((await store.chat("telegram", "c1"))["members"])
        await store.forget_space("discord", "g1")
        left = [(await store.chat("discord", chat)).get("members") for chat in ("c1", "c2", "c3")]
        await store.close()
        return members, telegram, left

    members, telegram, left = asyncio.run(scenario())
    assert members == {"c1": ["mason"], "c2": ["mason"], "c3": ["bo", "mason"]}
    assert telegram == ["bo"]
    assert left[0] == {} and left[1] == {} and sorted(left[2]) == ["bo", "mason"], "the bot left g1 only"
