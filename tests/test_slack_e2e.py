"""Slack end to end: signed requests in, inbox, worker, Web API calls out to a fake Slack on loopback.

The workspace has members whose zones come from their Slack profiles; nobody sets anything.
"""

from __future__ import annotations

import json
import time
from datetime import datetime, timezone
from urllib.parse import parse_qs, urlparse
from zoneinfo import ZoneInfo

import pytest

from conftest import VERIFY_SECRET, app_env, http, wait_for
from fakes.slack import (
    BOT_TOKEN,
    DATE_TOKEN,
    BOT_USER,
    SIGNING_SECRET,
    FakeSlack,
    command_form,
    edit,
    envelope,
    message,
    press_form,
    shortcut_form,
    signed_headers,
)

CHANNEL = "C0GENERAL1"
ANA, BO, CY, GUEST = "U0ANA00001", "U0BO000001", "U0CY000001", "U0GUEST001"
ZONES = {ANA: "Europe/Berlin", BO: "America/Los_Angeles", CY: "Asia/Tokyo"}


def slack_env(mongo_uri: str, fake: FakeSlack, **extra) -> dict:
    return app_env(mongo_uri, SLACK_SIGNING_SECRET=SIGNING_SECRET, SLACK_BOT_TOKEN=BOT_TOKEN,
                   SLACK_API_BASE=fake.api_base, INBOX_LEASE_SECONDS=2, **extra)


@pytest.fixture
def slack_api():
    fake = FakeSlack()
    fake.add_user(ANA, "Ana", ZONES[ANA])
    fake.add_user(BO, "Bo", ZONES[BO])
    fake.add_user(CY, "Cy", ZONES[CY])
    fake.add_user(GUEST, "Gil", None)  # a guest whose profile has no zone
    fake.add_channel(CHANNEL, [ANA, BO, CY, GUEST])
    yield fake
    assert fake.problems == [], "every call the service made must be one Slack accepts"
    fake.close()


class Slack:
    """Slack's side of the conversation with a running app."""

    def __init__(self, app, fake: FakeSlack):
        self.app = app
        self.fake = fake

    def post(self, path: str, body: bytes, content_type: str, headers: dict | None = None, **sign):
        signed = signed_headers(body, content_type=content_type, **sign)
        return http.request("POST", self.app.base + path, body=body, headers={**signed, **(headers or {})})

    def event(self, event: dict, headers: dict | None = None, **kw):
        body = json.dumps(event if event.get("type") in ("event_callback", "url_verification") else envelope(event)).encode()
        return self.post("/hooks/slack/events", body, "application/json", headers, **kw)

    def command(self, command: str, text: str = "", user: str = ANA, channel: str = CHANNEL, name: str = "ana"):
        before = len(self.fake.sent("response_url"))
        form = command_form(command, text, user, channel, self.fake.response_url(f"cmd{before}"), name)
        response = self.post("/hooks/slack/commands", form, "application/x-www-form-urlencoded")
        assert response.status == 200, response.data
        return response, self.fake.wait_sent(before + 1, "response_url")[before]

    def press(self, value: str, action_id: str, user: str = ANA, name: str = "ana"):
        before = len(self.fake.sent("response_url"))
        form = press_form(value, action_id, user, CHANNEL, self.fake.response_url(f"press{before}"), name=name)
        response = self.post("/hooks/slack/interactive", form, "application/x-www-form-urlencoded")
        assert response.status == 200 and response.data == b"", response.data
        return before


@pytest.fixture
def slack(start_app, mongo_uri, slack_api):
    return Slack(start_app(slack_env(mongo_uri, slack_api)), slack_api)


def _at(hhmm: str, source: str, sent: datetime) -> datetime:
    day = sent.astimezone(ZoneInfo(source)).date()
    hour, minute = map(int, hhmm.split(":"))
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=ZoneInfo(source))


def test_a_time_in_a_channel_gets_one_thread_reply_in_every_members_zone(slack, slack_api, db):
    written = message("sync at 15:30?", ANA, CHANNEL, name="Ana")
    assert slack.event(written).status == 200
    [reply] = slack_api.wait_sent(1)
    assert reply["channel"] == CHANNEL and reply["thread_ts"] == written["ts"], "in the message's thread"
    moment = _at("15:30", ZONES[ANA], datetime.now(timezone.utc))
    text = reply["text"]
    for zone in (ZONES[BO], ZONES[CY]):
        local = moment.astimezone(ZoneInfo(zone))
        assert f"*{local:%H:%M}*" in text, text
    assert "Los Angeles" in text and "Tokyo" in text and "Berlin" in text
    assert text.index("Los Angeles") < text.index("Tokyo"), "zones ordered by UTC offset"
    # Every reader also sees the moment on their own clock: a date token for the very instant.
    tokens = DATE_TOKEN.findall(text)
    assert tokens and {int(unix) for unix, _, _ in tokens} == {int(moment.timestamp())}, text
    # Nobody set anything: the zones came from the profiles, kept with their source.
    stored = {u["user_id"]: (u.get("tz"), u["source"]) for u in db.users.find({"platform": "slack"})}
    assert stored[ANA] == (ZONES[ANA], "slack") and stored[CY] == (ZONES[CY], "slack")
    assert stored[GUEST] == (None, "slack")
    lookups = {m: slack_api.count(m) for m in ("conversations.members", "users.info", "users.list")}
    assert lookups["conversations.members"] == 1

    # The next message costs no Slack lookup at all.
    slack.event(message("and the retro at 17:00", BO, CHANNEL, name="Bo"))
    second = slack_api.wait_sent(2)[1]
    assert "Berlin" in second["text"] and "Tokyo" in second["text"]
    assert {m: slack_api.count(m) for m in lookups} == lookups


def test_a_retried_event_and_its_app_mention_get_one_reply(slack, slack_api):
    written = message(f"<@{BOT_USER}> deploy at 10:00", ANA, CHANNEL, name="Ana")
    first = envelope(written)
    for attempt in range(3):
        headers = {"X-Slack-Retry-Num": str(attempt), "X-Slack-Retry-Reason": "http_timeout"} if attempt else None
        assert slack.event(first, headers).status == 200
    mention = dict(written, type="app_mention")
    mention.pop("channel_type")
    assert slack.event(mention).status == 200  # the same message, under its own event id
    slack_api.wait_sent(1)
    time.sleep(1.0)
    assert len(slack_api.sent()) == 1, "one message, one reply"


def test_signatures_and_timestamps_are_checked(slack, slack_api, start_app, mongo_uri, db):
    body = json.dumps(envelope(message("sync at 15:30", ANA, CHANNEL))).encode()
    path = "/hooks/slack/events"
    cases = [
        ("wrong secret", signed_headers(body, secret="not-the-secret")),
        ("stale", signed_headers(body, timestamp=int(time.time()) - 301)),
        ("future", signed_headers(body, timestamp=int(time.time()) + 301)),
        ("not a number", {**signed_headers(body), "X-Slack-Request-Timestamp": "soon"}),
        ("no signature", {"X-Slack-Request-Timestamp": str(int(time.time())), "Content-Type": "application/json"}),
        ("no headers", {"Content-Type": "application/json"}),
    ]
    for why, headers in cases:
        response = http.request("POST", slack.app.base + path, body=body, headers=headers)
        assert response.status == 401, why
        assert json.loads(response.data)["error"], why
    tampered = signed_headers(body)
    response = http.request("POST", slack.app.base + path, body=body.replace(b"15:30", b"16:30"), headers=tampered)
    assert response.status == 401, "a body changed after signing"
    assert db.inbox.count_documents({}) == 0
    for hook in ("events", "commands", "interactive"):  # any endpoint: unsigned is refused
        assert http.request("POST", f"{slack.app.base}/hooks/slack/{hook}", body=b"x").status == 401

    unconfigured = start_app(app_env(mongo_uri))
    refused = http.request("POST", unconfigured.base + path, body=body, headers=signed_headers(body))
    assert refused.status == 503 and json.loads(refused.data) == {"error": "slack is not configured"}
    no_token = start_app(app_env(mongo_uri, SLACK_SIGNING_SECRET=SIGNING_SECRET))
    assert http.request("POST", no_token.base + path, body=body, headers=signed_headers(body)).status == 503


def test_url_verification_and_ssl_check(slack):
    response = slack.event({"token": "legacy", "challenge": "3eZbrw1aBm2rZgRNFdxV", "type": "url_verification"})
    assert response.status == 200 and json.loads(response.data) == {"challenge": "3eZbrw1aBm2rZgRNFdxV"}
    probe = slack.post("/hooks/slack/commands", b"ssl_check=1&token=legacy", "application/x-www-form-urlencoded")
    assert probe.status == 200 and probe.data == b""


def test_bad_bodies_get_clear_answers(slack, db):
    form = "application/x-www-form-urlencoded"
    cases = [
        ("/hooks/slack/events", b'{"type": "event_callback", "event": ', "application/json", 400),
        ("/hooks/slack/events", b'{"type": 5}', "application/json", 400),
        ("/hooks/slack/events", b"[]", "application/json", 400),
        ("/hooks/slack/events", json.dumps(envelope({"type": "message", "channel": 7})).encode(), "application/json", 400),
        ("/hooks/slack/commands", b"\xff\xfe=1", form, 400),
        ("/hooks/slack/commands", b"command=%2Ftz", form, 400),  # no user, channel, trigger
        ("/hooks/slack/interactive", b"nothing=here", form, 400),
        ("/hooks/slack/interactive", b"payload=%7Bnot+json", form, 400),
        ("/hooks/slack/interactive", b"payload=%7B%22type%22%3A%22block_actions%22%7D", form, 400),  # no user
        ("/hooks/slack/events", b'{"type":"event_callback","event":{"type":"message","text":"\xff"}}',
         "application/json", 400),  # not UTF-8
        ("/hooks/slack/events", b'{"type":"event_callback","event":{"type":"message","x":' + b"[" * 3000 + b"]" * 3000
         + b"}}", "application/json", 400),  # nesting without end, inside a field we never read
        ("/hooks/slack/interactive", b"payload=" + b"%5B" * 3000 + b"%5D" * 3000, form, 400),
        ("/hooks/slack/events", b'{"type":"event_callback","pad":"' + b"x" * 70_000 + b'"}', "application/json", 413),
    ]
    for path, body, content_type, status in cases:
        response = slack.post(path, body, content_type)
        assert response.status == status, (path, body[:60], response.data)
        assert json.loads(response.data)["error"], (path, body[:60])
    assert db.inbox.count_documents({}) == 0
    assert slack.app.get("/health").status == 200
    assert "Traceback" not in slack.app.logs()


def test_what_is_not_for_us_is_acknowledged_and_ignored(slack, slack_api, db):
    ignored = [
        message("sync at 15:30", ANA, CHANNEL, bot_id="B0OTHER"),  # another bot
        message("sync at 15:30", BOT_USER, CHANNEL),  # ourselves
        message("sync at 15:30", ANA, CHANNEL, subtype="channel_join"),
        message("sync at 15:30", ANA, CHANNEL, subtype="bot_message"),
        message("good morning team", ANA, CHANNEL),  # no time
        message("`at 15:30` is in the code", ANA, CHANNEL),
        message("see <https://example.com/at-15:30|the 15:30 notes> and <!date^1784556000^{time}|14:00 UTC>", ANA, CHANNEL),
        message(f"ping <@{BO}> <#C0OTHER001|ops-15-30>", ANA, CHANNEL),
        message("```\ndeploy 15:30\n```", ANA, CHANNEL),
        {"type": "reaction_added", "user": ANA, "reaction": "tada", "item": {"type": "message"}},
    ]
    for event in ignored:
        assert slack.event(event).status == 200, event
    foreign = envelope(message("sync at 15:30", ANA, CHANNEL), team_id="T0SOMEONE9")
    assert slack.event(foreign).status == 200
    assert db.inbox.count_documents({}) == 0
    assert "from another workspace team=T0SOMEONE9" in slack.app.logs()
    # The same sort of message, written plainly, is answered: the filters above are what held it.
    slack.event(message("sync at 15:30", ANA, CHANNEL, name="Ana"))
    slack_api.wait_sent(1)
    time.sleep(0.5)
    assert len(slack_api.sent()) == 1


def test_thread_replies_stay_in_their_thread(slack, slack_api):
    parent = "1784563200.000100"
    slack.event(message("standup moved to 9:30", ANA, CHANNEL, thread_ts=parent, name="Ana"))
    [reply] = slack_api.wait_sent(1)
    assert reply["thread_ts"] == parent


def test_mrkdwn_escapes_what_people_wrote(slack, slack_api, db):
    db.users.insert_one({"platform": "slack", "user_id": ANA, "tz": "Europe/Berlin", "source": "command"})
    # Slack escapes what people type, the core reads it plain, the reply escapes it again.
    _, answer = slack.command("/tz", "Q&amp;A &lt;b&gt;ville")
    assert "\u201cQ&amp;A &lt;b&gt;ville\u201d" in answer["text"], answer["text"]


def test_each_slash_command_answers_privately(slack, slack_api, db):
    response, answer = slack.command("/tz")
    assert response.data == b"", "acknowledged with an empty body"
    assert answer["response_type"] == "ephemeral" and "Europe/Berlin" in answer["text"], "from the profile"

    _, answer = slack.command("/tz", "Lisbon")
    assert "Europe/Lisbon" in answer["text"]
    user = db.users.find_one({"platform": "slack", "user_id": ANA})
    assert (user["tz"], user["source"]) == ("Europe/Lisbon", "command"), "a chosen zone"

    _, answer = slack.command("/time", "15:30")
    assert answer["response_type"] == "ephemeral"
    assert "Tokyo" in answer["text"] and "Los Angeles" in answer["text"], "every member's zone"
    response, shared = slack.command("/time", "15:30 share")
    assert json.loads(response.data) == {"response_type": "in_channel"}
    assert shared["response_type"] == "in_channel" and "Tokyo" in shared["text"]

    _, answer = slack.command("/zones")
    for name in ("Ana", "Bo", "Cy"):
        assert name in answer["text"]
    assert "Zone not set yet: Gil" in answer["text"], "the guest without a zone"
    _, answer = slack.command("/zones", "add Asia/Kolkata")
    assert "Asia/Kolkata" in answer["text"]

    _, answer = slack.command("/tz", "help")
    assert "/tz mute" in answer["text"]
    _, answer = slack.command("/tz", "format 12h")
    assert "3:30 PM" in answer["text"]
    _, answer = slack.command("/tz", "mute")
    assert "Muted" in answer["text"]
    slack.event(message("sync at 15:30", BO, CHANNEL, name="Bo"))
    time.sleep(1.0)
    assert slack_api.sent() == [], "muted"
    _, answer = slack.command("/tz", "unmute")
    assert "Unmuted" in answer["text"]

    _, answer = slack.command("/tz", "auto")
    assert "Europe/Berlin" in answer["text"] and "profile" in answer["text"]
    user = db.users.find_one({"platform": "slack", "user_id": ANA})
    assert (user["tz"], user["source"]) == ("Europe/Berlin", "slack"), "the profile's zone again"
    _, answer = slack.command("/tz", "forget")
    assert "deleted" in answer["text"]
    assert db.users.find_one({"platform": "slack", "user_id": ANA}) is None
    assert slack_api.problems == []


def test_a_chosen_zone_wins_over_profile_changes_until_tz_auto(slack, slack_api, db):
    slack.command("/tz", "America/New_York")
    changed = {"id": ANA, "name": "ana", "tz": "Asia/Kolkata", "profile": {"display_name": "Ana"}}
    slack.event({"type": "user_change", "user": changed})
    bo = {"id": BO, "name": "bo", "tz": "America/Denver", "profile": {"display_name": "Bo"}}
    db.users.insert_one({"platform": "slack", "user_id": BO, "tz": ZONES[BO], "source": "slack"})
    slack.event({"type": "user_change", "user": bo})
    wait_for(lambda: db.users.find_one({"platform": "slack", "user_id": BO})["tz"] == "America/Denver",
             what="Bo's new profile zone")
    assert db.users.find_one({"platform": "slack", "user_id": ANA})["tz"] == "America/New_York"


def test_a_button_press_replaces_the_question(slack, slack_api, db):
    _, question = slack.command("/tz", "Springfield")
    buttons = [e for block in question["blocks"] if block["type"] == "actions" for e in block["elements"]]
    assert 2 <= len(buttons) <= 5 and all(b["action_id"].startswith("press") for b in buttons)
    chosen = buttons[0]["value"].split(":", 2)[2]
    before = slack.press(buttons[0]["value"], buttons[0]["action_id"])
    answer = slack_api.wait_sent(before + 1, "response_url")[before]
    assert answer["replace_original"] is True and chosen in answer["text"]
    assert db.users.find_one({"platform": "slack", "user_id": ANA})["tz"] == chosen
    # Someone else's press changes nothing and says so to them alone.
    before = slack.press(buttons[-1]["value"], buttons[-1]["action_id"], user=BO, name="bo")
    answer = slack_api.wait_sent(before + 1, "response_url")[before]
    assert answer["response_type"] == "ephemeral" and answer["replace_original"] is False
    assert db.users.find_one({"platform": "slack", "user_id": ANA})["tz"] == chosen


def _link_claims(blocks):
    from teamops import tokens

    [link] = [e for block in blocks if block["type"] == "actions" for e in block["elements"]]
    return tokens.check(VERIFY_SECRET, parse_qs(urlparse(link["url"]).query)["token"][0])


def test_a_member_without_a_profile_zone_gets_a_link_of_their_own(slack, slack_api):
    written = message("can we meet at 16:00?", GUEST, CHANNEL, name="Gil")
    slack.event(written)
    [private] = slack_api.wait_sent(1, "chat.postEphemeral")
    assert private["user"] == GUEST and private["channel"] == CHANNEL and "thread_ts" not in private
    claims = _link_claims(private["blocks"])
    assert (claims.p, claims.u, claims.c) == ("slack", GUEST, CHANNEL)
    time.sleep(0.5)
    assert slack_api.sent() == [], "nothing public: the link is Gil's alone"


def test_where_slack_refuses_the_private_answer_the_channel_gets_a_button_for_ones_own_link(slack, slack_api):
    slack_api.fail_next("chat.postEphemeral", 200, retry_after=None, answer={"ok": False, "error": "user_not_in_channel"})
    slack.event(message("can we meet at 16:00?", GUEST, CHANNEL, name="Gil"))
    [prompt] = slack_api.wait_sent(1)
    [button] = [e for block in prompt["blocks"] if block["type"] == "actions" for e in block["elements"]]
    assert "url" not in button, "everyone sees this message: no personal link in it"
    before = slack.press(button["value"], button["action_id"], user=BO, name="bo")
    private = slack_api.wait_sent(before + 1, "response_url")[before]
    assert private["response_type"] == "ephemeral" and private["replace_original"] is False
    claims = _link_claims(private["blocks"])
    assert (claims.u, claims.c) == (BO, CHANNEL), "whoever pressed it gets a link of their own"


def test_joins_and_leaves_keep_the_channel_current(slack, slack_api, db):
    slack.event(message("sync at 15:30", ANA, CHANNEL, name="Ana"))
    slack_api.wait_sent(1)
    slack_api.add_user("U0DEE00001", "Dee", "Australia/Sydney")
    slack.event({"type": "member_joined_channel", "user": "U0DEE00001", "channel": CHANNEL, "channel_type": "C"})
    slack.event({"type": "member_left_channel", "user": CY, "channel": CHANNEL, "channel_type": "C"})
    wait_for(lambda: "U0DEE00001" in db.chats.find_one({"platform": "slack", "chat_id": CHANNEL})["members"],
             what="Dee in the channel")
    wait_for(lambda: CY not in db.chats.find_one({"platform": "slack", "chat_id": CHANNEL})["members"],
             what="Cy gone")
    slack.event(message("and again at 16:00", ANA, CHANNEL, name="Ana"))
    reply = slack_api.wait_sent(2)[1]["text"]
    assert "Sydney" in reply and "Tokyo" not in reply


def test_429_is_waited_out_and_delivered(slack, slack_api):
    slack_api.fail_next("chat.postMessage", 429, retry_after=1)
    started = time.monotonic()
    slack.event(message("deploy at 11:00", ANA, CHANNEL, name="Ana"))
    [reply] = slack_api.wait_sent(1, timeout=15)
    attempts = [c for c in slack_api.calls if c["method"] == "chat.postMessage"]
    assert [c["status"] for c in attempts] == [429, 200]
    assert attempts[1]["at"] - attempts[0]["at"] >= 0.95, "Retry-After was honoured"
    assert time.monotonic() - started < 10 and "Tokyo" in reply["text"]


def test_logs_hold_ids_not_text_or_tokens(slack, slack_api):
    written = message("secret-plan-zebra at 13:00", ANA, CHANNEL, name="Ana")
    slack.event(written)
    slack_api.wait_sent(1)
    slack.command("/time", "zebra-crossing 14:00")
    time.sleep(0.3)
    logs = slack.app.logs()
    assert "slack event=Ev" in logs and f"chat={CHANNEL}" in logs
    assert "zebra" not in logs and BOT_TOKEN not in logs and SIGNING_SECRET not in logs
    assert "/respond/" not in logs, "response_urls are credentials too"


def test_a_big_channel_reads_every_profile_in_one_walk(start_app, mongo_uri, slack_api):
    zones = ["Europe/Lisbon", "America/Sao_Paulo", "Asia/Kolkata", "Australia/Sydney", "Africa/Nairobi"]
    crowd = [f"U0CROWD{n:03d}" for n in range(30)]
    for n, user in enumerate(crowd):
        slack_api.add_user(user, f"Member {n}", zones[n % len(zones)])
    slack_api.add_channel("C0CROWD001", crowd)
    slack = Slack(start_app(slack_env(mongo_uri, slack_api)), slack_api)
    slack.event(message("all hands at 17:00", crowd[0], "C0CROWD001", name="Member 0"))
    [reply] = slack_api.wait_sent(1, timeout=15)
    for place in ("Sao Paulo", "Kolkata", "Sydney", "Nairobi"):
        assert place in reply["text"], reply["text"]
    assert slack_api.count("users.list") >= 1 and slack_api.count("users.info") <= 1, "one walk, not 30 lookups"
    assert slack_api.count("conversations.members") == 1


def test_a_channel_over_the_limit_counts_the_members_seen_writing(start_app, mongo_uri, slack_api, db):
    slack = Slack(start_app(slack_env(mongo_uri, slack_api, SLACK_MAX_CHANNEL_MEMBERS=3)), slack_api)
    slack.event(message("sync at 15:30", ANA, CHANNEL, name="Ana"))  # five members with the bot: too many
    slack.event(message("fine by me, 15:30 works", CY, CHANNEL, name="Cy"))
    replies = slack_api.wait_sent(1)
    time.sleep(1.0)
    chat = db.chats.find_one({"platform": "slack", "chat_id": CHANNEL})
    assert chat["roster"] == "partial" and set(chat["members"]) == {ANA, CY}
    assert len(slack_api.sent()) == 1 and "Berlin" in replies[0]["text"], "Cy's message: Ana's zone, Cy's own"
    assert "Los Angeles" not in replies[0]["text"], "Bo never wrote: not counted in a channel this big"


def test_a_rate_limited_lookup_uses_what_is_stored(start_app, mongo_uri, slack_api, db):
    slack = Slack(start_app(slack_env(mongo_uri, slack_api, TEAM_TIMEZONES="Asia/Tokyo")), slack_api)
    db.users.insert_one({"platform": "slack", "user_id": ANA, "tz": "Europe/Berlin", "source": "command"})
    slack_api.fail_next("conversations.members", 429, retry_after=60)
    slack.event(message("sync at 15:30", ANA, CHANNEL, name="Ana"))
    [reply] = slack_api.wait_sent(1)
    assert "Tokyo" in reply["text"], "the reply goes out with the zones already known"
    slack.event(message("and at 16:00", ANA, CHANNEL, name="Ana"))
    slack_api.wait_sent(2)
    assert slack_api.count("conversations.members") == 1, "the member list is asked again later, not now"
    # Bo is new: his profile lookup is rate-limited for a minute, and no second one goes out.
    slack_api.fail_next("users.info", 429, retry_after=60)
    slack.event(message("16:00 works for me", BO, CHANNEL, name="Bo"))
    slack_api.wait_sent(1, "chat.postEphemeral")  # his zone unknown for now: his link, privately
    slack.event(message("or 16:30", BO, CHANNEL, name="Bo"))
    wait_for(lambda: db.inbox.count_documents({"state": "done"}) == 4, what="all four messages handled")
    assert slack_api.count("users.info") == 1, "no users.info call before its Retry-After is over"


def test_an_edit_updates_our_reply_and_removing_the_time_deletes_it(slack, slack_api):
    written = message("sync at 15:30", ANA, CHANNEL, name="Ana")
    slack.event(written)
    slack_api.wait_sent(1)
    [ours] = slack_api.posted_ts()
    changed = edit(written, "sync at 16:30")
    for _ in range(2):  # Slack's retry of the same edit changes nothing more
        assert slack.event(changed).status == 200
    [update] = slack_api.wait_sent(1, "chat.update")
    moment = _at("16:30", ZONES[ANA], datetime.now(timezone.utc))
    assert update["ts"] == ours and f"*{moment.astimezone(ZoneInfo(ZONES[CY])):%H:%M}*" in update["text"]
    assert f"<!date^{int(moment.timestamp())}^" in update["text"]
    slack.event(edit(changed["message"], "sync later, no time yet"))
    [deleted] = slack_api.wait_sent(1, "chat.delete")
    assert deleted == {"channel": CHANNEL, "ts": ours}
    time.sleep(1.0)
    assert len(slack_api.sent()) == 1 and len(slack_api.sent("chat.update")) == 1


def test_convert_for_me_answers_the_presser_alone_even_when_muted(slack, slack_api):
    slack.command("/tz", "mute")
    written = message("standup at 9:30", BO, CHANNEL, name="Bo")
    slack.event(written)  # muted: no reply
    url = slack_api.response_url("shortcut")
    response = slack.post("/hooks/slack/interactive", shortcut_form(written, ANA, url), "application/x-www-form-urlencoded")
    assert response.status == 200 and response.data == b""
    [private] = slack_api.wait_sent(1, "chat.postEphemeral")
    assert private["user"] == ANA and private["channel"] == CHANNEL
    moment = _at("9:30", ZONES[BO], datetime.now(timezone.utc))
    assert f"*{moment.astimezone(ZoneInfo(ZONES[ANA])):%H:%M}*" in private["text"], "read in Bo's zone, shown in Ana's"
    time.sleep(1.0)
    assert slack_api.sent() == [] and len(slack_api.sent("chat.postEphemeral")) == 1


def test_profiles_and_member_lists_are_read_again_after_a_day(slack, slack_api, db):
    slack.event(message("sync at 15:30", ANA, CHANNEL, name="Ana"))
    slack_api.wait_sent(1)
    lookups = slack_api.count("users.info") + slack_api.count("users.list")
    assert slack_api.count("conversations.members") == 1
    # Bo moved; Slack's profile says so, but what we read is less than a day old: kept.
    slack_api.users[BO]["tz"] = "America/Chicago"
    slack.event(message("and 16:00", ANA, CHANNEL, name="Ana"))
    assert "Los Angeles" in slack_api.wait_sent(2)[1]["text"]
    # A day and a bit later both are read again, and the reply follows.
    from datetime import timedelta

    old = datetime.now(timezone.utc) - timedelta(days=1, minutes=5)
    db.users.update_many({"platform": "slack"}, {"$set": {"profile_at": old}})
    db.chats.update_one({"platform": "slack", "chat_id": CHANNEL}, {"$set": {"roster_at": old}})
    slack.event(message("or 17:00", ANA, CHANNEL, name="Ana"))
    third = slack_api.wait_sent(3)[2]["text"]
    assert "Chicago" in third and "Los Angeles" not in third, third
    assert slack_api.count("conversations.members") == 2
    assert slack_api.count("users.info") + slack_api.count("users.list") > lookups


def test_a_time_only_the_language_model_reads_is_answered_in_the_thread(start_app, mongo_uri, slack_api):
    from fakes.together import FakeTogether

    together = FakeTogether()
    together.answers["nos vemos tres y media"] = {
        "times": [{"span": "tres y media", "time": "15:30", "end": None, "day": None, "zone": None, "zone_span": None}]}
    try:
        env = slack_env(mongo_uri, slack_api, TOGETHER_API_KEY="test-key", TOGETHER_API_BASE=together.base,
                        TOGETHER_MODEL="fake/small", MODEL_TIMEOUT_SECONDS=1, MODEL_BUDGET_SECONDS=2)
        slack = Slack(start_app(env), slack_api)
        written = message("nos vemos tres y media", ANA, CHANNEL, name="Ana")
        slack.event(written)
        [reply] = slack_api.wait_sent(1, timeout=15)
        assert reply["thread_ts"] == written["ts"]
        assert "\u2248 read \u201ctres y media\u201d as 15:30" in reply["text"] and "Tokyo" in reply["text"], reply["text"]
        [call] = together.calls
        assert call["body"]["messages"][1] == {"role": "user", "content": "nos vemos tres y media"}
    finally:
        together.close()


def test_a_cross_on_our_reply_deletes_it_and_the_shape_stays_silent_in_that_channel_only(slack, slack_api):
    other = "C0OTHER0001"
    slack_api.add_channel(other, [ANA, BO, CY])
    slack.event(message("the 3:16 train is back", ANA, CHANNEL, name="Ana"))
    slack_api.wait_sent(1)
    [ours] = slack_api.posted_ts()
    cross = {"type": "reaction_added", "user": BO, "reaction": "x", "item_user": BOT_USER,
             "item": {"type": "message", "channel": CHANNEL, "ts": ours}}
    assert slack.event(cross).status == 200
    [deleted] = slack_api.wait_sent(1, "chat.delete")
    assert deleted == {"channel": CHANNEL, "ts": ours}
    # A ❌ on someone else's message is not about us.
    slack.event({**cross, "item_user": ANA, "item": {"type": "message", "channel": CHANNEL, "ts": "1784563200.000900"}})
    slack.event(message("the 4:05 train is back", ANA, CHANNEL, name="Ana"))
    slack.event(message("the 4:05 train is back", ANA, other, name="Ana"))
    [answered] = slack_api.wait_sent(2)[1:]
    assert answered["channel"] == other, "the same shape is answered in another channel"
    # "not a time" in the thread of a message we answered works as the ❌ does.
    written = message("the 7:45 bus", ANA, other, name="Ana")
    slack.event(written)
    slack_api.wait_sent(3)
    slack.event(message("not a time", BO, other, name="Bo", thread_ts=written["ts"]))
    assert len(slack_api.wait_sent(2, "chat.delete")) == 2
    time.sleep(1.0)
    assert len(slack_api.sent()) == 3 and len(slack_api.sent("chat.delete")) == 2
