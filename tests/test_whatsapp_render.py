"""teamops/senders/whatsapp.render: replies in, Cloud API request bodies out (a table), and the
shape rules the fake Graph API checks hold for every one of them."""

from __future__ import annotations

import pytest

from fakes.whatsapp import shape_problems
from teamops.events import Button, Moment, Reply, Span
from teamops.senders.whatsapp import escape, render

PHONE = "16505551234"
GROUP = "group:Y2FwaV9ncm91cDox"
NUMBER = "15550783881"
LINK = Button(text="Set my time zone", url="https://verify.test/verify?token=abc", private_start="tzX_sig")


SYNC = (Span("sync at 15:30"),)


def reply(chat_id: str = PHONE, body=SYNC, **fields) -> Reply:
    return Reply(platform="whatsapp", chat_id=chat_id, body=tuple(body), **fields)


def individual(**content) -> dict:
    return {"messaging_product": "whatsapp", "recipient_type": "individual", "to": PHONE, **content}


def text(body: str) -> dict:
    return {"type": "text", "text": {"preview_url": False, "body": body}}


CASES = [
    ("plain text with context",
     reply(reply_to="wamid.A"),
     [individual(context={"message_id": "wamid.A"}, **text("sync at 15:30"))]),
    ("bold runs as *…*, one line at a time; spaces stay outside",
     reply(body=(Span("Berlin "), Span(" 15:30 \n16:30", bold=True))),
     [individual(**text("Berlin  *15:30* \n*16:30*"))]),
    ("moments as their text, the reader's-clock line left out",
     reply(body=(Span("Tue 15:30", moment=Moment(1784563200)), Span("\n🕒 on your clock: ", reader_clock=True),
                 Span("15:30", moment=Moment(1784563200), reader_clock=True))),
     [individual(**text("Tue 15:30"))]),
    ("a BSUID-keyed chat without a phone: recipient",
     reply(chat_id="US-13491208655302741918"),
     [{"messaging_product": "whatsapp", "recipient_type": "individual", "recipient": "US.13491208655302741918",
       **text("sync at 15:30")}]),
    ("choices as reply buttons",
     reply(body=(Span("Switch?"),), buttons=((Button(text="Yes, switch", data="move:U:Europe/Lisbon"),
                                              Button(text="No", data="move:U:no")),)),
     [individual(type="interactive", interactive={"type": "button", "body": {"text": "Switch?"}, "action": {"buttons": [
         {"type": "reply", "reply": {"id": "move:U:Europe/Lisbon", "title": "Yes, switch"}},
         {"type": "reply", "reply": {"id": "move:U:no", "title": "No"}}]}})]),
    ("a link as a CTA URL button",
     reply(body=(Span("Tap to set it."),), buttons=((LINK,),)),
     [individual(type="interactive", interactive={"type": "cta_url", "body": {"text": "Tap to set it."}, "action": {
         "name": "cta_url", "parameters": {"display_text": "Set my time zone", "url": LINK.url}}})]),
    ("a group: plain text, the wa.me link instead of the personal one",
     reply(chat_id=GROUP, body=(Span("Ola, set your zone."),), reply_to="wamid.G", buttons=((LINK,),)),
     [{"messaging_product": "whatsapp", "recipient_type": "group", "to": "Y2FwaV9ncm91cDox",
       "context": {"message_id": "wamid.G"},
       **text(f"Ola, set your zone.\n\nSet my time zone: https://wa.me/{NUMBER}?text=/tz")}]),
    ("a group: choices as a list, no buttons",
     reply(chat_id=GROUP, body=(Span("Switch?"),), buttons=((Button(text="Yes, switch", data="move:U:x"),
                                                             Button(text="No", data="move:U:no")),)),
     [{"messaging_product": "whatsapp", "recipient_type": "group", "to": "Y2FwaV9ncm91cDox",
       **text("Switch?\n\n\u2022 Yes, switch\n\u2022 No")}]),
    ("a group: a link button without the private flow is left out (it may be personal)",
     reply(chat_id=GROUP, body=(Span("Hi"),), buttons=((Button(text="Open", url="https://verify.test/v?t=1"),),)),
     [{"messaging_product": "whatsapp", "recipient_type": "group", "to": "Y2FwaV9ncm91cDox", **text("Hi")}]),
    ("nothing to say: nothing sent",
     reply(body=()),
     []),
]


@pytest.mark.parametrize("why, given, expected", CASES, ids=[case[0] for case in CASES])
def test_render(why, given, expected):
    assert render(given, NUMBER) == expected, why
    for body in expected:
        assert shape_problems(body) == [], why


def test_private_delivery_one_to_one_carries_no_context_and_keeps_buttons():
    private = reply(chat_id=GROUP, reply_to="wamid.G", private_to="US-1", buttons=((LINK,),))
    [body] = render(private, NUMBER, PHONE, one_to_one="US-1")
    assert body["to"] == PHONE and "context" not in body and body["interactive"]["type"] == "cta_url"


@pytest.mark.parametrize("typed, shown", [
    ("*Boss*", "\u2217Boss\u2217"),
    ("_x_", "\uff3fx\uff3f"),
    ("~gone~", "\u223cgone\u223c"),
    ("```code```", "\u02cb\u02cb\u02cbcode\u02cb\u02cb\u02cb"),
    ("`inline`", "\u02cbinline\u02cb"),
    ("America/New_York", "America/New_York"),  # inside a word an underscore formats nothing: kept
    ("snake_case_name", "snake_case_name"),
    ("_Lead", "\uff3fLead"),
    ("plain words", "plain words"),
])
def test_user_text_cannot_open_or_close_markup(typed, shown):
    assert escape(typed) == shown
    [body] = render(reply(body=(Span("Hi "), Span(typed), Span(" at "), Span("15:30", bold=True))), NUMBER)
    assert body["text"]["body"] == f"Hi {shown} at *15:30*"


def test_long_texts_fit_the_limits():
    lines = tuple(Span(f"line {n:04d} Europe/Berlin 15:30\n") for n in range(300))
    [body] = render(reply(body=lines), NUMBER)
    assert len(body["text"]["body"]) <= 4096 and body["text"]["body"].endswith("\u2026")
    with_button = render(reply(body=lines[:60] + (Span("\n\nTap to set it."),), buttons=((LINK,),)), NUMBER)
    assert [b["type"] for b in with_button] == ["text", "interactive"], "the long text first, the button under it"
    assert with_button[1]["interactive"]["body"]["text"] == "Tap to set it."
    assert all(shape_problems(b) == [] for b in with_button)


def test_more_choices_than_buttons_are_all_listed_and_titles_fit():
    labels = [f"Springfield, State {n}, United States (America/Chicago)" for n in range(5)]
    buttons = tuple((Button(text=label, data=f"tz:U:America/Zone{n}"),) for n, label in enumerate(labels))
    [body] = render(reply(body=(Span("Which one?"),), buttons=buttons), NUMBER)
    choices = body["interactive"]["action"]["buttons"]
    assert len(choices) == 3 and all(len(b["reply"]["title"]) <= 20 for b in choices)
    assert all(label in body["interactive"]["body"]["text"] for label in labels), "every choice listed"
    assert shape_problems(body) == []
