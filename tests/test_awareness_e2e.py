"""Team awareness through the Telegram webhook: working hours and the marks they put on a
conversion, /overlap across clock changes, and "not a time" (❌ or a reply) learned per chat."""

from __future__ import annotations

import html
import re
from datetime import datetime, timezone

from conftest import tg_message, wait_for

CHAT = -100700
TAGS = re.compile(r"<[^>]+>")


def _text(body: dict) -> str:
    return html.unescape(TAGS.sub("", body.get("text", "")))


def _public(telegram_api, count: int) -> list[dict]:
    """The messages everyone in a chat sees, once there are `count` of them."""
    def shown():
        found = [b for b in telegram_api.sent() if "receiver_user_id" not in b]
        return found if len(found) >= count else None
    return wait_for(shown, 15, what=f"{count} public message(s)")


def _at(*args) -> int:
    return int(datetime(*args, tzinfo=timezone.utc).timestamp())


def _join(app, telegram_api, members, chat_id=CHAT):
    """Each member sets a zone (and maybe hours) in the chat; their answers are private."""
    expected = len(telegram_api.private)
    for user_id, name, tz, hours in members:
        app.telegram(tg_message(f"/tz {tz}", user_id=user_id, name=name, chat_id=chat_id))
        expected += 1
        if hours:
            app.telegram(tg_message(f"/hours {hours}", user_id=user_id, name=name, chat_id=chat_id))
            expected += 1
    wait_for(lambda: len(telegram_api.private) >= expected, 20, what=f"{expected} private answers")


TEAM = [
    (201, "Ana", "Europe/Lisbon", ""),
    (202, "Bo", "America/New_York", "12-20"),  # starts late: 10:30 is before work
    (203, "Cy", "America/New_York", ""),
    (211, "Ken", "Asia/Tokyo", ""),
    (212, "Yui", "Asia/Tokyo", ""),
    (213, "Aki", "Asia/Tokyo", ""),
    (214, "Mei", "Asia/Tokyo", ""),
    (215, "Sora", "Asia/Tokyo", ""),
    (216, "Zed", "Asia/Tokyo", "off"),  # asked never to be marked
    (217, "Rin", "Asia/Tokyo", "22-06 mon-fri"),  # a night shift: 00:30 is work
]


def test_a_time_at_night_for_some_is_said_first_and_off_hours_are_marked_by_name(app, telegram_api):
    _join(app, telegram_api, TEAM)
    wed = _at(2027, 1, 13, 10, 0)  # Wed 13 Jan 2027, 10:00 in Lisbon (UTC+0 in winter)
    app.telegram(tg_message("sync at 15:30?", user_id=201, name="Ana", chat_id=CHAT, date=wed))
    [reply] = _public(telegram_api, 1)
    lines = _text(reply).split("\n")
    # Tokyo is 00:30 on Thursday: night for five of its seven members, said before anything else.
    assert lines[0] == "\U0001f319 00:30 Tokyo (Aki, Ken, Mei +2 more)", lines
    assert "Zed" not in _text(reply) and "Rin" not in _text(reply), "hours off and a night shift are not marked"
    assert lines[1].startswith("15:30") and "Lisbon" in lines[1]
    new_york = next(line for line in lines if "New York" in line)
    assert new_york.startswith("\U0001f3e0 10:30") and new_york.endswith("\u00b7 Bo"), new_york  # Cy is at work
    tokyo = next(line for line in lines if "Tokyo (UTC" in line)
    assert tokyo.startswith("\U0001f319 00:30"), tokyo

    # In hours for everyone but Tokyo's night: no mark on New York at 14:00 (09:00 for Cy... and Bo?).
    app.telegram(tg_message("call at 19:00", user_id=201, name="Ana", chat_id=CHAT, date=wed + 60))
    second = _public(telegram_api, 2)[1]
    new_york = next(line for line in _text(second).split("\n") if "New York" in line)
    assert new_york.startswith("14:00"), f"14:00 is work for Bo (12-20) and Cy (9-18): {new_york}"


def test_hours_are_private_readable_and_forgotten(app, telegram_api, db):
    app.telegram(tg_message("/hours 08:30-17:00 mon-thu", user_id=301, name="Ana", chat_id=CHAT))
    [answer] = telegram_api.wait_sent(1)
    assert answer["receiver_user_id"] == 301 and "08:30\u201317:00 Mon, Tue, Wed, Thu" in _text(answer)
    assert db.users.find_one({"user_id": "301"})["hours"] == {"start": 510, "end": 1020, "days": [0, 1, 2, 3]}
    app.telegram(tg_message("/hours 25-3", user_id=301, name="Ana", chat_id=CHAT))
    assert "0:00 to 24:00" in _text(telegram_api.wait_sent(2)[1])
    app.telegram(tg_message("/forget", user_id=301, name="Ana", chat_id=CHAT))
    telegram_api.wait_sent(3)
    assert db.users.find_one({"user_id": "301"}) is None
    assert "301" not in (db.chats.find_one({"chat_id": str(CHAT)}) or {}).get("members", {})


def test_overlap_lisbon_new_york_tokyo_follows_the_us_clock_change(app, telegram_api):
    _join(app, telegram_api, [(401, "Ana", "Europe/Lisbon", ""), (402, "Bo", "America/New_York", ""),
                              (403, "Ken", "Asia/Tokyo", "")])
    # Fri 12 Mar 2027: the US moves its clocks on Sun 14 Mar, the EU only on Sun 28 Mar.
    app.telegram(tg_message("/overlap", user_id=401, name="Ana", chat_id=CHAT, date=_at(2027, 3, 12, 6, 0)))
    answer = _public(telegram_api, 1)[0]
    text = _text(answer)
    assert text.startswith("No 30 min when all 3 are at work in the next 5 working days. Closest, leaving out Ken:"), text
    windows = text.split("\n\n")[1:]
    assert len(windows) == 5, text
    friday, monday = windows[0].split("\n"), windows[1].split("\n")
    assert "09:00\u201313:00  \U0001f1fa\U0001f1f8 New York, Fri (UTC\u22125)" in friday, friday
    assert "14:00\u201318:00  \U0001f1f5\U0001f1f9 Lisbon, Fri (UTC)" in friday, friday
    # From Monday New York is 4 h behind Lisbon: the window starts an hour earlier in Lisbon.
    assert "09:00\u201314:00  \U0001f1fa\U0001f1f8 New York, Mon (UTC\u22124)" in monday, monday
    assert "13:00\u201318:00  \U0001f1f5\U0001f1f9 Lisbon, Mon (UTC)" in monday, monday
    assert any("Tokyo" in line for line in monday), "every zone of the chat is shown"
    # And each window as a moment the reader's own app shows on their own clock.
    assert f'<tg-time unix="{_at(2027, 3, 15, 13, 0)}"' in answer["text"], answer["text"]


def test_overlap_with_a_southern_zone_across_its_clock_change_and_a_full_overlap(app, telegram_api):
    _join(app, telegram_api, [(501, "Bo", "America/New_York", ""), (502, "Lu", "America/Santiago", "")])
    # Fri 2 Apr 2027: Santiago leaves summer time on Sun 4 Apr (UTC-3 -> UTC-4).
    app.telegram(tg_message("/overlap 1h 2", user_id=501, name="Bo", chat_id=CHAT, date=_at(2027, 4, 2, 11, 0)))
    answer = _public(telegram_api, 1)[0]
    text = _text(answer)
    assert text.startswith("1 h when all 2 are at work, next 2 working days (best first):"), text
    friday, monday = text.split("\n\n")[1:3]
    assert "09:00\u201317:00  \U0001f1fa\U0001f1f8 New York, Fri (UTC\u22124)" in friday, friday
    assert "10:00\u201318:00  \U0001f1e8\U0001f1f1 Santiago, Fri (UTC\u22123)" in friday, friday
    assert "09:00\u201318:00  \U0001f1e8\U0001f1f1 Santiago, Mon (UTC\u22124)" in monday, monday
    assert "09:00\u201318:00  \U0001f1fa\U0001f1f8 New York, Mon (UTC\u22124)" in monday, monday


def _conversions(telegram_api, chat_id):
    return [b for b in telegram_api.sent() if b.get("chat_id") == chat_id and "receiver_user_id" not in b
            and "\U0001f552" in b.get("text", "")]


def test_a_cross_on_our_reply_deletes_it_and_that_shape_stays_silent_in_that_chat_only(app, telegram_api, db):
    other = -100799
    members = [(601, "Ana", "Europe/Lisbon", ""), (602, "Bo", "America/New_York", "")]
    _join(app, telegram_api, members)
    _join(app, telegram_api, members, chat_id=other)
    app.telegram(tg_message("the 3:16 train is back", user_id=601, name="Ana", chat_id=CHAT))
    wait_for(lambda: _conversions(telegram_api, CHAT), what="the conversion")
    ours = next(mid for (chat, mid), text in telegram_api.shown.items() if chat == CHAT)
    reaction = {"update_id": 990001, "message_reaction": {
        "chat": {"id": CHAT, "type": "supergroup"}, "message_id": ours, "date": 1,
        "user": {"id": 602, "is_bot": False, "first_name": "Bo"},
        "old_reaction": [], "new_reaction": [{"type": "emoji", "emoji": "\u274c"}]}}
    assert app.telegram(reaction).status == 200
    wait_for(lambda: (CHAT, ours) not in telegram_api.shown, what="our reply deleted")
    assert [b["message_id"] for b in telegram_api.sent("deleteMessage")] == [ours]
    assert app.telegram(reaction).status == 200, "a redelivery is a quiet 200"

    # The same shape with other digits: silent here, answered in the other chat.
    app.telegram(tg_message("the 4:05 train is back", user_id=601, name="Ana", chat_id=CHAT))
    app.telegram(tg_message("the 4:05 train is back", user_id=601, name="Ana", chat_id=other))
    wait_for(lambda: _conversions(telegram_api, other), what="the other chat's conversion")
    app.telegram(tg_message("sync at 15:30", user_id=601, name="Ana", chat_id=CHAT))
    wait_for(lambda: len(_conversions(telegram_api, CHAT)) == 2, what="a real time still converted here")
    assert "15:30" in _text(_conversions(telegram_api, CHAT)[1]), "the 4:05 train got no reply here"

    # /zones lists what was learned; /zones unlearn clears it and the shape converts again.
    app.telegram(tg_message("/zones", user_id=601, name="Ana", chat_id=CHAT))
    listed = wait_for(lambda: [b for b in telegram_api.sent() if "Not times here" in _text(b)], what="/zones")
    assert "\u201c#:##\u201d" in _text(listed[0])
    app.telegram(tg_message("/zones unlearn", user_id=601, name="Ana", chat_id=CHAT))
    wait_for(lambda: [b for b in telegram_api.sent() if "Forgot 1" in _text(b)], what="/zones unlearn")
    app.telegram(tg_message("the 5:55 train is back", user_id=601, name="Ana", chat_id=CHAT))
    wait_for(lambda: len(_conversions(telegram_api, CHAT)) == 3, what="converted again after unlearn")


def test_a_not_a_time_answer_to_our_reply_works_like_the_cross(app, telegram_api):
    _join(app, telegram_api, [(701, "Ana", "Europe/Lisbon", ""), (702, "Bo", "America/New_York", "")])
    original = tg_message("the 3:16 train is back", user_id=701, name="Ana", chat_id=CHAT)
    app.telegram(original)
    wait_for(lambda: _conversions(telegram_api, CHAT), what="the conversion")
    ours = next(mid for (chat, mid), text in telegram_api.shown.items() if chat == CHAT)
    our_message = {"message": {"message_id": ours, "from": {"id": 123456, "is_bot": True, "first_name": "Ops"},
                               "chat": {"id": CHAT, "type": "supergroup"}, "date": 1, "text": "..."}}
    app.telegram(tg_message("Not a time!", user_id=702, name="Bo", chat_id=CHAT, reply_to=our_message))
    wait_for(lambda: (CHAT, ours) not in telegram_api.shown, what="our reply deleted")
    # Someone else's message answered "not a time" changes nothing.
    app.telegram(tg_message("not a time", user_id=702, name="Bo", chat_id=CHAT, reply_to=original))
    app.telegram(tg_message("the 9:59 train", user_id=701, name="Ana", chat_id=CHAT))
    app.telegram(tg_message("/help", user_id=701, name="Ana", chat_id=CHAT))
    wait_for(lambda: [b for b in telegram_api.sent() if "I convert times" in _text(b)], what="/help")
    assert len(_conversions(telegram_api, CHAT)) == 1 and len(telegram_api.sent("deleteMessage")) == 1
