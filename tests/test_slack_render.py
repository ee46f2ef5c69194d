"""teamops/senders/slack.py's render(reply): a table of replies and the exact request each becomes."""

from __future__ import annotations

import pytest

from teamops.events import TIME, Button, Moment, Reply, Span
from teamops.senders.slack import SECTION_LIMIT, Call, render

URL = "https://hooks.slack.com/commands/T1/1/x"
LINK = "https://verify.example/verify?token=abc"
POST = {"unfurl_links": False, "unfurl_media": False}


def reply(*spans, **fields) -> Reply:
    return Reply(platform="slack", chat_id=fields.pop("chat_id", "C1"), body=tuple(spans), **fields)


CASES = [
    (
        "a conversion in the message's thread, bold as *…*",
        reply(Span("15:30", bold=True), Span(" Berlin\n"), Span("06:30", bold=True), Span("  Los Angeles (UTC\u22127)"),
              reply_to="1784563200.000200"),
        Call("chat.postMessage", {"channel": "C1", "text": "*15:30* Berlin\n*06:30*  Los Angeles (UTC\u22127)",
                                  **POST, "thread_ts": "1784563200.000200"}),
    ),
    (
        "a message already in a thread: its thread",
        reply(Span("x"), reply_to="1784563300.000100", thread_id="1784563200.000200"),
        Call("chat.postMessage", {"channel": "C1", "text": "x", **POST, "thread_ts": "1784563200.000200"}),
    ),
    (
        "a direct message: answered in line, not in a thread",
        reply(Span("x"), chat_id="D1", reply_to="1784563300.000100"),
        Call("chat.postMessage", {"channel": "D1", "text": "x", **POST}),
    ),
    (
        "&, < and > escaped in every text, nothing else; blanks stay outside the stars",
        reply(Span("Q&A <b> \u201cx\u201d_*"), Span(" Tokyo \n", bold=True)),
        Call("chat.postMessage", {"channel": "C1", "text": "Q&amp;A &lt;b&gt; \u201cx\u201d_* *Tokyo* \n", **POST}),
    ),
    (
        "a slash command's answer: privately, through its response_url",
        reply(Span("Now"), reply_handle=f"ephemeral {URL}"),
        Call("response_url", {"text": "Now", "response_type": "ephemeral", "replace_original": False}, URL),
    ),
    (
        "/time … share: for the channel",
        reply(Span("Now"), reply_handle=f"in_channel {URL}"),
        Call("response_url", {"text": "Now", "response_type": "in_channel"}, URL),
    ),
    (
        "a press's answer replaces the question",
        reply(Span("Ana is on "), Span("Europe/Paris", bold=True), reply_handle=f"replace {URL}"),
        Call("response_url", {"text": "Ana is on *Europe/Paris*", "replace_original": True}, URL),
    ),
    (
        "a press answered with a word to the presser alone keeps the question",
        reply(Span("This button is for someone else."), ack_press="1.2.x", reply_handle=f"replace {URL}"),
        Call("response_url", {"text": "This button is for someone else.", "response_type": "ephemeral",
                              "replace_original": False}, URL),
    ),
    (
        "a bare acknowledgement: the HTTP answer was it",
        reply(ack_press="1.2.x", reply_handle=f"replace {URL}"),
        None,
    ),
    (
        "choice buttons, one actions block per row, values as given",
        reply(Span("Which one?"), buttons=((Button("Paris, France", data="tz:U1:Europe/Paris"),),
                                            (Button("Paris, Texas", data="tz:U1:America/Chicago"),))),
        Call("chat.postMessage", {"channel": "C1", "text": "Which one?", "blocks": [
            {"type": "section", "text": {"type": "mrkdwn", "text": "Which one?"}},
            {"type": "actions", "block_id": "row-0", "elements": [
                {"type": "button", "text": {"type": "plain_text", "text": "Paris, France", "emoji": True},
                 "action_id": "press-0-0", "value": "tz:U1:Europe/Paris"}]},
            {"type": "actions", "block_id": "row-1", "elements": [
                {"type": "button", "text": {"type": "plain_text", "text": "Paris, Texas", "emoji": True},
                 "action_id": "press-1-0", "value": "tz:U1:America/Chicago"}]},
        ], **POST}),
    ),
    (
        "a personal link in a message everyone sees: a button that fetches one's own, privately",
        reply(Span("Set it"), buttons=((Button("Set my time zone", url=LINK, private_start="tzC1_sig"),),)),
        Call("chat.postMessage", {"channel": "C1", "text": "Set it", "blocks": [
            {"type": "section", "text": {"type": "mrkdwn", "text": "Set it"}},
            {"type": "actions", "block_id": "row-0", "elements": [
                {"type": "button", "text": {"type": "plain_text", "text": "Set my time zone", "emoji": True},
                 "action_id": "start-0-0", "value": "tzC1_sig"}]},
        ], **POST}),
    ),
    (
        "a private answer's public fallback, its link taken off: the button that fetches one's own",
        reply(Span("Set it"), buttons=((Button("Set my time zone", private_start="tzC1_sig"), Button("gone")),)),
        Call("chat.postMessage", {"channel": "C1", "text": "Set it", "blocks": [
            {"type": "section", "text": {"type": "mrkdwn", "text": "Set it"}},
            {"type": "actions", "block_id": "row-0", "elements": [
                {"type": "button", "text": {"type": "plain_text", "text": "Set my time zone", "emoji": True},
                 "action_id": "start-0-0", "value": "tzC1_sig"}]},
        ], **POST}),
    ),
    (
        "the same link in a private answer: the link itself",
        reply(Span("Yours"), buttons=((Button("Set my time zone", url=LINK, private_start="tzC1_sig"),),),
              reply_handle=f"ephemeral {URL}"),
        Call("response_url", {"text": "Yours", "blocks": [
            {"type": "section", "text": {"type": "mrkdwn", "text": "Yours"}},
            {"type": "actions", "block_id": "row-0", "elements": [
                {"type": "button", "text": {"type": "plain_text", "text": "Set my time zone", "emoji": True},
                 "action_id": "link-0-0", "url": LINK}]},
        ], "response_type": "ephemeral", "replace_original": False}, URL),
    ),
    (
        "moments as date tokens each reader sees in their own zone, the fallback escaped",
        reply(Span("Mon 14:00 UTC", bold=True, moment=Moment(1784556000)), Span(" \u00b7 "),
              Span("16:00 <CEST>", moment=Moment(1784563200, TIME), reader_clock=True)),
        Call("chat.postMessage", {"channel": "C1", "text": "*<!date^1784556000^{date_short_pretty} {time}|Mon 14:00 UTC>*"
                                  " \u00b7 <!date^1784563200^{time}|16:00 &lt;CEST&gt;>", **POST}),
    ),
    (
        "a moment no client can show: its fallback text",
        reply(Span("someday", moment=Moment(-5))),
        Call("chat.postMessage", {"channel": "C1", "text": "someday", **POST}),
    ),
    (
        "a private answer in a thread: to that one person, there, with the link itself",
        reply(Span("Yours"), buttons=((Button("Set my time zone", url=LINK, private_start="tzC1_sig"),),),
              private_to="U7", reply_to="1784563300.000100", thread_id="1784563200.000200"),
        Call("chat.postEphemeral", {"channel": "C1", "user": "U7", "text": "Yours", "blocks": [
            {"type": "section", "text": {"type": "mrkdwn", "text": "Yours"}},
            {"type": "actions", "block_id": "row-0", "elements": [
                {"type": "button", "text": {"type": "plain_text", "text": "Set my time zone", "emoji": True},
                 "action_id": "link-0-0", "url": LINK}]},
        ], "thread_ts": "1784563200.000200"}),
    ),
    (
        "a private answer in a direct message: an ordinary reply",
        reply(Span("x"), chat_id="D1", private_to="U7"),
        Call("chat.postMessage", {"channel": "D1", "text": "x", **POST}),
    ),
    (
        "\u201cConvert for me\u201d: to the presser, in the channel they look at; its response_url kept",
        reply(Span("x"), reply_to="1784563200.000200", reply_handle=f"private U7 {URL}"),
        Call("chat.postEphemeral", {"channel": "C1", "user": "U7", "text": "x"}, URL),
    ),
    (
        "an edit of our reply",
        reply(Span("16:30", bold=True), edit_of="1784563201.000300", follows="1784563200.000200"),
        Call("chat.update", {"channel": "C1", "ts": "1784563201.000300", "text": "*16:30*"}),
    ),
    (
        "our reply deleted when the time is gone",
        reply(edit_of="1784563201.000300", delete=True),
        Call("chat.delete", {"channel": "C1", "ts": "1784563201.000300"}),
    ),
]


@pytest.mark.parametrize("why, given, expected", CASES, ids=[case[0] for case in CASES])
def test_render(why, given, expected):
    assert render(given) == expected, why


def test_long_text_is_cut_into_sections_on_line_boundaries():
    lines = [f"*{n:02d}:00*  Zone number {n} (UTC+1)" for n in range(200)]
    long = reply(*(Span(line + "\n") for line in lines), buttons=((Button("x", data="d"),),))
    call = render(long)
    sections = [b["text"]["text"] for b in call.body["blocks"] if b["type"] == "section"]
    assert len(sections) >= 2 and all(len(s) <= SECTION_LIMIT for s in sections)
    assert [line for s in sections for line in s.split("\n") if line] == lines, "every line once, in order"
    assert all(line.count("*") % 2 == 0 for s in sections for line in s.split("\n")), "no bold cut in two"


def test_button_text_is_kept_within_slacks_limit():
    call = render(reply(Span("x"), buttons=((Button("y" * 100, data="d"),),)))
    assert len(call.body["blocks"][1]["elements"][0]["text"]["text"]) == 75
