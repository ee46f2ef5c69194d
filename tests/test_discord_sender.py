"""The Discord sender against the fake REST API on loopback: where each kind of reply goes."""

from __future__ import annotations

import asyncio
import time

import pytest

from fakes.discord import APPLICATION_ID, BOT_TOKEN, FakeDiscord
from teamops.events import Reply, Span
from teamops.senders.discord import DiscordSender, make_handle

DISCORD_EPOCH_MS = 1420070400000


def fresh_id() -> str:
    return str((int(time.time() * 1000) - DISCORD_EPOCH_MS) << 22)


@pytest.fixture
def api():
    fake = FakeDiscord()
    yield fake
    fake.close()


def send(api, reply: Reply):
    sender = DiscordSender(api.base, APPLICATION_ID, BOT_TOKEN, timeout=5, backoff=(0.05,))
    return asyncio.run(sender.send(reply))


def test_a_channel_message_replies_to_its_message_and_reports_its_id(api):
    outcome = send(api, Reply(platform="discord", chat_id="645027906669510667", reply_to="1263371912345678901",
                              body=(Span("sync at "), Span("15:30", bold=True))))
    [call] = api.calls
    assert call["method"] == "POST" and call["path"] == "/api/v10/channels/645027906669510667/messages"
    assert call["authorization"] == f"Bot {BOT_TOKEN}"
    assert call["body"] == {"content": "sync at **15:30**", "components": [], "allowed_mentions": {"parse": []},
                            "message_reference": {"message_id": "1263371912345678901", "fail_if_not_exists": False}}
    assert outcome.status == "sent" and outcome.message_id.isdigit()


def test_a_private_reply_is_never_posted_in_a_channel(api):
    outcome = send(api, Reply(platform="discord", chat_id="645", private_to="5390", body=(Span("your link"),)))
    assert outcome.status == "refused" and api.calls == [], "the worker sends its fallback instead"


def test_a_private_answer_never_fills_a_public_placeholder(api):
    handle = make_handle(fresh_id(), "TOK", private=False)
    outcome = send(api, Reply(platform="discord", chat_id="645", private_to="5390", reply_handle=handle,
                              body=(Span("your link"),)))
    assert outcome.status == "sent"
    assert [(c["method"], c["path"]) for c in api.calls] == [
        ("POST", f"/api/v10/webhooks/{APPLICATION_ID}/TOK"),
        ("DELETE", f"/api/v10/webhooks/{APPLICATION_ID}/TOK/messages/@original"),
    ]
    assert api.calls[0]["body"]["flags"] == 64


def test_a_second_answer_to_one_interaction_is_a_follow_up(api):
    sender = DiscordSender(api.base, APPLICATION_ID, BOT_TOKEN, timeout=5, backoff=(0.05,))
    handle = make_handle(fresh_id(), "TOK", private=False)

    async def both():
        for text in ("first", "second"):
            await sender.send(Reply(platform="discord", chat_id="645", reply_handle=handle, body=(Span(text),)))

    asyncio.run(both())
    assert [(c["method"], c["path"].rsplit("/", 2)[-2:], c["body"]["content"]) for c in api.calls] == [
        ("PATCH", ["messages", "@original"], "first"),
        ("POST", [APPLICATION_ID, "TOK"], "second"),
    ], "the second one must not overwrite the first"


def test_a_global_rate_limit_holds_every_call(api):
    api.rate_limit_next(0.4, is_global=True)
    outcome = send(api, Reply(platform="discord", chat_id="645", body=(Span("x"),)))
    assert outcome.status == "sent"
    assert [c["status"] for c in api.calls] == [429, 200]
    assert api.calls[1]["at"] - api.calls[0]["at"] >= 0.35


def test_a_server_error_is_retried_then_left_to_the_inbox(api):
    api.answer_next(502, times=5)
    outcome = send(api, Reply(platform="discord", chat_id="645", body=(Span("x"),)))
    assert outcome.status == "retry" and len(api.calls) == 2, "one backoff step, then the inbox retries later"


@pytest.mark.parametrize(("reply", "method", "answer", "status", "why"), [
    (Reply(platform="discord", chat_id="645", edit_of="777", follows="1", body=(Span("now 16:45"),)),
     "PATCH", None, "sent", "an edit of the message converted: our reply follows"),
    (Reply(platform="discord", chat_id="645", edit_of="777", follows="1", delete=True),
     "DELETE", None, "sent", "no time left in it: our reply goes"),
    (Reply(platform="discord", chat_id="645", edit_of="777", follows="1", delete=True),
     "DELETE", (404, {"message": "Unknown Message", "code": 10008}), "sent", "deleted already (by a moderator)"),
    (Reply(platform="discord", chat_id="645", edit_of="777", follows="1", body=(Span("x"),)),
     "PATCH", (404, {"message": "Unknown Message", "code": 10008}), "dropped", "our reply is gone: nothing to edit"),
], ids=lambda value: value if isinstance(value, str) and len(value) > 12 else None)
def test_our_channel_reply_is_edited_or_deleted_in_place(api, reply, method, answer, status, why):
    if answer is not None:
        api.answer_next(*answer)
    outcome = send(api, reply)
    [call] = api.calls
    assert (call["method"], call["path"]) == (method, "/api/v10/channels/645/messages/777"), why
    assert outcome.status == status, why
    if method == "PATCH" and answer is None:
        assert call["body"] == {"content": "now 16:45", "components": [], "allowed_mentions": {"parse": []}}
