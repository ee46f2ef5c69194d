"""Moments, private answers, edits that follow and conversion on demand, end to end: webhook in,
inbox, worker, the fake Bot API out (which keeps what each chat shows)."""

from __future__ import annotations

import re
import time
from datetime import datetime, timedelta, timezone
from html.parser import HTMLParser
from zoneinfo import ZoneInfo

import pytest

from conftest import tg_edit, tg_message, wait_for

CHAT = -100500
TG_TIME = re.compile(r'<tg-time unix="(\d+)" format="(\w*)">([^<]*)</tg-time>')


def _known(db, user_id, tz="Europe/Berlin", extra=("Asia/Tokyo",), **chat):
    db.users.insert_one({"platform": "telegram", "user_id": str(user_id), "tz": tz})
    db.chats.update_one({"platform": "telegram", "chat_id": str(CHAT)},
                        {"$set": {"extra_zones": list(extra), "members": {}, **chat}}, upsert=True)


def _at(hhmm: str, tz: str, sent: datetime) -> datetime:
    day = sent.astimezone(ZoneInfo(tz)).date()
    hour, minute = map(int, hhmm.split(":"))
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=ZoneInfo(tz))


class _Tags(HTMLParser):
    """Checks Telegram HTML: only tags Telegram knows, each closed in order."""

    ALLOWED = frozenset(("b", "tg-time"))

    def __init__(self):
        super().__init__()
        self.open: list[str] = []

    def handle_starttag(self, tag, attrs):
        assert tag in self.ALLOWED, f"Telegram would refuse <{tag}>"
        self.open.append(tag)

    def handle_endtag(self, tag):
        assert self.open and self.open.pop() == tag, f"</{tag}> closes nothing"


def _well_formed(text: str) -> None:
    parser = _Tags()
    parser.feed(text)
    parser.close()
    assert parser.open == [], f"unclosed tags {parser.open}"


def _calls(fake, method):
    return [c for c in fake.calls if c["method"] == method]


# ---------------------------------------------------------------- moments
def test_each_converted_time_is_a_moment_on_the_readers_clock(app, telegram_api, db):
    _known(db, 9001)
    update = tg_message("standup at 10:00, retro 14:00-15:30", user_id=9001)
    app.telegram(update)
    [reply] = telegram_api.wait_sent(1)
    text = reply["text"]
    _well_formed(text)
    sent = datetime.fromtimestamp(update["message"]["date"], timezone.utc)
    moments = [(int(unix), style) for unix, style, _ in TG_TIME.findall(text)]
    expected = [_at("10:00", "Europe/Berlin", sent), _at("14:00", "Europe/Berlin", sent), _at("15:30", "Europe/Berlin", sent)]
    assert moments == [(int(e.timestamp()), style) for e, style in zip(expected, ("wt", "wt", "t"), strict=True)], text
    assert text.count("on your clock") == 2, "one reader's-clock line per converted time"
    # The zone lines stay, for a glance and for old clients.
    assert f"<b>{expected[0].astimezone(ZoneInfo('Asia/Tokyo')):%H:%M}</b>" in text


# ---------------------------------------------------------------- private answers
def test_tz_and_forget_answers_are_private(app, telegram_api, db):
    app.telegram(tg_message("/tz Europe/Berlin", user_id=9101, chat_id=CHAT))
    app.telegram(tg_message("/forget", user_id=9101, chat_id=CHAT))
    zone, forget = telegram_api.wait_sent(2)
    assert zone["receiver_user_id"] == 9101 and "Europe/Berlin" in zone["text"]
    assert forget["receiver_user_id"] == 9101 and "deleted" in forget["text"]
    assert telegram_api.shown == {}, "the group sees neither"


def test_a_choice_pressed_in_a_private_answer_is_confirmed_privately(app, telegram_api, db):
    app.telegram(tg_message("/tz Springfield", user_id=9102, chat_id=CHAT))
    [choices] = telegram_api.wait_sent(1)
    assert choices["receiver_user_id"] == 9102
    data = choices["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
    press = {"update_id": int(time.time() * 1000) % 10**9, "callback_query": {
        "id": "press-9102", "from": {"id": 9102, "is_bot": False, "first_name": "Ana"}, "chat_instance": "1", "data": data,
        "message": {"message_id": 0, "date": int(time.time()), "chat": {"id": CHAT, "type": "supergroup"}}}}
    app.telegram(press)
    confirmation = telegram_api.wait_sent(2)[1]
    assert confirmation["receiver_user_id"] == 9102 and confirmation["callback_query_id"] == "press-9102"
    assert data.split(":", 2)[2] in confirmation["text"]
    telegram_api.wait_sent(1, "answerCallbackQuery")


# ---------------------------------------------------------------- edits
def _answered(app, telegram_api, db, text="sync at 15:30", user_id=9201, **chat):
    _known(db, user_id, **chat)
    original = tg_message(text, user_id=user_id)
    app.telegram(original)
    [reply] = telegram_api.wait_sent(1)
    [ours] = [mid for (chat_id, mid), shown in telegram_api.shown.items() if shown == reply["text"]]
    return original, ours


def _tokyo(hhmm, original):
    sent = datetime.fromtimestamp(original["message"]["date"], timezone.utc)
    return f"{_at(hhmm, 'Europe/Berlin', sent).astimezone(ZoneInfo('Asia/Tokyo')):%H:%M}"


def test_an_edit_changes_our_reply(app, telegram_api, db):
    original, ours = _answered(app, telegram_api, db)
    assert app.telegram(tg_edit(original, "sync at 16:00")).status == 200
    [edit] = telegram_api.wait_sent(1, "editMessageText")
    assert edit["message_id"] == ours and edit["chat_id"] == CHAT
    shown = telegram_api.shown[(CHAT, ours)]
    assert _tokyo("16:00", original) in shown and _tokyo("15:30", original) not in shown
    moment = int(_at("16:00", "Europe/Berlin", datetime.fromtimestamp(original["message"]["date"], timezone.utc)).timestamp())
    assert f'unix="{moment}"' in shown, "the moment follows the edit too"
    time.sleep(0.5)
    assert len(telegram_api.sent()) == 1, "edited, not answered again"


def test_an_edit_that_removes_the_time_deletes_our_reply(app, telegram_api, db):
    original, ours = _answered(app, telegram_api, db)
    app.telegram(tg_edit(original, "sync later, no idea when"))
    [deleted] = telegram_api.wait_sent(1, "deleteMessage")
    assert deleted == {"chat_id": CHAT, "message_id": ours}
    assert telegram_api.shown == {}
    # Putting a time back answers it again, once.
    app.telegram(tg_edit(original, "sync at 17:00", edit_date=original["message"]["date"] + 60))
    again = telegram_api.wait_sent(2)[1]
    assert _tokyo("17:00", original) in again["text"]


def test_an_edit_that_adds_a_time_gets_one_reply(app, telegram_api, db):
    _known(db, 9301)
    original = tg_message("lunch, anyone?", user_id=9301)
    app.telegram(original)
    first = tg_edit(original, "lunch at 12:30, anyone?", edit_date=original["message"]["date"] + 10)
    for _ in range(2):  # redelivered
        app.telegram(first)
    [reply] = telegram_api.wait_sent(1)
    assert _tokyo("12:30", original) in reply["text"]
    assert reply["reply_parameters"]["message_id"] == original["message"]["message_id"]
    app.telegram(tg_edit(original, "lunch at 13:00, anyone?", edit_date=original["message"]["date"] + 20))
    telegram_api.wait_sent(1, "editMessageText", timeout=15)  # the second edit edits that reply
    time.sleep(0.5)
    assert len(telegram_api.sent()) == 1
    assert _tokyo("13:00", original) in list(telegram_api.shown.values())[0]


def test_duplicate_edits_make_one_edit(app, telegram_api, db):
    original, ours = _answered(app, telegram_api, db)
    edit = tg_edit(original, "sync at 16:00")
    for _ in range(3):  # Telegram redelivers the same update
        assert app.telegram(edit).status == 200
    telegram_api.wait_sent(1, "editMessageText")
    # Another edit that changes nothing we show (a typo fixed elsewhere): our reply stays as it is.
    app.telegram(tg_edit(original, "Sync at 16:00", edit_date=edit["edited_message"]["edit_date"] + 1))
    wait_for(lambda: db.inbox.count_documents({"state": "done"}) == 3, what="all updates handled")
    time.sleep(0.5)
    assert len(_calls(telegram_api, "editMessageText")) == 1


def test_an_edit_storm_ends_on_the_final_text_with_spaced_edits(app, telegram_api, db):
    original, ours = _answered(app, telegram_api, db)
    start = original["message"]["date"]
    for n in range(12):  # twelve edits in six seconds
        app.telegram(tg_edit(original, f"sync at {10 + n}:00", edit_date=start + 1 + n))
        time.sleep(0.5)
    final = _tokyo("21:00", original)
    wait_for(lambda: final in telegram_api.shown[(CHAT, ours)], 40, what="our reply to show the final edit")
    time.sleep(3)
    edits = _calls(telegram_api, "editMessageText")
    assert final in edits[-1]["body"]["text"], "the last edit of our reply is the final text"
    assert len(edits) <= 4, f"{len(edits)} edits of our reply for one storm"
    gaps = [b["at"] - a["at"] for a, b in zip(edits, edits[1:], strict=False)]
    assert all(gap >= 2.9 for gap in gaps), f"edits of our reply closer than a few seconds: {gaps}"
    assert len(telegram_api.sent()) == 1


def test_an_edit_before_the_original_reply_is_out_does_not_answer_twice(app, telegram_api, db):
    """The original's send fails and waits for a retry; its edit arrives meanwhile. One reply in
    the chat, showing the edited time."""
    _known(db, 9401)
    telegram_api.fail_next(502, times=4)  # every inline attempt of the first send: back to the inbox
    original = tg_message("sync at 15:30", user_id=9401)
    app.telegram(original)
    wait_for(lambda: len([c for c in telegram_api.calls if c["status"] == 502]) == 4, 15, what="the failed sends")
    app.telegram(tg_edit(original, "sync at 16:00"))
    wait_for(lambda: any(_tokyo("16:00", original) in t for t in telegram_api.shown.values()), 60,
             what="the chat to show the edited time")
    time.sleep(1)
    assert len(telegram_api.shown) == 1, f"one reply in the chat, got {list(telegram_api.shown.values())}"
    assert len(telegram_api.sent()) == 1
    assert "the reply to edit is not out yet" in app.logs(), "the edit waited for the original's reply"


def test_an_edit_of_a_message_older_than_the_reply_store_is_ignored(app, telegram_api, db):
    _known(db, 9501)
    old = tg_message("sync at 15:30", user_id=9501, date=int(time.time() - 8 * 24 * 3600))
    edit = tg_edit(old, "sync at 16:00")
    app.telegram(edit)
    wait_for(lambda: (db.inbox.find_one({"event_id": str(edit["update_id"])}) or {}).get("state") == "done",
             what="the edit to be handled")
    time.sleep(0.3)
    assert telegram_api.calls == [], "nothing to follow: a week-old message is not answered now"


def test_edits_in_a_muted_chat_leave_our_reply_alone(app, telegram_api, db):
    original, ours = _answered(app, telegram_api, db)
    db.chats.update_one({"chat_id": str(CHAT)}, {"$set": {"muted": True}})
    app.telegram(tg_edit(original, "no time now"))
    wait_for(lambda: db.inbox.count_documents({"state": "done"}) == 2, what="the edit to be handled")
    time.sleep(0.3)
    assert (CHAT, ours) in telegram_api.shown and len(telegram_api.calls) == 1


# ---------------------------------------------------------------- conversion on demand
@pytest.mark.parametrize("muted", [False, True])
def test_time_as_a_reply_converts_the_replied_message(app, telegram_api, db, muted):
    db.users.insert_one({"platform": "telegram", "user_id": "9601", "tz": "Europe/Berlin"})
    db.users.insert_one({"platform": "telegram", "user_id": "9602", "tz": "Asia/Tokyo"})
    db.chats.insert_one({"platform": "telegram", "chat_id": str(CHAT), "muted": muted,
                         "members": {"9601": {"tz": "Europe/Berlin"}}})
    # Ana wrote a time an hour ago (Bo's messages were answered or not; it does not matter).
    written = tg_message("release call at 15:30 tomorrow", user_id=9601, name="Ana", date=int(time.time()) - 3600)
    asking = tg_message("/time@team_ops_bot", user_id=9602, name="Bo", reply_to=written)
    app.telegram(asking)
    replies = telegram_api.wait_sent(1)
    reply = replies[-1]
    assert reply["reply_parameters"]["message_id"] == written["message"]["message_id"], "answered under that message"
    sent = datetime.fromtimestamp(written["message"]["date"], timezone.utc)
    day = sent.astimezone(ZoneInfo("Europe/Berlin")).date() + timedelta(days=1)
    instant = datetime(day.year, day.month, day.day, 15, 30, tzinfo=ZoneInfo("Europe/Berlin"))
    assert f"{instant.astimezone(ZoneInfo('Asia/Tokyo')):%H:%M}" in reply["text"], "read in Ana's zone, shown in Bo's"
    assert f'unix="{int(instant.timestamp())}"' in reply["text"]
    _well_formed(reply["text"])


def test_time_as_a_reply_to_a_writer_without_a_zone_says_so(app, telegram_api, db):
    db.users.insert_one({"platform": "telegram", "user_id": "9702", "tz": "Asia/Tokyo"})
    written = tg_message("call at 15:30", user_id=9701, name="Cy")
    app.telegram(tg_message("/time", user_id=9702, name="Bo", reply_to=written))
    [reply] = telegram_api.wait_sent(1)
    assert "Cy" in reply["text"] and "zone" in reply["text"]
    with_zone = tg_message("call at 15:30 CET", user_id=9701, name="Cy")
    app.telegram(tg_message("/time", user_id=9702, name="Bo", reply_to=with_zone))
    converted = telegram_api.wait_sent(2)[1]
    assert "Tokyo" in converted["text"], "a time that names its zone converts without the writer's"
