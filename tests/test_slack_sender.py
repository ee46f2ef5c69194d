"""teamops/senders/slack.py against the fake Slack on loopback: what each answer of Slack's means
for a reply (sent with its id, refused, dropped, retried) and for the directory's lookups."""

from __future__ import annotations

import asyncio
import time

import pytest

from fakes.slack import BOT_TOKEN, FakeSlack
from teamops.events import Reply, Span
from teamops.senders.slack import SlackSender

CHANNEL = "C0SENDER01"


@pytest.fixture
def fake():
    fake = FakeSlack()
    fake.add_user("U1", "Ana", "Europe/Berlin")
    fake.add_user("U2", "Bo", None)
    fake.add_channel(CHANNEL, ["U1", "U2"])
    yield fake
    assert fake.problems == []
    fake.close()


def sender(fake: FakeSlack, **kw) -> SlackSender:
    return SlackSender(fake.api_base, BOT_TOKEN, timeout=5, backoff=(0.1, 0.1), **kw)


def send(fake: FakeSlack, reply: Reply):
    return asyncio.run(sender(fake).send(reply))


def reply(**fields) -> Reply:
    return Reply(platform="slack", chat_id=CHANNEL, body=(Span("at 15:30"),), **fields)


def test_a_reply_reports_the_ts_it_got_so_it_can_be_edited(fake):
    sent = send(fake, reply(reply_to="1784563200.000200"))
    [posted] = fake.sent()
    assert sent.status == "sent" and sent.message_id and sent.message_id.count(".") == 1
    edited = send(fake, reply(edit_of=sent.message_id))
    assert (edited.status, edited.message_id) == ("sent", sent.message_id)
    assert fake.sent("chat.update")[0]["ts"] == sent.message_id
    gone = send(fake, reply(edit_of=sent.message_id, delete=True))
    assert gone.status == "sent" and fake.sent("chat.delete") == [{"channel": CHANNEL, "ts": sent.message_id}]


def test_deleting_what_is_gone_already_counts_as_done(fake):
    fake.fail_next("chat.delete", 200, retry_after=None, answer={"ok": False, "error": "message_not_found"})
    assert send(fake, reply(edit_of="1784563201.000300", delete=True)).status == "sent"
    fake.fail_next("chat.update", 200, retry_after=None, answer={"ok": False, "error": "message_not_found"})
    assert send(fake, reply(edit_of="1784563201.000300")).status == "dropped"


def test_a_private_answer_slack_will_not_deliver_is_refused_never_posted(fake):
    fake.fail_next("chat.postEphemeral", 200, retry_after=None, answer={"ok": False, "error": "user_not_in_channel"})
    outcome = send(fake, reply(private_to="U9"))
    assert outcome.status == "refused" and "user_not_in_channel" in outcome.detail
    assert fake.sent() == [], "the worker sends the fallback; the sender never posts it publicly"
    assert send(fake, reply(private_to="U1")).status == "sent"
    [ephemeral] = fake.sent("chat.postEphemeral")
    assert ephemeral["user"] == "U1" and "thread_ts" not in ephemeral


def test_the_shortcut_falls_back_to_its_response_url(fake):
    fake.fail_next("chat.postEphemeral", 200, retry_after=None, answer={"ok": False, "error": "channel_not_found"})
    url = fake.response_url("shortcut")
    assert send(fake, reply(reply_handle=f"private U1 {url}")).status == "sent"
    [answer] = fake.sent("response_url")
    assert answer["response_type"] == "ephemeral" and answer["replace_original"] is False


def test_transient_errors_are_retried_and_others_dropped(fake):
    fake.fail_next("chat.postMessage", 200, retry_after=None, answer={"ok": False, "error": "internal_error"})
    fake.fail_next("chat.postMessage", 503, retry_after=None)
    assert send(fake, reply()).status == "sent"
    assert [c["status"] for c in fake.calls] == [200, 503, 200]
    fake.fail_next("chat.postMessage", 200, retry_after=None, answer={"ok": False, "error": "is_archived"})
    dropped = send(fake, reply())
    assert (dropped.status, dropped.detail) == ("dropped", "is_archived")


def test_a_long_retry_after_goes_back_to_the_inbox_and_holds_that_method(fake):
    fake.fail_next("chat.postMessage", 429, retry_after=120)
    slack = sender(fake)

    async def twice():
        return await slack.send(reply()), await slack.send(reply())

    first, second = asyncio.run(twice())
    assert (first.status, first.retry_after) == ("retry", 120.0)
    assert second.status == "retry" and second.retry_after > 100, "no call of that method before the wait is over"
    assert fake.count("chat.postMessage") == 1


def test_directory_lookups(fake):
    slack = sender(fake, max_channel_members=10)
    profiles = asyncio.run(slack.profiles(["U1", "U2", "U404"]))
    assert profiles["U1"].tz == "Europe/Berlin" and profiles["U1"].name == "Ana"
    assert profiles["U2"].tz is None and not profiles["U2"].bot, "a guest without a zone: unknown, a person"
    assert profiles["U404"].bot, "nobody there: never counted"
    members, complete = asyncio.run(slack.chat_members(CHANNEL))
    assert complete and set(members) == {"U1", "U2", fake.bot_user}
    assert asyncio.run(slack.chat_members("C0NOWHERE1")) is None, "could not say"
    small = sender(fake, max_channel_members=2)
    assert asyncio.run(small.chat_members(CHANNEL))[1] is False, "over the limit: not listed"
    assert slack.identify() == (fake.team_id, fake.bot_user)


def test_a_rate_limited_lookup_says_what_it_has_and_waits(fake):
    fake.fail_next("users.info", 429, retry_after=60)
    slack = sender(fake)
    started = time.monotonic()
    assert asyncio.run(slack.profiles(["U1", "U2"])) == {}
    assert asyncio.run(slack.profiles(["U1"])) == {}
    assert time.monotonic() - started < 2 and fake.count("users.info") == 1
    fake.fail_next("users.info", 429, retry_after=1)
    quick = sender(fake)
    assert asyncio.run(quick.profiles(["U1"]))["U1"].tz == "Europe/Berlin", "a short wait is waited out"
