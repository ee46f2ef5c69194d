"""Telegram's renderer as a pure function: replies in, Bot API payloads out (a table of cases)."""

from __future__ import annotations

import pytest

from teamops.events import TIME, WEEKDAY_TIME, Button, Moment, Reply, Span
from teamops.senders.telegram import edit_message_payload, render_html, send_message_payload

NOW = 1_784_563_200  # Mon 2026-07-20 16:00 UTC
DAY = 24 * 3600
LINK = "http://verify.example.test/verify?token=abc"


def _reply(*spans, **fields) -> Reply:
    return Reply(platform="telegram", chat_id=fields.pop("chat_id", "-100500"), body=tuple(spans), **fields)


@pytest.mark.parametrize("spans, html", [
    # Every piece of text escaped; bold in <b>.
    ((Span("a < b & c", bold=True), Span(" > d")), "<b>a &lt; b &amp; c</b> &gt; d"),
    # A moment in range: the reader's client shows it on the reader's own clock.
    ((Span("Tue 08:00 UTC", moment=Moment(NOW + DAY, WEEKDAY_TIME), reader_clock=True),),
     f'<tg-time unix="{NOW + DAY}" format="wt">Tue 08:00 UTC</tg-time>'),
    ((Span("09:30 UTC", moment=Moment(NOW, TIME), reader_clock=True),), f'<tg-time unix="{NOW}" format="t">09:30 UTC</tg-time>'),
    # At the edge of what Telegram accepts (now + 1,098 days) and just beyond it: the fallback text.
    ((Span("edge", moment=Moment(NOW + 1098 * DAY)),), f'<tg-time unix="{NOW + 1098 * DAY}" format="wt">edge</tg-time>'),
    ((Span("far <future>", moment=Moment(NOW + 1098 * DAY + 1)),), "far &lt;future&gt;"),
    ((Span("before 1970", moment=Moment(-1)),), "before 1970"),
    # The reader's-clock line is kept: Telegram can render it.
    ((Span("\n🕒 on your clock: ", reader_clock=True),), "\n🕒 on your clock: "),
])
def test_render_html(spans, html):
    assert render_html(_reply(*spans), now=NOW) == html


def test_private_answer_in_a_group_is_ephemeral_and_carries_the_personal_link():
    button = Button(text="Set my time zone", url=LINK, private_start="tz-100500_sig")
    reply = _reply(Span("which zone?"), reply_to="5", private_to="7001", private_press="cb1", buttons=((button,),))
    payload = send_message_payload(reply, "team_ops_bot", now=NOW)
    assert payload["receiver_user_id"] == 7001 and payload["callback_query_id"] == "cb1"
    assert payload["reply_markup"] == {"inline_keyboard": [[{"text": "Set my time zone", "url": LINK}]]}
    # The same reply for everyone in the group opens a private chat with the bot instead.
    public = send_message_payload(_reply(Span("which zone?"), buttons=((button,),)), "team_ops_bot", now=NOW)
    assert public["reply_markup"]["inline_keyboard"][0][0]["url"] == "https://t.me/team_ops_bot?start=tz-100500_sig"
    assert "receiver_user_id" not in public


def test_private_answer_in_a_private_chat_is_an_ordinary_message():
    payload = send_message_payload(_reply(Span("hi"), chat_id="7001", private_to="7001"), now=NOW)
    assert "receiver_user_id" not in payload and payload["chat_id"] == 7001


def test_a_public_fallback_never_shows_a_personal_link():
    linkless = Button(text="Set my time zone", private_start="tz-100500_sig")  # a fallback's button
    with_bot = send_message_payload(_reply(Span("which zone?"), buttons=((linkless,),)), "team_ops_bot", now=NOW)
    assert with_bot["reply_markup"]["inline_keyboard"][0][0]["url"].startswith("https://t.me/team_ops_bot?start=")
    without_bot = send_message_payload(_reply(Span("which zone?"), buttons=((linkless,),)), "", now=NOW)
    assert "reply_markup" not in without_bot, "no deep link to offer and no personal link to show: no button"


def test_edit_payload_names_our_earlier_message():
    reply = _reply(Span("16:00", bold=True), edit_of="1001", follows="5")
    assert edit_message_payload(reply, now=NOW) == {
        "chat_id": -100500, "message_id": 1001, "text": "<b>16:00</b>", "parse_mode": "HTML",
        "link_preview_options": {"is_disabled": True},
    }
