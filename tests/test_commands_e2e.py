"""Every chat command, relocation and member hygiene, through the Telegram webhook to the fake Bot API."""

from __future__ import annotations

import time
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import pytest

from conftest import app_env, tg_message, tg_press, wait_for

CHAT = -100777


@pytest.fixture
def chat(start_app, mongo_uri, telegram_api, db):
    """A running app plus helpers to speak in one group chat."""
    app = start_app(app_env(mongo_uri, telegram_api))

    class Chat:
        def say(self, text, user_id=111, name="Ana", **kw):
            before = len(telegram_api.sent())
            assert app.telegram(tg_message(text, user_id=user_id, chat_id=CHAT, name=name, **kw)).status == 200
            return before

        def answer(self, text, user_id=111, name="Ana", **kw) -> dict:
            before = self.say(text, user_id, name, **kw)
            return telegram_api.wait_sent(before + 1)[before]

        def silent(self, text, user_id=111, name="Ana"):
            before = self.say(text, user_id, name)
            time.sleep(1.0)
            assert len(telegram_api.sent()) == before, f"expected no reply to {text!r}, got {telegram_api.sent()[before:]}"

        def press(self, data, user_id=111, name="Ana"):
            before = len(telegram_api.sent())
            acks = len(telegram_api.sent("answerCallbackQuery"))
            assert app.telegram(tg_press(data, user_id=user_id, chat_id=CHAT, name=name)).status == 200
            telegram_api.wait_sent(acks + 1, "answerCallbackQuery")
            return before

        def raw(self, update):
            return app.telegram(update)

        def zone_of(self, user_id=111):
            doc = db.users.find_one({"platform": "telegram", "user_id": str(user_id)})
            return doc and doc.get("tz")

    return Chat()


def test_tz_without_zone_offers_the_link_privately(chat, telegram_api):
    reply = chat.answer("/tz")
    assert reply["receiver_user_id"] == 111, "only Ana sees her link"
    assert reply["reply_markup"]["inline_keyboard"][0][0]["url"].startswith("http://verify.example.test/verify?token=")
    telegram_api.refuse_private = True
    public = chat.answer("/tz")
    assert "receiver_user_id" not in public
    assert public["reply_markup"]["inline_keyboard"][0][0]["url"].startswith(f"https://t.me/team_ops_bot?start=tz{CHAT}_")


@pytest.mark.parametrize("typed, stored", [
    ("Berlin", "Europe/Berlin"),
    ("America/New_York", "America/New_York"),
    ("UTC+3", "UTC+03:00"),
    ("sao paulo", "America/Sao_Paulo"),
])
def test_tz_sets_the_zone(chat, typed, stored):
    reply = chat.answer(f"/tz {typed}")
    assert stored in reply["text"]
    assert chat.zone_of() == stored
    assert stored in chat.answer("/tz")["text"], "/tz shows the zone now"


def test_tz_ambiguous_city_offers_choices(chat, telegram_api):
    reply = chat.answer("/tz Springfield")
    rows = reply["reply_markup"]["inline_keyboard"]
    assert 2 <= len(rows) <= 5
    data = rows[0][0]["callback_data"]
    assert data.startswith("tz:111:") and len(data.encode()) <= 64
    chosen = data.split(":", 2)[2]
    before = chat.press(data)
    confirmation = telegram_api.wait_sent(before + 1)[before]
    assert chosen in confirmation["text"]
    assert chat.zone_of() == chosen
    # Someone else's press does not change Ana's zone nor set theirs.
    chat.press(rows[-1][0]["callback_data"], user_id=222, name="Bo")
    assert chat.zone_of(222) is None and chat.zone_of() == chosen


def test_unknown_zone_says_so(chat):
    reply = chat.answer("/tz Qwertyuiopville")
    assert "don't know" in reply["text"]


def test_commands_for_another_bot_are_ignored(chat):
    chat.silent("/tz@some_other_bot Berlin")
    assert "Europe/Berlin" in chat.answer("/tz@team_ops_bot Berlin")["text"]


def test_time_shows_now_and_converts_on_demand(chat):
    chat.answer("/tz Europe/Berlin")
    chat.answer("/zones add Asia/Tokyo")
    now = chat.answer("/time")["text"]
    tokyo_now = datetime.now(timezone.utc).astimezone(ZoneInfo("Asia/Tokyo"))
    assert "Tokyo" in now and "Berlin" in now
    assert any(f"{(tokyo_now.hour + d) % 24:02d}:" in now for d in (0, 1)), now
    converted = chat.answer("/time 15:30")["text"]
    day = datetime.now(timezone.utc).astimezone(ZoneInfo("Europe/Berlin")).date()
    expected = datetime(day.year, day.month, day.day, 15, 30, tzinfo=ZoneInfo("Europe/Berlin")).astimezone(ZoneInfo("Asia/Tokyo"))
    assert f"{expected:%H:%M}" in converted and "Tokyo" in converted


def test_mute_and_unmute(chat):
    chat.answer("/tz Europe/Berlin")
    chat.answer("/zones add Asia/Tokyo")
    assert "Muted" in chat.answer("/mute")["text"]
    chat.silent("sync at 15:30")
    assert "Tokyo" in chat.answer("/time 15:30")["text"], "/time works while muted"
    chat.answer("/unmute")
    assert "Tokyo" in chat.answer("sync at 15:30")["text"]


def test_zones_lists_who_is_where_and_manages_extras(chat, db):
    chat.answer("/tz Europe/Berlin")
    chat.answer("/tz Asia/Tokyo", user_id=222, name="Bo")
    chat.say("hello", user_id=333, name="Cy")
    listing = chat.answer("/zones")["text"]
    assert "Europe/Berlin" in listing and "Ana" in listing
    assert "Asia/Tokyo" in listing and "Bo" in listing
    assert listing.index("Europe/Berlin") < listing.index("Asia/Tokyo"), "ordered by offset"
    assert "Added" in chat.answer("/zones add America/Chicago")["text"]
    assert "America/Chicago" in chat.answer("/zones")["text"]
    assert "Removed" in chat.answer("/zones remove America/Chicago")["text"]
    assert "America/Chicago" not in chat.answer("/zones")["text"]


def test_format_12h(chat):
    chat.answer("/tz Europe/Berlin")
    chat.answer("/zones add America/New_York")
    assert "3:30 PM" in chat.answer("/format 12h")["text"]
    reply = chat.answer("sync at 15:30")["text"]
    assert " AM" in reply or " PM" in reply
    assert "Use /format" in chat.answer("/format 13h")["text"]


def test_forget_deletes_the_user(chat, db):
    chat.answer("/tz Europe/Berlin")
    assert db.chats.find_one({"chat_id": str(CHAT)})["members"]["111"]["tz"] == "Europe/Berlin"
    assert "deleted" in chat.answer("/forget")["text"]
    assert db.users.find_one({"user_id": "111"}) is None
    assert "111" not in db.chats.find_one({"chat_id": str(CHAT)}).get("members", {})


def test_help_lists_the_commands(chat):
    text = chat.answer("/help")["text"]
    for command in ("/tz", "/time", "/zones", "/mute", "/unmute", "/format", "/forget"):
        assert command in text


def test_private_start_greets_with_link(start_app, mongo_uri, telegram_api):
    app = start_app(app_env(mongo_uri, telegram_api))
    app.telegram(tg_message("/start", user_id=444, chat_id=444, name="Di", chat_type="private"))
    [reply] = telegram_api.wait_sent(1)
    assert reply["chat_id"] == 444 and "Hi Di" in reply["text"]
    assert "verify?token=" in reply["reply_markup"]["inline_keyboard"][0][0]["url"]


def test_relocation_asks_once_and_switches_on_yes(chat, telegram_api):
    chat.answer("/tz Europe/Berlin")
    question = chat.answer("I moved to Lisbon last week")
    assert "Europe/Lisbon" in question["text"]
    assert chat.zone_of() == "Europe/Berlin", "nothing changes before the yes"
    buttons = question["reply_markup"]["inline_keyboard"][0]
    chat.silent("I moved to Lisbon, by the way")  # asked once
    before = chat.press(buttons[0]["callback_data"])
    telegram_api.wait_sent(before + 1)
    assert chat.zone_of() == "Europe/Lisbon"


@pytest.mark.parametrize("text", ["let's move to the next item", "going to lunch", "I'm in a meeting", "I'm in Sprint Planning now"])
def test_not_relocations(chat, text):
    chat.answer("/tz Europe/Berlin")
    chat.silent(text)


def test_relocation_in_russian(chat):
    chat.answer("/tz Europe/Moscow")
    assert "Europe/Berlin" in chat.answer("переехал в Берлин")["text"]


@pytest.mark.parametrize("how", ["service_message", "chat_member_update"])
def test_member_who_leaves_is_dropped_from_the_zone_list(chat, db, how):
    chat.answer("/tz Asia/Tokyo", user_id=222, name="Bo")
    chat.answer("/tz Europe/Berlin")
    assert "Tokyo" in chat.answer("sync at 15:30")["text"]
    if how == "service_message":
        update = tg_message("", user_id=111, chat_id=CHAT)
        del update["message"]["text"]
        update["message"]["left_chat_member"] = {"id": 222, "is_bot": False, "first_name": "Bo"}
    else:
        update = {"update_id": int(time.time() * 1000) % 10**9, "chat_member": {
            "chat": {"id": CHAT, "type": "supergroup"}, "from": {"id": 222, "is_bot": False, "first_name": "Bo"},
            "date": int(time.time()),
            "old_chat_member": {"status": "member", "user": {"id": 222, "is_bot": False, "first_name": "Bo"}},
            "new_chat_member": {"status": "left", "user": {"id": 222, "is_bot": False, "first_name": "Bo"}}}}
    assert chat.raw(update).status == 200
    wait_for(lambda: "222" not in db.chats.find_one({"chat_id": str(CHAT)})["members"], what="Bo to be removed")
    chat.silent("sync at 15:30")  # Berlin is the only zone left: nothing to convert to


def test_member_who_only_chats_still_counts(chat, db):
    """Bo set his zone elsewhere; saying anything here puts Tokyo in this chat's conversions."""
    db.users.insert_one({"platform": "telegram", "user_id": "222", "tz": "Asia/Tokyo", "name": "Bo"})
    chat.answer("/tz Europe/Berlin")
    chat.say("morning all", user_id=222, name="Bo")
    wait_for(lambda: (db.chats.find_one({"chat_id": str(CHAT)})["members"].get("222") or {}).get("tz"), what="Bo noted")
    assert "Tokyo" in chat.answer("sync at 15:30")["text"]
