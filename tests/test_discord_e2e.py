"""Discord end to end: signed interactions in, the app under uvicorn, answers in the HTTP response
or as follow-ups to a fake Discord REST API on loopback. Requests are signed with an Ed25519 key
pair made here; the app holds only the public half, as it would in production."""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
import time
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import pytest
from nacl.signing import SigningKey

from conftest import ROOT, app_env, wait_for
from fakes.discord import APPLICATION_ID, BOT_TOKEN, FakeDiscord
from fakes.slow_proxy import SlowProxy

SIGNING_KEY = SigningKey.generate()
PUBLIC_KEY = SIGNING_KEY.verify_key.encode().hex()
GUILD = "290926798626357999"
CHANNEL = "645027906669510667"
MASON, BO = "53908232506183680", "53908232506183999"
EPHEMERAL = 64
DISCORD_EPOCH_MS = 1420070400000
_sequence = itertools.count(1)


def snowflake(at: float | None = None) -> str:
    millis = int((time.time() if at is None else at) * 1000) - DISCORD_EPOCH_MS
    return str((millis << 22) | (next(_sequence) & 0x3FFFFF))


def interaction(kind: int, data: dict | None = None, user: str = MASON, name: str = "Mason", channel: str = CHANNEL,
                context: int = 0, message: dict | None = None, at: float | None = None) -> dict:
    body = {"id": snowflake(at), "application_id": APPLICATION_ID, "type": kind, "token": f"tok-{next(_sequence)}-secret",
            "version": 1, "channel_id": channel, "context": context, "locale": "en-US", "app_permissions": "442368",
            "entitlements": [], "authorizing_integration_owners": {"0": GUILD}}
    person = {"id": user, "username": name.lower(), "global_name": name, "discriminator": "0"}
    if context == 0:
        body.update(guild_id=GUILD, member={"user": person, "roles": [], "nick": None})
    else:
        body["user"] = person
    if data is not None:
        body["data"] = data
    if message is not None:
        body["message"] = message
    return body


def slash(name: str, options: list | None = None, **kw) -> dict:
    return interaction(2, {"id": "771825006014889984", "name": name, "type": 1, "options": options or []}, **kw)


def opt(name: str, value) -> dict:
    return {"name": name, "type": 3, "value": value}


def sub(name: str, options: list | None = None) -> dict:
    return {"name": name, "type": 1, "options": options or []}


def convert(content: str, author: str = BO, written_at: float | None = None, **kw) -> dict:
    target = snowflake(written_at)
    return interaction(2, {"id": "866818195033292851", "name": "Convert times", "type": 3, "target_id": target,
                           "resolved": {"messages": {target: {"id": target, "content": content, "channel_id": CHANNEL,
                                                              "author": {"id": author, "username": "bo"}}}}}, **kw)


def press(custom_id: str, user: str = MASON, name: str = "Mason", flags: int = 0, **kw) -> dict:
    return interaction(3, {"component_type": 2, "custom_id": custom_id}, user=user, name=name,
                       message={"id": snowflake(), "channel_id": CHANNEL, "content": "…", "flags": flags}, **kw)


def signed(body: dict | bytes, key: SigningKey = SIGNING_KEY, timestamp: str | None = None) -> tuple[bytes, dict]:
    raw = body if isinstance(body, bytes) else json.dumps(body, separators=(",", ":")).encode()
    stamp = timestamp or str(int(time.time()))
    signature = key.sign(stamp.encode() + raw).signature.hex()
    return raw, {"X-Signature-Ed25519": signature, "X-Signature-Timestamp": stamp}


@pytest.fixture
def discord_api():
    fake = FakeDiscord()
    yield fake
    fake.close()


def discord_env(mongo_uri: str, fake: FakeDiscord, **extra) -> dict:
    return app_env(mongo_uri, DISCORD_PUBLIC_KEY=PUBLIC_KEY, DISCORD_APPLICATION_ID=APPLICATION_ID,
                   DISCORD_BOT_TOKEN=BOT_TOKEN, DISCORD_API_BASE=fake.base, **extra)


class Discord:
    """Speaks to the app as Discord does, and reads answers as a Discord client would show them:
    from the HTTP response, or, when that deferred, from the follow-up edit of the original."""

    def __init__(self, app, fake: FakeDiscord):
        self.app = app
        self.fake = fake

    def post(self, body: dict | bytes, **kw):
        raw, headers = signed(body, **kw)
        return self.app.post("/hooks/discord", raw=raw, headers=headers)

    def respond(self, body: dict) -> dict:
        response = self.post(body)
        assert response.status == 200, (response.status, response.data)
        return json.loads(response.data)

    def answer(self, body: dict) -> tuple[dict, bool]:
        """(the message as shown, private?) for a command or a press."""
        response = self.respond(body)
        if body["type"] == 3:
            assert response["type"] in (4, 6, 7), "a press is answered privately or updates its message"
        if response["type"] in (4, 7):
            data = response["data"]
            return data, bool(data.get("flags", 0) & EPHEMERAL)
        assert response["type"] in (5, 6), response
        private = bool(response.get("data", {}).get("flags", 0) & EPHEMERAL)
        path = f"/webhooks/{APPLICATION_ID}/{body['token']}/messages/@original"
        [edit] = self.fake.wait_for("PATCH", path)
        return edit["body"], private

    def text(self, body: dict) -> str:
        return self.answer(body)[0]["content"]


@pytest.fixture
def discord_app(start_app, mongo_uri, discord_api):
    return start_app(discord_env(mongo_uri, discord_api, INBOX_LEASE_SECONDS=2))


@pytest.fixture
def discord(discord_app, discord_api):
    return Discord(discord_app, discord_api)


def _zone(db, user: str = MASON):
    doc = db.users.find_one({"platform": "discord", "user_id": user})
    return doc and doc.get("tz")


def _today_at(hhmm: str, source: str, target: str) -> datetime:
    day = datetime.now(timezone.utc).astimezone(ZoneInfo(source)).date()
    hour, minute = map(int, hhmm.split(":"))
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=ZoneInfo(source)).astimezone(ZoneInfo(target))


# ---------------------------------------------------------------- the endpoint itself
def test_ping_is_answered_with_pong(discord):
    ping = {"id": snowflake(), "application_id": APPLICATION_ID, "type": 1, "token": "t", "version": 1}
    assert discord.respond(ping) == {"type": 1}


def test_bad_signatures_are_refused(discord, discord_app, start_app, mongo_uri, db):
    ping = {"id": snowflake(), "application_id": APPLICATION_ID, "type": 1, "token": "t", "version": 1}
    raw, headers = signed(ping)
    cases = {
        "missing": {},
        "another key": signed(ping, key=SigningKey.generate())[1],
        "another timestamp": {**headers, "X-Signature-Timestamp": str(int(headers["X-Signature-Timestamp"]) + 1)},
        "not hex": {**headers, "X-Signature-Ed25519": "zz" * 64},
        "short": {**headers, "X-Signature-Ed25519": headers["X-Signature-Ed25519"][:100]},
    }
    for why, given in cases.items():
        response = discord_app.post("/hooks/discord", raw=raw, headers=given)
        assert response.status == 401, why
        assert json.loads(response.data) == {"error": "invalid request signature"}, why
    # Signed over the JSON as Discord wrote it, delivered re-encoded (same meaning, other bytes).
    command = slash("help")
    raw, headers = signed(command)
    reencoded = json.dumps(command, indent=1).encode()
    assert discord_app.post("/hooks/discord", raw=reencoded, headers=headers).status == 401
    assert db.inbox.count_documents({}) == 0, "nothing unsigned reaches the inbox"
    unconfigured = start_app(app_env(mongo_uri))
    refused = unconfigured.post("/hooks/discord", raw=raw, headers=headers)
    assert refused.status == 503 and json.loads(refused.data) == {"error": "discord is not configured"}


def test_bad_bodies_get_clear_answers(discord, discord_app):
    malformed = discord.post(b'{"id": "1", "type": ')
    assert malformed.status == 400 and json.loads(malformed.data)["error"] == "malformed JSON"
    wrong_shape = discord.post({"id": 5, "type": "two"})
    assert wrong_shape.status == 400 and "error" in json.loads(wrong_shape.data)
    huge = discord.post(b'{"id": "1", "type": 1, "pad": "' + b"x" * 70_000 + b'"}')
    assert huge.status == 413
    assert discord_app.get("/health").status == 200 and "Traceback" not in discord_app.logs()


@pytest.mark.parametrize("body", [
    interaction(2, {"id": "1", "name": "Show zone", "type": 2, "target_id": MASON}),  # a user command
    interaction(5, {"custom_id": "modal", "components": []}),  # a modal submit
    interaction(9, {}),  # a kind that does not exist yet
    slash("weather"),  # a command we never registered
], ids=["user-command", "modal", "unknown-type", "unknown-command"])
def test_what_we_do_not_support_gets_a_polite_private_answer(discord, discord_app, body):
    response = discord.respond(body)
    assert response["type"] == 4 and response["data"]["flags"] == EPHEMERAL
    assert "can't do that" in response["data"]["content"]
    assert "Traceback" not in discord_app.logs()


# ---------------------------------------------------------------- commands
def test_tz_sets_and_shows_the_zone_privately(discord, db):
    message, private = discord.answer(slash("tz", [opt("zone", "Berlin")]))
    assert private and "Europe/Berlin" in message["content"]
    assert message["allowed_mentions"] == {"parse": []}
    assert _zone(db) == "Europe/Berlin"
    message, private = discord.answer(slash("tz"))
    assert private and "Europe/Berlin" in message["content"]


def test_tz_without_a_zone_offers_a_private_link_button(discord):
    message, private = discord.answer(slash("tz"))
    assert private
    [button] = message["components"][0]["components"]
    assert button["style"] == 5 and button["url"].startswith("http://verify.example.test/verify?token=")


def test_time_zones_mute_format_forget_help(discord, db):
    discord.answer(slash("tz", [opt("zone", "Europe/Berlin")]))
    added, private = discord.answer(slash("zones", [sub("add", [opt("zone", "Asia/Tokyo")])]))
    assert "Asia/Tokyo" in added["content"] and not private, "everyone in the channel sees a change to its zones"
    listing = discord.text(slash("zones", [sub("list")]))
    assert "Europe/Berlin" in listing and "Mason" in listing and "Asia/Tokyo" in listing

    converted, private = discord.answer(slash("time", [opt("text", "15:30")]))
    tokyo = _today_at("15:30", "Europe/Berlin", "Asia/Tokyo")
    assert not private and f"{tokyo:%H:%M}" in converted["content"] and "Tokyo" in converted["content"]
    assert "Tokyo" in discord.text(slash("time")), "/time alone shows now in every zone"

    assert "Muted" in discord.text(slash("mute"))
    assert db.chats.find_one({"platform": "discord", "chat_id": CHANNEL})["muted"] is True
    assert "Unmuted" in discord.text(slash("unmute"))
    assert "3:30 PM" in discord.text(slash("format", [opt("style", "12h")]))
    twelve = discord.text(slash("time", [opt("text", "15:30")]))
    assert " PM" in twelve or " AM" in twelve, twelve

    removed = discord.text(slash("zones", [sub("remove", [opt("zone", "Asia/Tokyo")])]))
    assert "Removed" in removed
    help_text, private = discord.answer(slash("help"))
    assert private and all(c in help_text["content"] for c in ("/tz", "/time", "/zones", "/mute", "/format", "/forget"))

    gone, private = discord.answer(slash("forget"))
    assert private and "deleted" in gone["content"] and _zone(db) is None


def test_user_text_is_escaped_and_mentions_are_off(discord):
    message, _ = discord.answer(slash("tz", [opt("zone", "@everyone **Nowhere**")]))
    assert "@everyone" not in message["content"].replace("\\@everyone", ""), message["content"]
    assert "\\*\\*Nowhere\\*\\*" in message["content"]
    assert message["allowed_mentions"] == {"parse": []}


def test_autocomplete_suggests_cities_and_zones(discord):
    body = interaction(4, {"id": "1", "name": "tz", "type": 1,
                           "options": [{"name": "zone", "type": 3, "value": "Berl", "focused": True}]})
    response = discord.respond(body)  # how fast: bench/bench_discord.py
    assert response["type"] == 8
    values = [c["value"] for c in response["data"]["choices"]]
    assert "Europe/Berlin" in values and len(values) <= 25
    nested = interaction(4, {"id": "1", "name": "zones", "type": 1, "options": [
        {"name": "add", "type": 1, "options": [{"name": "zone", "type": 3, "value": "Asia/Tok", "focused": True}]}]})
    assert "Asia/Tokyo" in [c["value"] for c in discord.respond(nested)["data"]["choices"]]


# ---------------------------------------------------------------- "Convert times"
def test_convert_times_answers_privately_in_the_pressers_zone(discord, db):
    discord.answer(slash("tz", [opt("zone", "Asia/Tokyo")]))
    message, private = discord.answer(convert("meet at 15:00 CET?"))
    assert private, "only the presser sees it"
    written = _today_at("15:00", "Europe/Paris", "Asia/Tokyo")
    assert f"{written:%H:%M}" in message["content"] and "Tokyo" in message["content"]


def test_convert_times_without_a_zone(discord, db):
    """The presser never set a zone: a time with its zone written is still converted for them,
    and one without gets them a private link to set theirs (never a public one)."""
    discord.answer(slash("zones", [sub("add", [opt("zone", "Asia/Tokyo")])]))
    message, private = discord.answer(convert("standup 10:00 CET"))
    tokyo = _today_at("10:00", "Europe/Paris", "Asia/Tokyo")
    assert private and f"{tokyo:%H:%M}" in message["content"] and "Tokyo" in message["content"]
    message, private = discord.answer(convert("standup at 10"))
    assert private
    [button] = message["components"][0]["components"]
    assert button["style"] == 5 and button["url"].startswith("http://verify.example.test/verify?token=")
    assert _zone(db) is None, "converting never sets anyone's zone"


# ---------------------------------------------------------------- buttons
def test_a_choice_is_made_by_its_owner_only(discord, db):
    choices, private = discord.answer(slash("tz", [opt("zone", "Springfield")]))
    assert private
    rows = choices["components"]
    assert 2 <= len(rows) <= 5
    first = rows[0]["components"][0]
    assert first["custom_id"].startswith(f"tz:{MASON}:") and first["style"] in (1, 2)
    chosen = first["custom_id"].split(":", 2)[2]

    other = discord.respond(press(first["custom_id"], user=BO, name="Bo"))
    assert other["type"] == 4 and other["data"]["flags"] == EPHEMERAL and "someone else" in other["data"]["content"]
    assert _zone(db, BO) is None and _zone(db) is None

    owner, _ = discord.answer(press(first["custom_id"], flags=EPHEMERAL))
    assert chosen in owner["content"] and owner["components"] == [], "the choice replaces the buttons"
    assert _zone(db) == chosen


def test_a_public_verification_button_gives_each_presser_their_own_link(discord):
    message, private = discord.answer(slash("time", [opt("text", "15:30")]))
    assert not private
    [button] = message["components"][0]["components"]
    assert "url" not in button and button["custom_id"].startswith(f"start:tz{CHANNEL}_"), "no personal link in public"
    link, private = discord.answer(press(button["custom_id"], user=BO, name="Bo"))
    assert private
    [mine] = link["components"][0]["components"]
    assert mine["style"] == 5 and mine["url"].startswith("http://verify.example.test/verify?token=")


def test_relocation_buttons_arrive_as_buttons(discord, db):
    db.users.insert_one({"platform": "discord", "user_id": MASON, "tz": "Europe/Berlin"})
    update = discord.respond(press(f"move:{MASON}:Europe/Lisbon"))
    assert update["type"] in (6, 7)
    wait_for(lambda: _zone(db) == "Europe/Lisbon", what="the zone to switch")


# ---------------------------------------------------------------- delivery
def test_duplicate_delivery_gets_one_answer(discord, discord_api, db):
    body = slash("tz", [opt("zone", "Lisbon")])
    first = discord.respond(body)
    second = discord.respond(body)
    assert second["type"] == 5, "a redelivery only acknowledges; it never posts a second answer"
    assert db.inbox.count_documents({"event_id": body["id"]}) == 1
    wait_for(lambda: db.inbox.find_one({"event_id": body["id"]})["state"] == "done", 15, what="the item to be done")
    time.sleep(0.5)
    edits = discord_api.matching("PATCH", "/messages/@original")
    assert len(edits) == (0 if first["type"] == 4 else 1)
    assert discord_api.matching("POST") == []


@pytest.fixture
def slow_db(mongo_server):
    proxy = SlowProxy(mongo_server.port)
    yield proxy
    proxy.close()


def test_a_slow_database_defers_and_the_answer_follows(start_app, mongo_uri, discord_api, slow_db, db):
    slowed = mongo_uri.replace(f":{slow_db.upstream_port}/", f":{slow_db.port}/")
    app = start_app(discord_env(slowed, discord_api))
    discord = Discord(app, discord_api)
    slow_db.delay = 0.8  # every database round trip now takes at least 0.8 s
    body = slash("tz", [opt("zone", "Europe/Lisbon")])
    response = discord.respond(body)  # how soon: bench/bench_discord.py
    assert response == {"type": 5, "data": {"flags": EPHEMERAL}}, "deferred, privately"
    [edit] = discord_api.wait_for("PATCH", f"/webhooks/{APPLICATION_ID}/{body['token']}/messages/@original", timeout=30)
    assert "Europe/Lisbon" in edit["body"]["content"]
    assert "flags" not in edit["body"] and edit["authorization"] == f"Bot {BOT_TOKEN}"
    assert edit["user_agent"].startswith("DiscordBot (")
    slow_db.delay = 0.0
    wait_for(lambda: (db.inbox.find_one({"event_id": body["id"]}) or {}).get("state") == "done", 15, what="done")
    assert len(discord_api.matching("PATCH")) == 1


def test_an_expired_token_is_logged_and_dropped(start_app, mongo_uri, discord_api, slow_db):
    slowed = mongo_uri.replace(f":{slow_db.upstream_port}/", f":{slow_db.port}/")
    app = start_app(discord_env(slowed, discord_api))
    slow_db.delay = 1.6  # the inbox write alone outlasts the 1.5 s the response waits
    body = slash("help", at=time.time() - 16 * 60)  # made 16 minutes ago: its token is dead
    assert Discord(app, discord_api).respond(body)["type"] == 5
    wait_for(lambda: "token expired" in app.logs(), 30, what="the drop to be logged")
    assert discord_api.calls == []
    assert body["token"] not in app.logs() and body["id"] in app.logs()


def test_429_waits_retry_after_and_a_dead_webhook_is_dropped(start_app, mongo_uri, discord_api, slow_db):
    slowed = mongo_uri.replace(f":{slow_db.upstream_port}/", f":{slow_db.port}/")
    app = start_app(discord_env(slowed, discord_api))
    discord = Discord(app, discord_api)
    slow_db.delay = 1.6  # the inbox write alone outlasts the 1.5 s the response waits
    discord_api.rate_limit_next(0.6)
    body = slash("help")
    assert discord.respond(body)["type"] == 5
    discord_api.wait_for("PATCH", "/messages/@original", timeout=30)
    tries = [c for c in discord_api.calls if c["method"] == "PATCH"]
    assert [c["status"] for c in tries] == [429, 200]
    assert tries[1]["at"] - tries[0]["at"] >= 0.55, "the retry waited for retry_after"

    discord_api.answer_next(404, {"message": "Unknown Webhook", "code": 10015})
    gone = slash("help")
    assert discord.respond(gone)["type"] == 5
    wait_for(lambda: f"interaction={gone['id']}: token expired or unknown" in app.logs(), 30, what="the drop")
    time.sleep(1.0)
    assert len([c for c in discord_api.calls if c["path"].endswith(f"{gone['token']}/messages/@original")]) == 1


# ---------------------------------------------------------------- registration
def test_discord_commands_registers_everywhere_and_prints_the_install_links(discord_api, mongo_uri):
    env = discord_env(mongo_uri, discord_api)
    done = subprocess.run([sys.executable, "app.py", "discord-commands", "--guild", GUILD], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    [call] = discord_api.calls
    assert call["method"] == "PUT" and call["path"] == f"/api/v10/applications/{APPLICATION_ID}/guilds/{GUILD}/commands"
    assert call["authorization"] == f"Bot {BOT_TOKEN}"
    names = {c["name"]: c for c in call["body"]}
    assert set(names) == {"time", "tz", "zones", "mute", "unmute", "format", "forget", "help", "hours", "overlap",
                          "notices", "Convert times"}
    assert [o["name"] for o in names["overlap"]["options"]] == ["duration", "days"]
    assert "unlearn" in [o["name"] for o in names["zones"]["options"]], "what \u274c taught is cleared here"
    assert names["Convert times"]["type"] == 3
    assert all(c["integration_types"] == [0, 1] and c["contexts"] == [0, 1, 2] for c in call["body"])
    assert names["tz"]["options"][0]["autocomplete"] is True
    assert f"client_id={APPLICATION_ID}" in done.stdout and "integration_type=1" in done.stdout
    assert "permissions=68608" in done.stdout, "a server install asks to see, send and reply, nothing more"
    everywhere = subprocess.run([sys.executable, "app.py", "discord-commands"], cwd=ROOT, env=env,
                                capture_output=True, text=True, timeout=60)
    assert everywhere.returncode == 0 and discord_api.calls[-1]["path"] == f"/api/v10/applications/{APPLICATION_ID}/commands"
    discord_api.answer_next(401, {"message": "401: Unauthorized", "code": 0})
    refused = subprocess.run([sys.executable, "app.py", "discord-commands"], cwd=ROOT, env=env,
                             capture_output=True, text=True, timeout=60)
    assert refused.returncode == 1 and "Unauthorized" in refused.stderr and BOT_TOKEN not in refused.stderr


def test_hours_overlap_and_notices_as_slash_commands(discord, db):
    discord.answer(slash("tz", [opt("zone", "Europe/Lisbon")]))
    bo = slash("tz", [opt("zone", "America/New_York")], user=BO)
    bo["member"]["user"].update(username="bo", global_name="Bo")
    discord.answer(bo)
    said, private = discord.answer(slash("hours", [opt("hours", "10-19 mon-thu")]))
    assert private and "10:00" in said["content"] and "19:00" in said["content"], said
    user = db.users.find_one({"platform": "discord", "user_id": MASON})
    assert user["hours"], "the hours are stored with the user"

    windows, private = discord.answer(slash("overlap", [opt("duration", "1h"), opt("days", "3")]))
    text = windows["content"]
    assert not private and "1 h when all 2 are at work" in text, text
    assert "<t:" in text, "each window is also a moment on the reader's own clock"
    assert "Lisbon" in text and "New York" in text

    off = discord.text(slash("notices", [opt("state", "off")]))
    assert "Notices off" in off
    assert db.chats.find_one({"platform": "discord", "chat_id": CHANNEL})["notices"] is False
