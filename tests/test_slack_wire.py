"""handlers/slack.py's pure parts: the signature, reading Slack's text, mapping slash commands."""

from __future__ import annotations

import hashlib
import hmac

import msgspec
import pytest

from handlers.slack import MessageEvent, edit_event, Workspace, command_text, message_event, plain_text, signature_ok

SECRET = b"8f742231b10e8888abcd99yyyzzz85a5"
NOW = 1_784_563_200


def sign(body: bytes, timestamp: int = NOW, secret: bytes = SECRET) -> str:
    return "v0=" + hmac.new(secret, b"v0:%d:" % timestamp + body, hashlib.sha256).hexdigest()


BODY = b"token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&command=%2Ftz&text=Berlin"
SIGNATURES = [
    ("genuine", str(NOW), sign(BODY), BODY, True),
    ("299 s old", str(NOW - 299), sign(BODY, NOW - 299), BODY, True),
    ("301 s old", str(NOW - 301), sign(BODY, NOW - 301), BODY, False),
    ("301 s ahead", str(NOW + 301), sign(BODY, NOW + 301), BODY, False),
    ("another secret", str(NOW), sign(BODY, secret=b"other"), BODY, False),
    ("body changed", str(NOW), sign(BODY), BODY + b"x", False),
    ("timestamp changed", str(NOW + 1), sign(BODY), BODY, False),
    ("no v0= prefix", str(NOW), sign(BODY)[3:], BODY, False),
    ("not a number", "now", sign(BODY), BODY, False),
    ("negative", "-1", sign(BODY), BODY, False),
    ("non-ASCII signature", str(NOW), "v0=\u00e9", BODY, False),
]


@pytest.mark.parametrize("why, timestamp, signature, body, ok", SIGNATURES, ids=[s[0] for s in SIGNATURES])
def test_signature(why, timestamp, signature, body, ok):
    assert signature_ok(SECRET, timestamp, signature, body, NOW) is ok, why


PLAIN = [
    # (Slack's text, what the core reads, why)
    ("sync at 15:30", "sync at 15:30", "plain text stays"),
    ("Q&amp;A &lt;at 3&gt;", "Q&A <at 3>", "escapes undone once"),
    ("&amp;lt;", "&lt;", "a typed entity stays typed"),
    ("<@U0ANA0001> at 15:30", "             at 15:30", "a mention is blanked, the text keeps its length"),
    ("<https://x.io/a|notes at 15:30> ok", " " * 31 + " ok", "a link with its label"),
    ("<!date^1784556000^{time}|14:00 UTC>", " " * 35, "a date token"),
    ("<#C0123|ops-15-30>\nnext", "                  \nnext", "a channel; lines kept"),
    ("_sync at 15:30_ ok", " sync at 15:30  ok", "italics: the marks go, the words stay"),
    ("deploy_at_15_30 and x_1", "deploy_at_15_30 and x_1", "snake_case is not italics"),
]


@pytest.mark.parametrize("text, expected, why", PLAIN, ids=[p[2] for p in PLAIN])
def test_plain_text(text, expected, why):
    assert plain_text(text) == expected, why


COMMANDS = [
    ("/tz", "", ("/tz", False)),
    ("/tz", "Berlin", ("/tz Berlin", False)),
    ("/tz", "auto", ("/tz auto", False)),
    ("/tz", "help", ("/help", False)),
    ("/tz", "MUTE", ("/mute", False)),
    ("/tz", "format  12h", ("/format 12h", False)),
    ("/tz", "forget", ("/forget", False)),
    ("/time", "", ("/time", False)),
    ("/time", "3pm PT tomorrow", ("/time 3pm PT tomorrow", False)),
    ("/time", "15:30 share", ("/time 15:30", True)),
    ("/time", "share", ("/time", True)),
    ("/zones", "add Asia/Tokyo", ("/zones add Asia/Tokyo", False)),
    ("/zones", "add &lt;x&gt;", ("/zones add <x>", False)),
    ("/weather", "", None),
]


@pytest.mark.parametrize("command, text, expected", COMMANDS)
def test_command_text(command, text, expected):
    assert command_text(command, text) == expected


WORKSPACE = Workspace("T1", "U0BOT")
TS = "1784563200.000200"
MESSAGES = [
    # (event fields, answered?, why)
    ({}, True, "a person's message with a time"),
    ({"subtype": "thread_broadcast", "thread_ts": "1784563100.000100"}, True, "a thread reply sent to the channel too"),
    ({"subtype": "file_share"}, True, "a file with a comment"),
    ({"subtype": "bot_message"}, False, "a classic bot"),
    ({"bot_id": "B1"}, False, "any app, ourselves included"),
    ({"user": "U0BOT"}, False, "our own user"),
    ({"subtype": "channel_join"}, False, "a join notice"),
    ({"subtype": "message_deleted", "hidden": True}, False, "a deletion"),
    ({"text": "good morning"}, False, "no time"),
    ({"text": "`15:30`"}, False, "code"),
]


@pytest.mark.parametrize("fields, answered, why", MESSAGES, ids=[m[2] for m in MESSAGES])
def test_message_event(fields, answered, why):
    event = MessageEvent(**{"type": "message", "channel": "C1", "user": "U1", "text": "sync at 15:30", "ts": TS, **fields})
    found = message_event(event, WORKSPACE)
    assert (found is not None) is answered, why
    if found:
        key, message = found
        assert key == f"m:C1:{TS}", "keyed by the message: its app_mention twin is the same item"
        assert message.message_id == TS and message.sent_at == 1784563200.0
        assert message.thread_id == fields.get("thread_ts", "")


EDITS = [
    # (previous text, new text, edited, answered?, why)
    ("sync at 15:30", "sync at 16:30", True, True, "the time changed"),
    ("sync at 15:30", "sync soon", True, True, "the time is gone: our reply goes"),
    ("sync soon", "sync at 16:30", True, True, "a time appeared"),
    ("lunch?", "lunch!", True, False, "no time before or after"),
    ("see https://x.io at 15:30", "see https://x.io at 15:30", False, False, "a link preview, not an edit"),
]


@pytest.mark.parametrize("before, after, edited, answered, why", EDITS, ids=[e[4] for e in EDITS])
def test_edit_event(before, after, edited, answered, why):
    original = {"user": "U1", "text": before, "ts": TS}
    changed = {**original, "text": after, **({"edited": {"ts": "1784563300.000500"}} if edited else {})}
    event = msgspec.convert({"type": "message", "subtype": "message_changed", "channel": "C1", "hidden": True,
                             "ts": "1784563300.000600", "message": changed, "previous_message": original}, MessageEvent)
    found = message_event(event, WORKSPACE)
    assert (found is not None) is answered, why
    if found:
        key, message = found
        assert key == f"e:C1:{TS}:1784563300.000500", "each edit once, however often Slack delivers it"
        assert (message.message_id, message.text, message.edited_at) == (TS, after, 1784563300.0005)


def test_edits_of_bots_are_not_followed():
    event = msgspec.convert({"type": "message", "subtype": "message_changed", "channel": "C1", "ts": "1.2",
                             "message": {"user": "U0BOT", "bot_id": "B1", "text": "at 15:30", "ts": TS},
                             "previous_message": {"user": "U0BOT", "text": "at 14:30", "ts": TS}}, MessageEvent)
    assert edit_event(event, WORKSPACE) is None


def test_the_manifest_asks_for_reactions_and_registers_hours_and_overlap():
    from teamops.cli import slack_app_manifest

    manifest = slack_app_manifest("https://ops.example.com")
    assert "reactions:read" in manifest["oauth_config"]["scopes"]["bot"], "without it no reaction_added arrives"
    assert "reaction_added" in manifest["settings"]["event_subscriptions"]["bot_events"]
    commands = {c["command"] for c in manifest["features"]["slash_commands"]}
    assert {"/hours", "/overlap"} <= commands


def test_hours_and_overlap_commands_and_notices_behind_tz_reach_the_core():
    from handlers.slack import command_text

    assert command_text("/hours", "9-18") == ("/hours 9-18", False)
    assert command_text("/overlap", "1h 3") == ("/overlap 1h 3", False)
    assert command_text("/tz", "notices off") == ("/notices off", False)
