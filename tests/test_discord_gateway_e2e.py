"""Discord over the Gateway, end to end: `python app.py discord-gateway` in child processes,
connected (by configuration alone: DISCORD_API_BASE's GET /gateway/bot names the Gateway) to a
fake Gateway (a real websocket server on loopback) and answering through the fake REST API, with
the inbox, the reply store and the lease in a real MongoDB-compatible server."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid

import pytest

from conftest import OUTPUT, ROOT, app_env, wait_for
from fakes.discord import APPLICATION_ID, BOT_TOKEN, FakeDiscord
from fakes.discord_gateway import FakeGateway, message
from test_discord_e2e import PUBLIC_KEY, Discord, opt, slash, snowflake

GUILD = "290926798626357999"
CHANNEL = "645027906669510667"
MASON, BO, CAT = "53908232506183680", "53908232506183999", "53908232506184111"
LEASE = 3  # seconds: a dead copy is replaced within about 4 s
GUILDS, GUILD_MEMBERS, GUILD_MESSAGES, DIRECT_MESSAGES, MESSAGE_CONTENT = 1, 2, 1 << 9, 1 << 12, 1 << 15
GUILD_MESSAGE_REACTIONS, DIRECT_MESSAGE_REACTIONS = 1 << 10, 1 << 13  # a ❌ on our reply: "not a time"
NEEDED = GUILDS | GUILD_MESSAGES | DIRECT_MESSAGES | MESSAGE_CONTENT | GUILD_MESSAGE_REACTIONS | DIRECT_MESSAGE_REACTIONS


class GatewayProcess:
    def __init__(self, env: dict):
        self.env = env
        self.log_path = OUTPUT / f"gateway-{uuid.uuid4().hex[:8]}.log"
        self.process: subprocess.Popen | None = None

    def start(self) -> GatewayProcess:
        OUTPUT.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "ab") as log:  # the child keeps its own copy of the descriptor
            self.process = subprocess.Popen([sys.executable, "app.py", "discord-gateway"], cwd=ROOT, env=self.env,
                                            stdout=log, stderr=subprocess.STDOUT)
        return self

    @property
    def pid(self) -> int:
        return self.process.pid

    def logs(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self) -> int | None:
        if self.alive():
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode if self.process else None

    def kill(self) -> None:
        if self.alive():
            os.kill(self.process.pid, signal.SIGKILL)
            self.process.wait()


@pytest.fixture
def discord_api():
    fake = FakeDiscord()
    yield fake
    fake.close()


@pytest.fixture
def gateway(discord_api):
    fake = FakeGateway(BOT_TOKEN, APPLICATION_ID, heartbeat_ms=1000, guilds=(GUILD,))
    discord_api.gateway_url = fake.url
    yield fake
    fake.close()


def gateway_env(mongo_uri: str, discord_api: FakeDiscord, **extra) -> dict:
    return app_env(mongo_uri, DISCORD_APPLICATION_ID=APPLICATION_ID, DISCORD_BOT_TOKEN=BOT_TOKEN,
                   DISCORD_API_BASE=discord_api.base, DISCORD_GATEWAY_LEASE_SECONDS=LEASE, INBOX_LEASE_SECONDS=2,
                   TEAM_TIMEZONES="America/New_York", **extra)


@pytest.fixture
def start_gateway(mongo_uri, discord_api):
    started: list[GatewayProcess] = []

    def start(**extra) -> GatewayProcess:
        process = GatewayProcess(gateway_env(mongo_uri, discord_api, **extra)).start()
        started.append(process)
        return process

    yield start
    for process in started:
        process.stop()


def connected(fake: FakeGateway, sessions: int = 1, timeout: float = 20.0):
    return fake.wait(lambda g: len(g.live) == sessions and g.identifies, timeout, f"{sessions} live session(s)")


def channel_posts(api: FakeDiscord, channel: str = CHANNEL) -> list[dict]:
    return api.matching("POST", f"/channels/{channel}/messages")


def say(fake: FakeGateway, text: str, author: str = MASON, name: str = "Mason", **extra) -> str:
    message_id = snowflake()
    fake.dispatch("MESSAGE_CREATE", message(text, CHANNEL, author, name, guild=GUILD, message_id=message_id, **extra))
    return message_id


def set_zone(db, user: str, tz: str) -> None:
    db.users.update_one({"platform": "discord", "user_id": user}, {"$set": {"tz": tz, "source": "command"}}, upsert=True)


def answered(api: FakeDiscord, count: int, timeout: float = 15.0) -> list[dict]:
    api.wait_for("POST", f"/channels/{CHANNEL}/messages", count, timeout)
    return channel_posts(api)


def quiet_for(seconds: float, check) -> None:
    """`check` keeps holding for `seconds` (what a user would see: nothing more arrives)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        check()
        time.sleep(0.1)
    check()


# ---------------------------------------------------------------- one message, one reply
def test_a_time_in_a_channel_gets_one_reply_even_when_redelivered_after_a_resume(
        gateway, discord_api, start_gateway, db):
    set_zone(db, MASON, "Europe/Berlin")
    process = start_gateway()
    connected(gateway)
    assert gateway.identifies == [NEEDED | GUILD_MEMBERS], "only the intents it needs (members: for leaving)"
    first = say(gateway, "standup at 15:30 tomorrow?")
    [reply] = answered(discord_api, 1)
    body = reply["body"]
    assert body["message_reference"] == {"message_id": first, "fail_if_not_exists": False}, "a Discord reply"
    assert body["allowed_mentions"] == {"parse": []}, "nobody is pinged"
    assert "New York" in body["content"] and "Berlin" in body["content"], body["content"]
    assert reply["authorization"] == f"Bot {BOT_TOKEN}"

    # The connection drops; on RESUME the fake replays the message the client had already seen.
    gateway.disconnect(code=4000, redeliver=1)
    gateway.wait(lambda g: g.resumes == 1 and g.live, 20, "a RESUME")
    second = say(gateway, "and lunch at 12:00")
    replies = answered(discord_api, 2)
    quiet_for(1.5, lambda: len(channel_posts(discord_api)) == 2 or pytest.fail(
        f"a redelivered message was answered again: {[c['body']['content'] for c in channel_posts(discord_api)]}"))
    assert [r["body"]["message_reference"]["message_id"] for r in replies] == [first, second]
    assert gateway.identifies == [NEEDED | GUILD_MEMBERS], "resumed, not identified again"
    logs = process.logs()
    assert "discord gateway: connected" in logs and "disconnected" in logs
    assert "session resumed" in logs and "reconnected after" in logs, logs[-3000:]
    assert "standup" not in logs and BOT_TOKEN not in logs, "no message text or token in the logs"
    assert db.inbox.count_documents({"platform": "discord", "event_id": first}) == 1


@pytest.mark.parametrize("case", [
    dict(text="deploy at 15:30 done", author_extra={"bot": True}, why="bots (ours included) are never answered"),
    dict(text="", why="no text (Message Content intent missing, or an image alone)"),
    dict(text="```\ncron 15:30 daily\n```", why="a code block"),
    dict(text="`at 15:30`", why="inline code"),
    dict(text="> lunch at 12:00\nsounds good", why="a quoted line was converted when it was written"),
    dict(text="/time 15:30", why="text that looks like a command: Discord's commands are interactions"),
    dict(text="v15.30 is out, build 12:00:00Z", extra={"webhook_id": "777"}, why="a webhook's post"),
    dict(text="joined at 15:30", extra={"type": 7}, why="a system message (member joined)"),
], ids=lambda case: case["why"][:30])
def test_what_is_left_alone(gateway, discord_api, start_gateway, db, case):
    set_zone(db, MASON, "Europe/Berlin")
    start_gateway()
    connected(gateway)
    data = message(case["text"], CHANNEL, MASON, guild=GUILD, message_id=snowflake(), **case.get("extra", {}))
    data["author"].update(case.get("author_extra", {}))
    gateway.dispatch("MESSAGE_CREATE", data)
    say(gateway, "sync at 09:45")  # a message that is answered, to know the one before was read
    [reply] = answered(discord_api, 1)
    assert reply["body"]["message_reference"]["message_id"] != data["id"], case["why"]
    quiet_for(0.5, lambda: len(channel_posts(discord_api)) == 1 or pytest.fail(case["why"]))


def test_a_dm_is_answered_in_the_dm(gateway, discord_api, start_gateway, db):
    set_zone(db, MASON, "Europe/Berlin")
    start_gateway()
    connected(gateway)
    dm = "1300000000000000001"
    gateway.dispatch("MESSAGE_CREATE", message("call at 18:00 New York time?", dm, MASON, message_id=snowflake()))
    [reply] = discord_api.wait_for("POST", f"/channels/{dm}/messages")
    assert "Berlin" in reply["body"]["content"] or "<t:" in reply["body"]["content"]


# ---------------------------------------------------------------- settings made with commands
@pytest.fixture
def web(start_app, mongo_uri, discord_api):
    app = start_app(app_env(mongo_uri, DISCORD_PUBLIC_KEY=PUBLIC_KEY, DISCORD_APPLICATION_ID=APPLICATION_ID,
                            DISCORD_BOT_TOKEN=BOT_TOKEN, DISCORD_API_BASE=discord_api.base,
                            DISCORD_GATEWAY_LEASE_SECONDS=LEASE, TEAM_TIMEZONES="America/New_York"))
    return Discord(app, discord_api)


def test_mute_and_format_set_with_slash_commands_apply_to_channel_messages(gateway, discord_api, start_gateway,
                                                                           web, db):
    set_zone(db, MASON, "Europe/Berlin")
    start_gateway()
    connected(gateway)
    web.text(slash("mute", channel=CHANNEL))
    muted = say(gateway, "standup at 15:30")
    wait_for(lambda: (db.inbox.find_one({"event_id": muted}) or {}).get("state") == "done", 10,
             what="the message written while muted to be handled")
    web.text(slash("unmute", channel=CHANNEL))
    web.text(slash("format", [opt("style", "24h")], channel=CHANNEL))
    say(gateway, "demo at 3pm")
    [reply] = answered(discord_api, 1)
    assert "15:00" in reply["body"]["content"] and "PM" not in reply["body"]["content"], reply["body"]["content"]
    quiet_for(0.5, lambda: len(channel_posts(discord_api)) == 1 or pytest.fail("a muted channel was answered"))


# ---------------------------------------------------------------- edits follow
def test_an_edit_edits_our_reply_and_removing_the_time_removes_it(gateway, discord_api, start_gateway, db):
    set_zone(db, MASON, "Europe/Berlin")
    start_gateway()
    connected(gateway)
    original = say(gateway, "standup at 15:30")
    [reply] = answered(discord_api, 1)
    wait_for(lambda: (db.replies.find_one({"platform": "discord", "message_id": original}) or {}).get("reply_id"),
             10, what="the reply store to hold our reply's id")
    reply_id = db.replies.find_one({"platform": "discord", "message_id": original})["reply_id"]
    edited = message("standup at 16:45", CHANNEL, MASON, guild=GUILD, message_id=original,
                     edited_timestamp="2026-07-20T12:05:00.000000+00:00")
    gateway.dispatch("MESSAGE_UPDATE", edited)
    [edit] = discord_api.wait_for("PATCH", f"/channels/{CHANNEL}/messages/{reply_id}")
    assert "16:45" in edit["body"]["content"] and "15:30" not in edit["body"]["content"], edit["body"]["content"]
    assert edit["body"]["allowed_mentions"] == {"parse": []} and "message_reference" not in edit["body"]
    time.sleep(3.2)  # our reply changes at most every 3 s (an edit sooner waits its turn)
    gone = message("standup moved, see thread", CHANNEL, MASON, guild=GUILD, message_id=original,
                   edited_timestamp="2026-07-20T12:09:00.000000+00:00")
    gateway.dispatch("MESSAGE_UPDATE", gone)
    discord_api.wait_for("DELETE", f"/channels/{CHANNEL}/messages/{reply_id}", timeout=20)
    assert len(channel_posts(discord_api)) == 1, "edits never post a second reply"


def test_a_cross_on_our_reply_deletes_it_and_the_shape_stays_silent_in_that_channel(gateway, discord_api, start_gateway,
                                                                                    db):
    set_zone(db, MASON, "Europe/Berlin")
    set_zone(db, BO, "America/New_York")
    start_gateway()
    connected(gateway)
    say(gateway, "hi", author=BO)  # Bo is a member here: his zone counts
    original = say(gateway, "the 3:16 train is back")
    answered(discord_api, 1)
    wait_for(lambda: (db.replies.find_one({"platform": "discord", "message_id": original}) or {}).get("reply_id"),
             10, what="the reply store to hold our reply's id")
    reply_id = db.replies.find_one({"platform": "discord", "message_id": original})["reply_id"]
    gateway.dispatch("MESSAGE_REACTION_ADD", {"user_id": BO, "channel_id": CHANNEL, "message_id": reply_id,
                                              "guild_id": GUILD, "emoji": {"id": None, "name": "\u274c"},
                                              "member": {"user": {"id": BO, "username": "bo"}}})
    discord_api.wait_for("DELETE", f"/channels/{CHANNEL}/messages/{reply_id}")
    say(gateway, "the 4:05 train is back")
    say(gateway, "sync at 15:30")
    posts = answered(discord_api, 2)
    assert "15:30" in posts[1]["body"]["content"], "the 4:05 train got no reply; a real time still does"


# ---------------------------------------------------------------- members leaving
def test_someone_who_leaves_the_server_leaves_its_zone_lists(gateway, discord_api, start_gateway, db):
    set_zone(db, MASON, "Europe/Berlin")
    set_zone(db, BO, "Asia/Tokyo")
    start_gateway()
    connected(gateway)
    say(gateway, "hi all", author=BO, name="Bo")  # Bo is seen in the channel
    wait_for(lambda: BO in ((db.chats.find_one({"platform": "discord", "chat_id": CHANNEL}) or {}).get("members") or {}),
             10, what="Bo to be a member of the channel")
    say(gateway, "review at 10:00")
    [before] = answered(discord_api, 1)
    assert "Tokyo" in before["body"]["content"], before["body"]["content"]
    gateway.dispatch("GUILD_MEMBER_REMOVE", {"guild_id": GUILD, "user": {"id": BO, "username": "bo"}})
    wait_for(lambda: BO not in ((db.chats.find_one({"platform": "discord", "chat_id": CHANNEL}) or {}).get("members")
                                or {}), 10, what="Bo to leave the channel's members")
    say(gateway, "review at 11:00")
    after = answered(discord_api, 2)[-1]
    assert "Tokyo" not in after["body"]["content"], "someone who left no longer counts"


def test_without_the_server_members_intent_it_connects_without_it(gateway, discord_api, start_gateway, db):
    gateway.allowed_intents = NEEDED  # the Server Members switch is off in the Developer Portal
    set_zone(db, MASON, "Europe/Berlin")
    process = start_gateway()
    connected(gateway)
    assert gateway.refused == 1 and gateway.identifies == [NEEDED]
    say(gateway, "standup at 15:30")
    answered(discord_api, 1)
    assert "Server Members intent is not enabled" in process.logs()


# ---------------------------------------------------------------- one session per bot
def _holder_pid(db) -> int:
    doc = wait_for(lambda: db.leases.find_one({"_id": f"discord-gateway:{APPLICATION_ID}"}), 10, what="the lease")
    return int(doc["holder"].split(":")[1])


def test_two_copies_keep_one_session_and_the_second_takes_over_when_the_first_is_killed(
        gateway, discord_api, start_gateway, db):
    set_zone(db, MASON, "Europe/Berlin")
    one, two = start_gateway(), start_gateway()
    connected(gateway)
    quiet_for(LEASE * 1.5, lambda: len(gateway.identifies) == 1 or pytest.fail(
        f"two sessions for one bot: {gateway.identifies}"))
    say(gateway, "standup at 15:30")
    answered(discord_api, 1)
    quiet_for(1.0, lambda: len(channel_posts(discord_api)) == 1 or pytest.fail("answered twice"))

    holder = {one.pid: one, two.pid: two}[_holder_pid(db)]
    standby = two if holder is one else one
    killed_at = time.monotonic()
    holder.kill()
    gateway.wait(lambda g: len(g.identifies) == 2 and len(g.live) == 1, 60, "the standby copy to take over")
    took = time.monotonic() - killed_at
    assert took < LEASE * 4 / 3 + 5, f"took over after {took:.1f}s"
    say(gateway, "lunch at 12:00")
    answered(discord_api, 2)
    assert standby.alive() and "lease discord-gateway" in standby.logs() and "taken by" in standby.logs()


def test_ready_reports_the_gateway_heartbeat(gateway, discord_api, start_gateway, web):
    def state() -> str:
        return json.loads(web.app.get("/ready").data)["discord_gateway"]

    assert state() == "off", "no gateway worker has ever run"
    process = start_gateway()
    connected(gateway)
    wait_for(lambda: state() == "ok", 15, what="/ready to say ok")
    process.kill()
    wait_for(lambda: state() == "stale", LEASE * 3, what="/ready to say stale after the worker died")
    again = start_gateway()
    wait_for(lambda: state() == "ok", 30, what="/ready to say ok again")
    assert again.stop() == 0
    wait_for(lambda: state() == "off", 10, what="/ready to say off after a clean stop")


def test_without_a_token_or_database_it_refuses_to_start(mongo_uri, discord_api):
    for env, needs in (
        (app_env(mongo_uri, DISCORD_APPLICATION_ID=APPLICATION_ID), "DISCORD_BOT_TOKEN"),
        ({k: v for k, v in gateway_env(mongo_uri, discord_api).items() if k != "MONGODB_URI"}, "MONGODB_URI"),
    ):
        done = subprocess.run([sys.executable, "app.py", "discord-gateway"], cwd=ROOT, env=env, capture_output=True,
                              text=True, timeout=30)
        assert done.returncode == 2 and needs in done.stderr, (needs, done.stderr)
