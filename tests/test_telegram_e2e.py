"""Telegram end to end: webhook in, inbox, worker, reply out to a fake Bot API on loopback."""

from __future__ import annotations

import json
import time
from datetime import datetime, timezone
from urllib.parse import parse_qs, urlparse
from zoneinfo import ZoneInfo

from conftest import WEBHOOK_SECRET, app_env, tg_message, wait_for


def _link_token(reply: dict) -> str:
    url = reply["reply_markup"]["inline_keyboard"][0][0]["url"]
    assert url.startswith("http://verify.example.test/verify?token="), url
    return parse_qs(urlparse(url).query)["token"][0]


def _start_code(url: str) -> str:
    return parse_qs(urlparse(url).query)["start"][0]


def _expected(hhmm: str, source: str, target: str, sent: datetime) -> datetime:
    """Where hh:mm today in `source` lands in `target` (computed independently of the app)."""
    day = sent.astimezone(ZoneInfo(source)).date()
    hour, minute = map(int, hhmm.split(":"))
    local = datetime(day.year, day.month, day.day, hour, minute, tzinfo=ZoneInfo(source))
    return local.astimezone(ZoneInfo(target))


def test_unknown_writer_in_a_group_gets_the_link_privately_then_conversion(start_app, mongo_uri, telegram_api, db):
    from teamops import tokens
    from conftest import VERIFY_SECRET

    app = start_app(app_env(mongo_uri, telegram_api, TEAM_TIMEZONES="Asia/Tokyo,America/New_York"))
    update = tg_message("sync at 15:30?", user_id=7001, name="Ana")
    response = app.telegram(update)
    assert response.status == 200 and json.loads(response.data) == {"ok": True}

    [prompt] = telegram_api.wait_sent(1)
    # Only Ana sees it (an ephemeral message in the group), so it carries her own link at once.
    assert prompt["chat_id"] == update["message"]["chat"]["id"] and prompt["receiver_user_id"] == 7001
    assert prompt["reply_parameters"] == {"message_id": update["message"]["message_id"], "allow_sending_without_reply": True}
    assert prompt["parse_mode"] == "HTML"
    token = _link_token(prompt)
    assert tokens.check(VERIFY_SECRET, token).c == "-100500", "the link is for this group"
    assert telegram_api.shown == {}, "nobody else in the group saw anything"

    page = app.get(f"/verify?token={token}")
    assert page.status == 200 and b"<html" in page.data.lower()
    done = app.post("/api/verify", {"token": token, "tz_iana": "Europe/Lisbon"})
    assert done.status == 200, done.data
    assert json.loads(done.data) == {"success": True, "timezone": "Europe/Lisbon"}
    assert db.users.find_one({"platform": "telegram", "user_id": "7001"})["tz"] == "Europe/Lisbon"

    # The chat hears about it, and the message that was waiting is converted now.
    sent = telegram_api.wait_sent(3)
    assert sent[1]["chat_id"] == -100500 and "Europe/Lisbon" in sent[1]["text"] and "receiver_user_id" not in sent[1]
    tokyo = _expected("15:30", "Europe/Lisbon", "Asia/Tokyo", datetime.now(timezone.utc))
    new_york = _expected("15:30", "Europe/Lisbon", "America/New_York", datetime.now(timezone.utc))
    conversion = sent[2]["text"]
    assert f"{tokyo:%H:%M}" in conversion and "Tokyo" in conversion, conversion
    assert f"{new_york:%H:%M}" in conversion and "New York" in conversion, conversion
    assert conversion.index("New York") < conversion.index("Tokyo"), "zones are ordered by UTC offset"
    assert sent[2]["reply_parameters"]["message_id"] == update["message"]["message_id"]

    # The same words again: converted straight away, no second link.
    app.telegram(tg_message("sync at 15:30?", user_id=7001, name="Ana"))
    again = telegram_api.wait_sent(4)[3]
    assert f"{tokyo:%H:%M}" in again["text"] and "reply_markup" not in again
    # A spent link cannot be used twice.
    replay = app.post("/api/verify", {"token": token, "tz_iana": "Asia/Tokyo"})
    assert replay.status == 400 and "used" in json.loads(replay.data)["error"]


def test_a_refused_private_link_falls_back_to_the_deep_link_flow(start_app, mongo_uri, telegram_api, db):
    """Telegram will not deliver the private message (an old group type): the group gets today's
    button, which opens a private chat with the bot; Ana's own link is never shown publicly."""
    telegram_api.refuse_private = True
    app = start_app(app_env(mongo_uri, telegram_api, TEAM_TIMEZONES="Asia/Tokyo,America/New_York"))
    update = tg_message("sync at 15:30?", user_id=7001, name="Ana")
    app.telegram(update)
    [prompt] = telegram_api.wait_sent(1)
    refused = [c for c in telegram_api.calls if c["status"] == 400]
    assert len(refused) == 1 and refused[0]["body"]["receiver_user_id"] == 7001, "tried privately first"
    assert "receiver_user_id" not in prompt and "verify?token=" not in json.dumps(prompt), "no personal link in public"
    assert prompt["reply_parameters"] == {"message_id": update["message"]["message_id"], "allow_sending_without_reply": True}
    button = prompt["reply_markup"]["inline_keyboard"][0][0]["url"]
    assert button.startswith("https://t.me/team_ops_bot?start=tz-100500_")
    app.telegram(tg_message(f"/start {_start_code(button)}", user_id=7001, chat_id=7001, name="Ana", chat_type="private"))
    private = telegram_api.wait_sent(2)[1]
    assert private["chat_id"] == 7001 and "receiver_user_id" not in private
    token = _link_token(private)
    done = app.post("/api/verify", {"token": token, "tz_iana": "Europe/Lisbon"})
    assert done.status == 200, done.data
    sent = telegram_api.wait_sent(4)[2:]
    assert sent[0]["chat_id"] == -100500 and "Europe/Lisbon" in sent[0]["text"]
    tokyo = _expected("15:30", "Europe/Lisbon", "Asia/Tokyo", datetime.now(timezone.utc))
    assert f"{tokyo:%H:%M}" in sent[1]["text"] and sent[1]["reply_parameters"]["message_id"] == update["message"]["message_id"]
    sends = [c["status"] for c in telegram_api.calls if c["method"] == "sendMessage"]
    assert sends == [400, 200, 200, 200, 200], "one refusal, then four messages: nothing retried"


def test_a_group_button_never_hands_out_someone_elses_link(start_app, mongo_uri, telegram_api, db):
    from teamops import tokens
    from conftest import VERIFY_SECRET

    telegram_api.refuse_private = True  # the public button of the deep-link flow
    app = start_app(app_env(mongo_uri, telegram_api))
    app.telegram(tg_message("sync at 15:30", user_id=7101, name="Ana"))
    [prompt] = telegram_api.wait_sent(1)
    # Bo presses the button under Ana's prompt: he lands in a private chat and gets his own link.
    code = _start_code(prompt["reply_markup"]["inline_keyboard"][0][0]["url"])
    app.telegram(tg_message(f"/start {code}", user_id=7102, chat_id=7102, name="Bo", chat_type="private"))
    link = telegram_api.wait_sent(2)[1]
    claims = tokens.check(VERIFY_SECRET, _link_token(link))
    assert (claims.u, claims.c) == ("7102", "-100500")
    # A code for a chat the bot never showed (made up, or with another chat's signature) gets no link.
    forged = code.replace("tz-100500_", "tz-100999_")
    for text in ("/start tz-100999", f"/start {forged}"):
        app.telegram(tg_message(text, user_id=7102, chat_id=7102, name="Bo", chat_type="private"))
    for reply in telegram_api.wait_sent(4)[2:]:
        # Bo gets the ordinary private greeting, whose link is for his private chat only.
        assert tokens.check(VERIFY_SECRET, _link_token(reply)).c == "7102", "no link for a chat he was not shown"
    # The button forwarded to Cy, who is not in the group (Telegram says so), or checked while
    # Telegram fails: the ordinary greeting again, never a link into the group.
    telegram_api.member_status[("-100500", "7103")] = "left"
    app.telegram(tg_message(f"/start {code}", user_id=7103, chat_id=7103, name="Cy", chat_type="private"))
    telegram_api.wait_sent(5)
    telegram_api.fail_next(400)
    app.telegram(tg_message(f"/start {code}", user_id=7104, chat_id=7104, name="Di", chat_type="private"))
    for reply in telegram_api.wait_sent(6)[4:]:
        claims = tokens.check(VERIFY_SECRET, _link_token(reply))
        assert claims.c == claims.u, "a non-member gets no link bound to the group"
    checks = [c["body"] for c in telegram_api.calls if c["method"] == "getChatMember"]
    assert {"chat_id": -100500, "user_id": 7103} in checks and {"chat_id": -100500, "user_id": 7102} in checks


def test_bot_username_is_learned_from_telegram_when_not_configured(start_app, mongo_uri, telegram_api):
    telegram_api.refuse_private = True  # so the group sees the prompt with its button
    app = start_app(app_env(mongo_uri, telegram_api, TELEGRAM_BOT_USERNAME=""))
    assert [c["method"] for c in telegram_api.calls] == ["getMe"]
    app.telegram(tg_message("sync at 15:30", user_id=7201, name="Ana"))
    [prompt] = telegram_api.wait_sent(1)
    # The group's button opens a private chat with the bot, not Ana's own link.
    assert prompt["reply_markup"]["inline_keyboard"][0][0]["url"].startswith("https://t.me/fake_ops_bot?start=tz-100500_")
    # "/tz@fake_ops_bot" is for us; "/tz@other_bot" is not.
    app.telegram(tg_message("/tz@other_bot", user_id=7201))
    app.telegram(tg_message("/tz@fake_ops_bot", user_id=7201))
    second = telegram_api.wait_sent(2)[1]
    time.sleep(0.5)
    assert len(telegram_api.sent()) == 2 and "zone" in second["text"]


def test_conversion_marks_the_next_day(start_app, mongo_uri, telegram_api, db):
    app = start_app(app_env(mongo_uri, telegram_api, TEAM_TIMEZONES="Asia/Tokyo"))
    db.users.insert_one({"platform": "telegram", "user_id": "7002", "tz": "America/Los_Angeles"})
    app.telegram(tg_message("deploy at 22:00", user_id=7002, name="Lee"))
    [reply] = telegram_api.wait_sent(1)
    tokyo = _expected("22:00", "America/Los_Angeles", "Asia/Tokyo", datetime.now(timezone.utc))
    assert f"<b>{tokyo:%H:%M}</b>" in reply["text"]
    assert "next day" in reply["text"], reply["text"]


def test_duplicate_delivery_gets_one_reply(app, telegram_api, db):
    db.users.insert_one({"platform": "telegram", "user_id": "7003", "tz": "Europe/Berlin"})
    db.chats.insert_one({"platform": "telegram", "chat_id": "-100500", "extra_zones": ["Asia/Tokyo"], "members": {}})
    update = tg_message("call at 9:00", user_id=7003)
    for _ in range(3):
        assert app.telegram(update).status == 200
    telegram_api.wait_sent(1)
    time.sleep(1.0)
    assert len(telegram_api.sent()) == 1, "a redelivered update must not be answered twice"


def test_redeliveries_during_start_up_get_one_reply(start_app, mongo_uri, telegram_api, db):
    """A fresh deploy: Telegram redelivers its backlog the moment the service answers, before
    start-up has made the inbox's unique index. Still one reply, and the service goes on working."""
    db.users.insert_one({"platform": "telegram", "user_id": "7004", "tz": "Europe/Berlin"})
    db.chats.insert_one({"platform": "telegram", "chat_id": "-100500", "extra_zones": ["Asia/Tokyo"], "members": {}})
    app = start_app(app_env(mongo_uri, telegram_api, INBOX_LEASE_SECONDS=2), wait=False)
    wait_for(app._healthy, 20, what="/health")
    update = tg_message("call at 9:00", user_id=7004)
    statuses = [app.telegram(update).status for _ in range(3)]
    assert statuses[0] in (200, 503) and set(statuses) <= {200, 503}
    if 200 not in statuses:  # refused while starting: Telegram would deliver it again
        wait_for(lambda: app.telegram(update).status == 200, 10, what="the webhook to accept")
    telegram_api.wait_sent(1)
    wait_for(lambda: app.get("/ready").status == 200, 10, what="/ready")
    later = tg_message("and at 10:00", user_id=7004)
    assert app.telegram(later).status == 200
    telegram_api.wait_sent(2)
    time.sleep(1.0)
    assert len(telegram_api.sent()) == 2, "each message answered once"


def test_no_time_message_touches_nothing(app, telegram_api, db):
    for text in ("good morning team", "shipped v2.14.1 to prod", "lunch?"):
        assert app.telegram(tg_message(text)).status == 200
    assert db.inbox.count_documents({}) == 0
    time.sleep(0.5)
    assert telegram_api.sent() == []


def test_messages_from_bots_are_ignored(app, telegram_api, db):
    assert app.telegram(tg_message("sync at 15:30", is_bot=True)).status == 200
    assert db.inbox.count_documents({}) == 0


def test_secret_is_required(app, start_app, mongo_uri):
    update = tg_message("sync at 15:30")
    assert app.telegram(update, secret="wrong").status == 401
    missing = app.post("/hooks/telegram", update)
    assert missing.status == 401 and "error" in json.loads(missing.data)
    unconfigured = start_app(app_env(mongo_uri))
    refused = unconfigured.telegram(update)
    assert refused.status == 503
    assert json.loads(refused.data) == {"error": "telegram is not configured"}


def test_bad_bodies_get_clear_answers(app, db):
    headers = {"X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET}
    malformed = app.post("/hooks/telegram", raw=b'{"update_id": 1, "message": ', headers=headers)
    assert malformed.status == 400 and json.loads(malformed.data)["error"]
    wrong_shape = app.post("/hooks/telegram", {"update_id": "x"}, headers)
    assert wrong_shape.status == 400 and "error" in json.loads(wrong_shape.data)
    huge = app.post("/hooks/telegram", raw=b'{"update_id": 1, "pad": "' + b"x" * 70_000 + b'"}', headers=headers)
    assert huge.status == 413 and json.loads(huge.data)["error"]
    not_found = app.get("/nope")
    assert not_found.status == 404 and json.loads(not_found.data)["error"]
    assert app.get("/health").status == 200, "the service is still up"
    assert "Traceback" not in app.logs()


def test_429_is_retried_after_retry_after(app, telegram_api, db):
    db.users.insert_one({"platform": "telegram", "user_id": "7004", "tz": "Europe/Berlin"})
    db.chats.insert_one({"platform": "telegram", "chat_id": "-100500", "extra_zones": ["America/Chicago"], "members": {}})
    telegram_api.fail_next(429, {"ok": False, "error_code": 429, "description": "Too Many Requests: retry after 1",
                                 "parameters": {"retry_after": 1}})
    started = time.monotonic()
    app.telegram(tg_message("standup 10:00", user_id=7004))
    [reply] = telegram_api.wait_sent(1, timeout=15)
    assert time.monotonic() - started >= 0.9, "the retry waited for retry_after"
    assert "Chicago" in reply["text"]
    assert [c["status"] for c in telegram_api.calls] == [429, 200]


def test_4xx_is_dropped_not_retried(app, telegram_api, db):
    db.users.insert_one({"platform": "telegram", "user_id": "7005", "tz": "Europe/Berlin"})
    db.chats.insert_one({"platform": "telegram", "chat_id": "-100500", "extra_zones": ["Asia/Tokyo"], "members": {}})
    telegram_api.fail_next(403, {"ok": False, "error_code": 403, "description": "Forbidden: bot was kicked"})
    update = tg_message("retro at 16:00", user_id=7005)
    app.telegram(update)
    wait_for(lambda: (db.inbox.find_one({"event_id": str(update["update_id"])}) or {}).get("state") == "done",
             what="the item to be done")
    time.sleep(0.5)
    assert len(telegram_api.calls) == 1


def test_forum_topic_is_kept(app, telegram_api, db):
    db.users.insert_one({"platform": "telegram", "user_id": "7006", "tz": "Europe/Berlin"})
    db.chats.insert_one({"platform": "telegram", "chat_id": "-100500", "extra_zones": ["Asia/Tokyo"], "members": {}})
    app.telegram(tg_message("incident review at 14:00", user_id=7006, thread_id=5790))
    [reply] = telegram_api.wait_sent(1)
    assert reply["message_thread_id"] == 5790


def test_reply_survives_a_crash_after_the_200(start_app, mongo_uri, telegram_api, db):
    """Kill the service after it acknowledged but before the reply got out; restart; one reply."""
    db.users.insert_one({"platform": "telegram", "user_id": "7007", "tz": "Europe/Berlin"})
    db.chats.insert_one({"platform": "telegram", "chat_id": "-100500", "extra_zones": ["Asia/Tokyo"], "members": {}})
    env = app_env(mongo_uri, telegram_api, INBOX_LEASE_SECONDS=2)
    first = start_app(env)
    telegram_api.fail_next(502, times=50)  # Telegram is down: the reply cannot get out
    update = tg_message("planning at 11:00", user_id=7007)
    assert first.telegram(update).status == 200
    wait_for(lambda: any(c["status"] == 502 for c in telegram_api.calls), what="a failed send attempt")
    first.kill()
    with telegram_api.lock:
        telegram_api.script.clear()  # Telegram is back
    second = start_app(env)
    [reply] = telegram_api.wait_sent(1, timeout=30)
    assert "Tokyo" in reply["text"]
    time.sleep(1.5)
    assert len(telegram_api.sent()) == 1, "the reply arrives exactly once"
    assert second.get("/health").status == 200


def test_logs_hold_ids_not_text_or_tokens(app, telegram_api, db):
    db.users.insert_one({"platform": "telegram", "user_id": "7008", "tz": "Europe/Berlin"})
    db.chats.insert_one({"platform": "telegram", "chat_id": "-100500", "extra_zones": ["Asia/Tokyo"], "members": {}})
    update = tg_message("secret-plan-zebra at 13:00", user_id=7008)
    app.telegram(update)
    telegram_api.wait_sent(1)
    time.sleep(0.3)
    logs = app.logs()
    assert str(update["update_id"]) in logs
    assert "zebra" not in logs and "TEST-token" not in logs and WEBHOOK_SECRET not in logs


def test_health_and_ready(app, start_app):
    assert json.loads(app.get("/health").data) == {"status": "ok"}
    assert json.loads(app.get("/ready").data) == {"status": "ok", "mongodb": True, "discord_gateway": "off"}
    from conftest import free_port

    nowhere = f"mongodb://127.0.0.1:{free_port()}/x?directConnection=true"
    broken = start_app(app_env(nowhere), wait=False)
    wait_for(lambda: broken._healthy(), 20, what="/health without a database")
    ready = broken.get("/ready")  # how fast it answers is bench/'s business, not a timed test's
    assert ready.status == 503 and json.loads(ready.data) == {"status": "degraded", "mongodb": False}
