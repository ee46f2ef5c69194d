"""Discord's renderer as a table: a Reply in, the JSON Discord would get out (pure, no I/O)."""

from __future__ import annotations

import pytest

from teamops.events import TIME, WEEKDAY_TIME, Button, Moment, Reply, Span
from teamops.senders.discord import deferred, escape, make_handle, render, respond

PUBLIC = make_handle("786008729715212338", "TOKEN", private=False)
PRIVATE = make_handle("786008729715212338", "TOKEN", private=True)
NONE = {"parse": []}


def reply(*spans, buttons=(), reply_handle=PUBLIC, ack_press="") -> Reply:
    return Reply(platform="discord", chat_id="645027906669510667", body=tuple(spans), buttons=buttons,
                 reply_handle=reply_handle, ack_press=ack_press)


LINK = Button(text="Set my time zone", url="https://x.test/verify?token=abc", private_start="tz645_sig")

RENDER_CASES = [
    # (why, reply, expected payload)
    ("plain text, no buttons, mentions always off",
     reply(Span("Muted here.")),
     {"content": "Muted here.", "components": [], "allowed_mentions": NONE}),
    ("bold runs become ** without swallowing the spaces around them",
     reply(Span("Ana is on "), Span("Europe/Berlin ", bold=True), Span("now.")),
     {"content": "Ana is on **Europe/Berlin** now.", "components": [], "allowed_mentions": NONE}),
    ("user text cannot ping, link, format or quote",
     reply(Span("@everyone <@&123> [x](http://evil) *hi* _a_ ~b~ `c` |d|\n> quoted\n# title\n- item")),
     {"content": "\\@everyone \\<\\@&123\\> \\[x\\](http://evil) \\*hi\\* \\_a\\_ \\~b\\~ \\`c\\` \\|d\\|\n"
                 "\\> quoted\n\\# title\n\\- item", "components": [], "allowed_mentions": NONE}),
    ("a private answer carries the ephemeral flag",
     reply(Span("Your zone: Asia/Tokyo"), reply_handle=PRIVATE),
     {"content": "Your zone: Asia/Tokyo", "components": [], "allowed_mentions": NONE, "flags": 64}),
    ("a note for whoever pressed is private too",
     reply(Span("This button is for someone else."), ack_press="786008729715212338"),
     {"content": "This button is for someone else.", "components": [], "allowed_mentions": NONE, "flags": 64}),
    ("choices are buttons with our data as custom_id; 'no' is the quiet style",
     reply(Span("Switch?"), buttons=((Button(text="Yes, switch", data="move:5:Europe/Lisbon"),
                                      Button(text="No", data="move:5:no")),)),
     {"content": "Switch?", "allowed_mentions": NONE, "components": [{"type": 1, "components": [
         {"type": 2, "style": 1, "label": "Yes, switch", "custom_id": "move:5:Europe/Lisbon"},
         {"type": 2, "style": 2, "label": "No", "custom_id": "move:5:no"}]}]}),
    ("a personal link in a private answer is a link button",
     reply(Span("Tap to set it."), buttons=((LINK,),), reply_handle=PRIVATE),
     {"content": "Tap to set it.", "allowed_mentions": NONE, "flags": 64, "components": [{"type": 1, "components": [
         {"type": 2, "style": 5, "label": "Set my time zone", "url": "https://x.test/verify?token=abc"}]}]}),
    ("a personal link in public becomes a button that gets each presser their own",
     reply(Span("Tell me your zone first."), buttons=((LINK,),)),
     {"content": "Tell me your zone first.", "allowed_mentions": NONE, "components": [{"type": 1, "components": [
         {"type": 2, "style": 1, "label": "Set my time zone", "custom_id": "start:tz645_sig"}]}]}),
    ("a channel message (no interaction) is public as well",
     reply(Span("x"), buttons=((LINK,),), reply_handle=""),
     {"content": "x", "allowed_mentions": NONE, "components": [{"type": 1, "components": [
         {"type": 2, "style": 1, "label": "Set my time zone", "custom_id": "start:tz645_sig"}]}]}),
    ("moments show on each reader's own clock; their text is only the fallback",
     reply(Span("15:30", bold=True, moment=Moment(1784556000, TIME)), Span(" Berlin\n"),
           Span("\U0001f552 on your clock: ", reader_clock=True),
           Span("Mon 15:30", moment=Moment(1784556000, WEEKDAY_TIME), reader_clock=True)),
     {"content": "**<t:1784556000:t>** Berlin\n\U0001f552 on your clock: <t:1784556000:f>", "components": [],
      "allowed_mentions": NONE}),
    ("an instant no client can show falls back to its text",
     reply(Span("far away", moment=Moment(10**13, TIME))),
     {"content": "far away", "components": [], "allowed_mentions": NONE}),
    ("a reply the core addresses to one person is private",
     Reply(platform="discord", chat_id="1", body=(Span("your link"),), private_to="53908232506183680"),
     {"content": "your link", "components": [], "allowed_mentions": NONE, "flags": 64}),
    ("data longer than Discord's 100-character custom_id is left out, not sent to fail",
     reply(Span("x"), buttons=((Button(text="a", data="tz:1:" + "X" * 120),),)),
     {"content": "x", "components": [], "allowed_mentions": NONE}),
]


@pytest.mark.parametrize("why, given, expected", RENDER_CASES, ids=[c[0] for c in RENDER_CASES])
def test_render(why, given, expected):
    assert render(given) == expected


def test_long_replies_are_cut_on_a_line_within_the_limit():
    lines = tuple(Span(f"{n:02d}:00 " + "x" * 60 + "\n") for n in range(40))
    content = render(reply(*lines))["content"]
    assert len(content) <= 2000 and content.endswith("\n\u2026")
    assert content.count("\n") >= 25, "whole lines kept"


ACK = reply(ack_press="786008729715212338")
MAIN = reply(Span("Ana is on "), Span("Asia/Tokyo", bold=True))
NOTE = reply(Span("This button is for someone else."), ack_press="786008729715212338")

RESPOND_CASES = [
    ("a command's answer is a message", [MAIN], ({"type": 4, "data": render(MAIN)}, 1)),
    ("a private command's answer is an ephemeral message",
     [reply(Span("hi"), reply_handle=PRIVATE)], ({"type": 4, "data": render(reply(Span("hi"), reply_handle=PRIVATE))}, 1)),
    ("a press and what follows it update the pressed message",
     [ACK, MAIN], ({"type": 7, "data": render(MAIN)}, 2)),
    ("the update keeps the message's own privacy (no flags)",
     [ACK, reply(Span("done"), reply_handle=PRIVATE)],
     ({"type": 7, "data": {"content": "done", "components": [], "allowed_mentions": NONE}}, 2)),
    ("a press with nothing to say is only acknowledged", [ACK], ({"type": 6}, 1)),
    ("a note for the presser is private and leaves the message alone", [NOTE], ({"type": 4, "data": render(NOTE)}, 1)),
]


@pytest.mark.parametrize("why, replies, expected", RESPOND_CASES, ids=[c[0] for c in RESPOND_CASES])
def test_respond(why, replies, expected):
    assert respond(replies) == expected


def test_reply_handle_nothing_is_a_private_line():
    response, count = respond([])
    assert response["type"] == 4 and response["data"]["flags"] == 64 and count == 0


@pytest.mark.parametrize("private, press, expected", [
    (False, False, {"type": 5}),
    (True, False, {"type": 5, "data": {"flags": 64}}),
    (False, True, {"type": 6}),
    (True, True, {"type": 6}),
])
def test_deferred(private, press, expected):
    assert deferred(private, press) == expected


@pytest.mark.parametrize("text, expected", [
    ("15:30", "15:30"),  # clocks stay readable
    ("UTC+5:30 (Kolkata)", "UTC+5:30 (Kolkata)"),
    ("1. first", "\\1. first"),  # a numbered list would renumber
    ("a\\b", "a\\\\b"),
])
def test_escape(text, expected):
    assert escape(text) == expected
