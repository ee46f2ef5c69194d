"""The model fallback end to end: the service under uvicorn, a fake Telegram and a fake Together
API on loopback. What a chat sees when the model answers well, answers wrong, hangs, fails, or is
not configured at all; and what reaches the provider (one message, nothing else)."""

from __future__ import annotations

import re
import time
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import pytest

from conftest import app_env, tg_message, tg_press, wait_for
from fakes.together import FakeTogether

CHAT = -100500
TRES_Y_MEDIA = {"times": [{"span": "tres y media", "time": "15:30", "end": None, "day": None, "zone": None, "zone_span": None}]}


@pytest.fixture
def together_api():
    fake = FakeTogether()
    yield fake
    fake.close()


def _model_env(mongo_uri, telegram_api, together_api, **extra):
    settings = dict(TOGETHER_API_KEY="test-key", TOGETHER_API_BASE=together_api.base, TOGETHER_MODEL="fake/small",
                    MODEL_TIMEOUT_SECONDS=1, MODEL_BUDGET_SECONDS=2, MODEL_BREAKER_FAILURES=2,
                    MODEL_BREAKER_COOLDOWN_SECONDS=2, INBOX_LEASE_SECONDS=3)
    settings.update(extra)
    return app_env(mongo_uri, telegram_api, **settings)


def _team(db, user_id: int, tz: str = "Europe/Madrid", chat_id: int = CHAT):
    db.users.insert_one({"platform": "telegram", "user_id": str(user_id), "tz": tz})
    db.chats.update_one({"platform": "telegram", "chat_id": str(chat_id)},
                        {"$set": {"extra_zones": ["Asia/Tokyo"], "members": {}}}, upsert=True)


def _model_line(app, update: dict) -> str:
    """The model's log line for the question asked about this update."""
    pattern = re.compile(rf"model kind=\w+ event=model:{update['update_id']} .*")
    return wait_for(lambda: (pattern.findall(app.logs()) or [None])[0], 15, what=f"the model line for {update['update_id']}")


def _tokyo(hhmm: str, source: str = "Europe/Madrid") -> str:
    day = datetime.now(timezone.utc).astimezone(ZoneInfo(source)).date()
    hour, minute = map(int, hhmm.split(":"))
    local = datetime(day.year, day.month, day.day, hour, minute, tzinfo=ZoneInfo(source))
    return f"{local.astimezone(ZoneInfo('Asia/Tokyo')):%H:%M}"


def test_the_model_reads_what_the_rules_cannot_marked_and_asked_once(start_app, mongo_uri, telegram_api, together_api, db):
    _team(db, 9001)
    together_api.answers["nos vemos tres y media"] = TRES_Y_MEDIA
    app = start_app(_model_env(mongo_uri, telegram_api, together_api))
    update = tg_message("nos vemos tres y media", user_id=9001, name="Ana")
    assert app.telegram(update).status == 200
    [reply] = telegram_api.wait_sent(1)
    assert "\u2248 read \u201ctres y media\u201d as 15:30" in reply["text"], reply["text"]
    assert _tokyo("15:30") in reply["text"] and "Tokyo" in reply["text"]
    assert reply["reply_parameters"]["message_id"] == update["message"]["message_id"]

    # Only the message went to the provider: no name, no chat, no zone, no history.
    [call] = together_api.calls
    assert call["headers"]["Authorization"] == "Bearer test-key" and call["body"]["model"] == "fake/small"
    system, user = call["body"]["messages"]
    assert user == {"role": "user", "content": "nos vemos tres y media"}
    assert not {"Ana", "9001", str(CHAT), "Madrid", "Tokyo"} & set(re.findall(r"[\w/]+", system["content"]))
    assert call["body"]["response_format"]["type"] == "json_schema"

    # The same words again, from someone else: the cache answers, the provider is not asked.
    _team(db, 9002)
    again = tg_message("nos vemos  tres y media", user_id=9002, name="Bo")
    app.telegram(again)
    second = telegram_api.wait_sent(2)[1]
    assert "\u2248 read" in second["text"] and len(together_api.calls) == 1
    assert "source=cache" in _model_line(app, again) and "source=model" in _model_line(app, update)
    assert "tres y media" not in app.logs(), "logs never carry message text"


def test_answers_that_fail_the_checks_are_thrown_away_and_counted(start_app, mongo_uri, telegram_api, together_api, db):
    _team(db, 9101)
    reading = TRES_Y_MEDIA["times"][0]
    cases = {  # message -> (the model's answer, the count the log line must show)
        "quedamos tres y media": ("{\"times\": [{\"span\": ", "garbage:1"),
        "vale, tres y media": ({"times": [{**reading, "zone": "Mars/Olympus", "zone_span": "tres"}]}, "zone:1"),
        "te veo tres y media": ({"times": [{**reading, "span": "cuatro y media"}]}, "span:1"),
        "standup 10:00, nos vemos tres y media": (
            {"times": [{**reading, "span": "10:00", "time": "11:00"}, reading]}, "contradiction:2"),
    }
    for text, (answer, _) in cases.items():
        together_api.answers[text] = answer
    app = start_app(_model_env(mongo_uri, telegram_api, together_api))
    updates = {text: tg_message(text, user_id=9101) for text in cases}
    for update in updates.values():
        assert app.telegram(update).status == 200
    for text, (_, count) in cases.items():
        line = _model_line(app, updates[text])
        assert "readings=0" in line and count in line and "replies=0" in line, line
    # The one reply is the rules' own, for 10:00; the model added nothing anywhere.
    [reply] = telegram_api.wait_sent(1)
    time.sleep(0.5)
    assert len(telegram_api.sent()) == 1 and "\u2248" not in reply["text"] and "10:00" in reply["text"]
    assert reply["reply_parameters"]["message_id"] == updates["standup 10:00, nos vemos tres y media"]["message"]["message_id"]


def test_a_hanging_model_holds_neither_the_webhook_nor_the_chat(start_app, mongo_uri, telegram_api, together_api, db):
    _team(db, 9201)
    together_api.answers["nos vemos tres y media"] = TRES_Y_MEDIA
    together_api.next("hang", 8.0)
    app = start_app(_model_env(mongo_uri, telegram_api, together_api))
    flagged = tg_message("nos vemos tres y media", user_id=9201)
    assert app.telegram(flagged).status == 200
    wait_for(lambda: together_api.in_flight == 1, 10, what="the model call to start hanging")
    assert app.telegram(tg_message("sync at 15:30", user_id=9201)).status == 200
    [reply] = telegram_api.wait_sent(1)
    assert "15:30" in reply["text"] and "\u2248" not in reply["text"]
    assert together_api.in_flight == 1, "the chat's next message was answered while the model still hung"
    line = _model_line(app, flagged)
    assert "source=timeout" in line and "replies=0" in line, line
    assert together_api.in_flight == 1, "the question gave up at its timeout, before the provider answered"
    time.sleep(0.5)
    assert len(telegram_api.sent()) == 1, "a question past its timeout stays silent"


def test_failures_open_the_breaker_for_a_cool_down_then_one_good_answer_closes_it(
        start_app, mongo_uri, telegram_api, together_api, db):
    _team(db, 9301)
    texts = ["nos vemos tres y media", "quedamos tres y media", "vale, tres y media", "te veo tres y media"]
    for text in texts:
        together_api.answers[text] = {"times": [{**TRES_Y_MEDIA["times"][0]}]}
    together_api.next("status", 429)
    together_api.next("status", 500)
    app = start_app(_model_env(mongo_uri, telegram_api, together_api))
    first, second, third = (tg_message(text, user_id=9301) for text in texts[:3])
    for update in (first, second):
        app.telegram(update)
        _model_line(app, update)
    assert "source=rate-limited" in _model_line(app, first) and "source=server" in _model_line(app, second)
    assert "model breaker open: 2 failures in a row" in app.logs()
    state = db.model_state.find_one({"_id": "together"})
    assert state["failures"] == 2 and state["open_until"] > datetime.now(timezone.utc)
    app.telegram(third)
    assert "source=breaker-open" in _model_line(app, third)
    assert len(together_api.calls) == 2, "an open breaker asks nothing"
    assert telegram_api.sent() == [], "failed and skipped questions stay silent"

    wait_for(lambda: db.model_state.find_one({"_id": "together"})["open_until"] < datetime.now(timezone.utc), 10,
             what="the cool-down to end")
    fourth = tg_message(texts[3], user_id=9301)
    app.telegram(fourth)
    [reply] = telegram_api.wait_sent(1)
    assert "\u2248 read" in reply["text"] and "source=model" in _model_line(app, fourth)
    assert "model breaker closed" in app.logs()
    assert db.model_state.find_one({"_id": "together"})["failures"] == 0


def test_a_chat_past_its_daily_cap_is_not_asked_again(start_app, mongo_uri, telegram_api, together_api, db):
    _team(db, 9401)
    _team(db, 9402, chat_id=-100600)
    app = start_app(_model_env(mongo_uri, telegram_api, together_api, MODEL_CHAT_DAILY_CAP=1))
    first, second = tg_message("nos vemos tres y media", user_id=9401), tg_message("quedamos tres y media", user_id=9401)
    elsewhere = tg_message("vale, tres y media", user_id=9402, chat_id=-100600)
    for update in (first, second, elsewhere):
        app.telegram(update)
        _model_line(app, update)
    assert "source=cap-chat" in _model_line(app, second)
    assert together_api.questions() == ["nos vemos tres y media", "vale, tres y media"]
    assert "model daily cap reached (chat=-100500)" in app.logs()


def test_a_place_the_city_data_does_not_know_is_offered_never_set_unasked(
        start_app, mongo_uri, telegram_api, together_api, db):
    _team(db, 9501)
    together_api.answers["Lisbn"] = {"city": "Lisbon", "zone": "Europe/Lisbon"}
    together_api.answers["Narnia"] = {"city": "Narnia", "zone": "Narnia/Cair_Paravel"}
    app = start_app(_model_env(mongo_uri, telegram_api, together_api))
    app.telegram(tg_message("/tz Lisbn", user_id=9501, name="Ana"))
    unknown, offer = telegram_api.wait_sent(2)
    assert "I don't know a zone or city called" in unknown["text"]
    assert "\u2248 \u201cLisbn\u201d looks like <b>Lisbon (Europe/Lisbon)</b>" in offer["text"], offer["text"]
    [[button]] = offer["reply_markup"]["inline_keyboard"]
    assert db.users.find_one({"user_id": "9501"})["tz"] == "Europe/Madrid", "nothing set before a yes"
    assert together_api.questions() == ["Lisbn"], "only the place as typed is sent"
    app.telegram(tg_press(button["callback_data"], user_id=9501, name="Ana"))
    wait_for(lambda: db.users.find_one({"user_id": "9501"})["tz"] == "Europe/Lisbon", 10, what="the zone to be set")

    # "I moved to …" with a place the data lacks: the usual yes/no question, from the model's reading.
    db.users.insert_one({"platform": "telegram", "user_id": "9502", "tz": "Europe/Madrid"})
    app.telegram(tg_message("I moved to Lisbn", user_id=9502, name="Bo"))
    question = wait_for(lambda: [m for m in telegram_api.sent() if "switch your zone" in m.get("text", "")], 10,
                        what="the relocation question")[0]
    assert "Europe/Lisbon" in question["text"] and len(together_api.calls) == 1, "the place came from the cache"
    # An invented zone offers nothing.
    before = len(telegram_api.sent())
    update = tg_message("/tz Narnia", user_id=9501)
    app.telegram(update)
    assert "zone:1" in _model_line(app, update)
    time.sleep(0.5)
    assert len(telegram_api.sent()) == before + 1, "only the rules' own \"I don't know\""


def test_time_on_demand_reads_with_the_rules_alone(start_app, mongo_uri, telegram_api, together_api, db):
    _team(db, 9601)
    together_api.answers["nos vemos tres y media"] = TRES_Y_MEDIA
    app = start_app(_model_env(mongo_uri, telegram_api, together_api))
    app.telegram(tg_message("/time nos vemos tres y media", user_id=9601))
    [reply] = telegram_api.wait_sent(1)
    assert "couldn't read a time" in reply["text"]
    time.sleep(1.0)
    assert together_api.calls == [] and len(telegram_api.sent()) == 1
    # A message the model read, re-read with /time as a reply to it: the rules' reading, no model.
    original = tg_message("nos vemos tres y media", user_id=9601)
    app.telegram(original)
    assert "\u2248 read" in telegram_api.wait_sent(2)[1]["text"]
    app.telegram(tg_message("/time", user_id=9602, reply_to=original))
    again = telegram_api.wait_sent(3)[2]
    assert "\u2248" not in again["text"] and "couldn't find a time" in again["text"], again["text"]
    assert len(together_api.calls) == 1


def test_without_a_key_nothing_changes(start_app, mongo_uri, telegram_api, together_api, db):
    _team(db, 9701)
    app = start_app(app_env(mongo_uri, telegram_api, TOGETHER_API_BASE=together_api.base))
    assert "model fallback off" in app.logs()
    app.telegram(tg_message("nos vemos tres y media", user_id=9701))
    app.telegram(tg_message("/tz Lisbn", user_id=9701))
    app.telegram(tg_message("sync at 15:30", user_id=9701))
    telegram_api.wait_sent(2)
    time.sleep(1.0)
    assert len(telegram_api.sent()) == 2 and together_api.calls == []
    assert db.inbox.count_documents({}) == 2, "a message the rules cannot read is not even stored"
