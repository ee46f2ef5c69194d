"""What the Gateway handler reads from each dispatch: a table of payloads (shaped as Discord sends
them) and the platform-neutral event, inbox key and quick look each must give."""

from __future__ import annotations

import msgspec
import pytest

from fakes.discord_gateway import message
from handlers.discord_gateway import read, worth_a_look
from teamops.events import ChatGone, ChatMessage, MemberLeft

GUILD, CHANNEL, MASON = "290926798626357999", "645027906669510667", "53908232506183680"
ID = "1263371912345678901"  # a snowflake: made at 2024-07-18 05:48:56.218 UTC


def created(text: str = "standup at 15:30", **extra) -> dict:
    return message(text, CHANNEL, MASON, "Mason", guild=GUILD, message_id=ID, **extra)


def edited(text: str, stamp: str | None = "2026-07-20T12:05:00.000000+00:00") -> dict:
    return {**created(text), "edited_timestamp": stamp}


NOTHING = [
    ("MESSAGE_CREATE", {**created(), "author": {"id": "9", "username": "other-bot", "bot": True}}, "a bot's message"),
    ("MESSAGE_CREATE", {**created(), "author": {"id": "9", "username": "Clyde", "system": True}}, "a system user"),
    ("MESSAGE_CREATE", created(webhook_id="777"), "a webhook's post"),
    ("MESSAGE_CREATE", created(type=7), "a join notice"),
    ("MESSAGE_CREATE", created(""), "no content: the Message Content intent is off, or an image alone"),
    ("MESSAGE_CREATE", created("/time 15:30"), "command-like text (commands are interactions)"),
    ("MESSAGE_CREATE", {k: v for k, v in created().items() if k != "author"}, "no author"),
    ("MESSAGE_UPDATE", edited("standup at 16:00", stamp=None), "an embed unfurled: no edit stamp"),
    ("MESSAGE_UPDATE", {"id": ID, "channel_id": CHANNEL, "embeds": []}, "an update without content"),
    ("GUILD_DELETE", {"id": GUILD, "unavailable": True}, "a server outage, not the bot leaving"),
    ("TYPING_START", {"channel_id": CHANNEL}, "an event we do not read"),
]


@pytest.mark.parametrize(("name", "payload", "why"), NOTHING, ids=[case[2][:40] for case in NOTHING])
def test_what_gives_no_event(name, payload, why):
    assert read(name, payload) is None, why


def test_a_channel_message_is_the_neutral_message_keyed_by_its_id():
    event_id, event = read("MESSAGE_CREATE", {**created(), "member": {"nick": "Mase", "roles": []}})
    assert event_id == ID
    assert event == ChatMessage(platform="discord", chat_id=CHANNEL, user_id=MASON, user_name="Mase",
                                text="standup at 15:30", sent_at=1721281736.218, message_id=ID, space_id=GUILD)


def test_a_reply_to_another_message_reads_only_its_own_text():
    payload = created("ok, 10am works", type=19, referenced_message={**created("lunch at 12:00"), "id": "1"},
                      message_reference={"message_id": "1", "channel_id": CHANNEL})
    _, event = read("MESSAGE_CREATE", payload)
    assert event.text == "ok, 10am works" and event.replied_to is None


def test_a_dm_is_private_and_belongs_to_no_server():
    _, event = read("MESSAGE_CREATE", message("call at 9?", "1300000000000000001", MASON, message_id=ID))
    assert event.private and event.space_id == "" and event.user_name == "Mason"


def test_an_edit_is_the_same_message_with_its_stamp_and_a_key_per_edit():
    first_id, first = read("MESSAGE_UPDATE", edited("standup at 16:00"))
    second_id, _ = read("MESSAGE_UPDATE", edited("standup at 16:30", "2026-07-20T12:06:00.000000+00:00"))
    again_id, _ = read("MESSAGE_UPDATE", edited("standup at 16:00"))
    assert first.message_id == ID and first.edited_at == 1784549100.0 and first.text == "standup at 16:00"
    assert first_id != second_id and first_id == again_id, "a redelivered edit is the same item, a new edit is not"
    assert first.sent_at == 1721281736.218, "read as of when it was first written"


def test_leaving_a_server_and_the_bot_leaving_one():
    _, left = read("GUILD_MEMBER_REMOVE", {"guild_id": GUILD, "user": {"id": MASON, "username": "mason"}})
    _, gone = read("GUILD_DELETE", {"id": GUILD})
    assert left == MemberLeft(platform="discord", chat_id="", user_id=MASON, space_id=GUILD)
    assert gone == ChatGone(platform="discord", chat_id="", space_id=GUILD)


@pytest.mark.parametrize("payload", [
    {"id": ID},  # no channel
    {"id": 5, "channel_id": CHANNEL, "content": "x", "author": {"id": MASON}},  # a number where Discord sends text
    {**created(), "author": "mason"},
])
def test_a_payload_of_the_wrong_shape_is_an_error_to_log_not_a_crash(payload):
    with pytest.raises(msgspec.ValidationError):
        read("MESSAGE_CREATE", payload)


@pytest.mark.parametrize(("text", "stored", "why"), [
    ("standup at 15:30", True, "a time"),
    ("I moved to Lisbon", True, "a move the assistant may ask about"),
    ("thanks, see you", False, "neither: only the writer is noted as a member"),
    ("v2.3.1 shipped", False, "a version is not a time"),
])
def test_the_quick_look(text, stored, why):
    _, event = read("MESSAGE_CREATE", created(text))
    assert worth_a_look(event) is stored, why
    _, edit = read("MESSAGE_UPDATE", edited(text))
    assert worth_a_look(edit), "every edit is looked at: the text before it may have had a time we answered"


REACTION = {"user_id": MASON, "channel_id": CHANNEL, "message_id": ID, "guild_id": GUILD,
            "emoji": {"id": None, "name": "\u274c"}, "member": {"user": {"id": MASON, "username": "mason"}}}


def test_a_cross_or_a_not_a_time_answer_becomes_not_a_time_about_the_message_it_is_on():
    from teamops.events import NotATime

    assert read("MESSAGE_REACTION_ADD", REACTION) == (
        f"react:{ID}:{MASON}", NotATime(platform="discord", chat_id=CHANNEL, user_id=MASON, reply_id=ID))
    answer = {**created("Not a time."), "id": "1263371912345678999", "type": 19,
              "referenced_message": {"id": ID, "channel_id": CHANNEL}}
    assert read("MESSAGE_CREATE", answer) == (
        "1263371912345678999:not-a-time", NotATime(platform="discord", chat_id=CHANNEL, user_id=MASON, reply_id=ID))
    # Other emoji, a bot's cross, and "not a time" that answers nothing are none of this.
    assert read("MESSAGE_REACTION_ADD", {**REACTION, "emoji": {"name": "\U0001f44d"}}) is None
    assert read("MESSAGE_REACTION_ADD", {**REACTION, "member": {"user": {"id": "9", "bot": True}}}) is None
    assert isinstance(read("MESSAGE_CREATE", created("not a time"))[1], ChatMessage)
