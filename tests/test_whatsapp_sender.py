"""teamops/senders/whatsapp.py against the fake Graph API on loopback: what each Cloud API answer
means for a reply (sent, retried inline or through the inbox, dropped, refused for the fallback),
and that every send goes to the right path and version with the bearer token."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta, timezone

import pytest

from fakes.whatsapp import ACCESS_TOKEN, PHONE_NUMBER_ID, FakeWhatsApp
from teamops.events import Button, Reply, Span
from teamops.senders.whatsapp import WhatsAppSender

PHONE = "16505551234"
GROUP = "group:Y2FwaV9ncm91cDox"


@pytest.fixture
def fake():
    fake = FakeWhatsApp()
    yield fake
    assert fake.problems == []
    fake.close()


class Business:
    number = "15550783881"


def sender(fake: FakeWhatsApp, users: dict | None = None, **kw) -> WhatsAppSender:
    async def contact(user_id: str):
        return (users or {}).get(user_id)

    kw.setdefault("backoff", (0.05, 0.05))
    kw.setdefault("rate_backoff", (0.1, 0.2))
    return WhatsAppSender(fake.base, "v26.0", PHONE_NUMBER_ID, ACCESS_TOKEN, 5, Business(), contact, **kw)


def send(fake: FakeWhatsApp, reply: Reply, users: dict | None = None, **kw):
    return asyncio.run(sender(fake, users, **kw).send(reply))


def reply(**fields) -> Reply:
    fields.setdefault("chat_id", PHONE)
    return Reply(platform="whatsapp", body=(Span("at 15:30"),), reply_to="wamid.IN1", **fields)


def test_a_reply_goes_to_the_versioned_path_with_the_bearer_token(fake):
    outcome = send(fake, reply())
    assert outcome.status == "sent" and outcome.message_id.startswith("wamid.OUT"), "its id, for a ❌ to find it"
    [call] = fake.calls
    assert call["method"] == "POST" and call["path"] == f"/v26.0/{PHONE_NUMBER_ID}/messages"
    assert call["body"]["to"] == PHONE and call["body"]["context"] == {"message_id": "wamid.IN1"}


def test_a_wrong_token_is_refused_by_the_api_and_dropped(fake):
    outcome = asyncio.run(WhatsAppSender(fake.base, "v26.0", PHONE_NUMBER_ID, "EAAwrong", 5).send(reply()))
    assert outcome.status == "dropped"
    assert fake.problems == ["missing or wrong bearer token"]
    fake.problems.clear()


@pytest.mark.parametrize("code", [130429, 131056, 131057])
def test_throughput_and_pair_rate_errors_are_waited_out(fake, code):
    fake.fail_next(code)
    outcome = send(fake, reply())
    assert outcome.status == "sent"
    assert [c["status"] for c in fake.calls] == [400, 200]
    assert fake.calls[1]["at"] - fake.calls[0]["at"] >= 0.09, "after the rate wait"


def test_a_long_rate_wait_goes_back_to_the_inbox(fake):
    fake.fail_next(131056, times=2)
    outcome = send(fake, reply(), rate_backoff=(0.1, 64.0))
    assert outcome.status == "retry" and outcome.retry_after == 64.0
    assert len(fake.calls) == 2, "one inline wait, then the worker's retry"


def test_server_errors_are_retried_with_backoff(fake):
    fake.fail_next(131000, times=2)
    assert send(fake, reply()).status == "sent"
    assert [c["status"] for c in fake.calls] == [500, 500, 200]
    fake.fail_next(131000, times=5)
    fake.calls.clear()
    outcome = send(fake, reply())
    assert outcome.status == "retry" and len(fake.calls) == 3


@pytest.mark.parametrize("code", [131047, 131062, 131026, 100, 190])
def test_final_errors_are_dropped_without_a_retry(fake, code, caplog):
    fake.fail_next(code)
    with caplog.at_level(logging.DEBUG):
        outcome = send(fake, reply())
    assert outcome.status == "dropped" and outcome.detail.startswith(str(code))
    assert len(fake.calls) == 1
    assert ACCESS_TOKEN not in caplog.text


def test_a_private_answer_from_a_group_goes_one_to_one_only_inside_the_window(fake):
    private = Reply(platform="whatsapp", chat_id=GROUP, body=(Span("your link"),), reply_to="wamid.G1",
                    private_to="US-1349", reply_handle=PHONE,
                    buttons=((Button(text="Set my time zone", url="https://x.test/verify?token=t", private_start="c"),),))
    # Never wrote to us one-to-one, or longer than 24 hours ago: refused, so the group gets the fallback.
    assert send(fake, private).status == "refused"
    stale = {"US-1349": {"direct_at": datetime.now(timezone.utc) - timedelta(hours=25)}}
    assert send(fake, private, stale).status == "refused"
    assert fake.calls == [], "nothing sent anywhere"

    fresh = {"US-1349": {"direct_at": datetime.now(timezone.utc) - timedelta(hours=2)}}
    assert send(fake, private, fresh).status == "sent"
    [call] = fake.calls
    assert call["body"]["to"] == PHONE and call["body"]["recipient_type"] == "individual"
    assert call["body"]["interactive"]["type"] == "cta_url" and "context" not in call["body"]

    # Meta says the window is closed after all: refused too, never posted in the group.
    fake.fail_next(131047)
    assert send(fake, private, fresh).status == "refused"
    assert all(c["body"]["recipient_type"] == "individual" for c in fake.calls)


def test_a_private_answer_without_a_known_phone_goes_to_the_bsuid(fake):
    private = Reply(platform="whatsapp", chat_id=GROUP, body=(Span("hi"),), private_to="US-1349")
    users = {"US-1349": {"direct_at": datetime.now(timezone.utc), "aliases": []}}
    assert send(fake, private, users).status == "sent"
    assert fake.calls[0]["body"]["recipient"] == "US.1349"
    with_phone = {"US-1349": {"direct_at": datetime.now(timezone.utc), "aliases": [PHONE]}}
    assert send(fake, private, with_phone).status == "sent"
    assert fake.calls[1]["body"]["to"] == PHONE, "the phone the store keeps as their alias"


def test_edits_cannot_be_made_and_a_bare_tap_needs_nothing(fake):
    assert send(fake, Reply(platform="whatsapp", chat_id=PHONE, body=(Span("x"),), edit_of="wamid.OUT1")).status == "dropped"
    # A deletion ("not a time") cannot be made either: done as far as it can be, never retried.
    assert send(fake, Reply(platform="whatsapp", chat_id=PHONE, edit_of="wamid.OUT1", delete=True)).status == "sent"
    assert send(fake, Reply(platform="whatsapp", chat_id=PHONE, ack_press="wamid.TAP1")).status == "sent"
    assert fake.calls == []
    said = Reply(platform="whatsapp", chat_id=PHONE, ack_press="wamid.TAP1", body=(Span("This button is for someone else."),))
    assert send(fake, said).status == "sent" and len(fake.calls) == 1


def test_a_bsuid_that_cannot_take_buttons_gets_them_as_text_in_its_own_chat(fake):
    link = Reply(platform="whatsapp", chat_id="US-1349", body=(Span("Tap to set your zone."),), reply_to="wamid.IN1",
                 buttons=((Button(text="Set my time zone", url="https://x.test/verify?token=t", private_start="c"),),))
    fake.fail_next(131062)
    assert send(fake, link).status == "sent"
    first, second = fake.calls
    assert first["body"]["type"] == "interactive" and first["status"] == 400
    assert second["body"]["recipient"] == "US.1349" and second["body"]["type"] == "text"
    assert second["body"]["text"]["body"] == "Tap to set your zone.\n\nSet my time zone: https://x.test/verify?token=t"
    assert second["body"]["context"] == {"message_id": "wamid.IN1"}

    # Long enough that the text went first: only the buttons message's part is sent again.
    fake.calls.clear()
    long = Reply(platform="whatsapp", chat_id="US-1349", body=(Span("x" * 1100 + "\n\nTap."),),
                 buttons=((Button(text="Yes", data="move:US-1349:Europe/Lisbon"), Button(text="No", data="move:US-1349:no")),))
    fake.fail_next(131062, kind="interactive")
    assert send(fake, long).status == "sent"
    assert [c["body"]["type"] for c in fake.calls] == ["text", "interactive", "text"]
    assert fake.calls[2]["body"]["text"]["body"] == "Tap.\n\n\u2022 Yes\n\u2022 No"
