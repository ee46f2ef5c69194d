"""The platform-neutral reply model: what every renderer relies on, and what old inbox items hold."""

from __future__ import annotations

from teamops.events import (
    TIME,
    WEEKDAY_TIME,
    Button,
    ChatMessage,
    Moment,
    Quoted,
    Reply,
    Span,
    event_from_doc,
    plain,
    replies_from_doc,
    to_doc,
)

CLOCK_LINE = (
    Span("\n🕒 on your clock: ", reader_clock=True),
    Span("Tue 14:30 UTC", moment=Moment(1784644200, WEEKDAY_TIME), reader_clock=True),
    Span("\u2013", reader_clock=True),
    Span("15:30 UTC", moment=Moment(1784647800, TIME), reader_clock=True),
)


def test_plain_text_leaves_the_reader_clock_line_out():
    body = (Span("15:30", bold=True), Span(" Lisbon"), *CLOCK_LINE, Span("\n"), Span("23:30", bold=True), Span("  Tokyo"))
    assert plain(body) == "15:30 Lisbon\n23:30  Tokyo"
    assert Reply(platform="p", chat_id="c", body=body).plain_text == plain(body)


def test_a_reply_with_every_new_part_round_trips_through_a_document():
    public = Reply(platform="p", chat_id="-1", body=(Span("which zone?"),),
                   buttons=((Button(text="Set my time zone", private_start="code"),),))
    reply = Reply(
        platform="p", chat_id="-1", body=(Span("15:30", bold=True), *CLOCK_LINE), reply_to="7",
        private_to="42", private_press="press-1", fallback=public, follows="7", edit_of="99",
    )
    [back] = replies_from_doc([to_doc(reply)])
    assert back == reply
    assert back.fallback.buttons[0][0].private_start == "code"
    deleted = Reply(platform="p", chat_id="-1", edit_of="99", delete=True, follows="7")
    assert replies_from_doc([to_doc(deleted)]) == [deleted]


def test_items_stored_by_the_previous_build_still_decode():
    # Exactly what the build before this one wrote: spans as two-element arrays, every field spelled out.
    old_reply = {"platform": "telegram", "chat_id": "-100500", "body": [["15:30", True], [" Lisbon", False]],
                 "reply_to": "5", "thread_id": "", "ack_press": "",
                 "buttons": [[{"text": "Set my time zone", "url": "http://x/verify?token=t", "data": "", "private_start": "c"}]]}
    [reply] = replies_from_doc([old_reply])
    assert reply.plain_text == "15:30 Lisbon"
    assert (reply.private_to, reply.fallback, reply.follows, reply.edit_of, reply.delete) == ("", None, "", "", False)
    assert reply.body[0].moment is None and not reply.body[0].reader_clock
    old_event = {"type": "message", "platform": "telegram", "chat_id": "-100500", "user_id": "7", "user_name": "Ana",
                 "text": "sync at 15:30", "sent_at": 1784563200.0, "message_id": "5", "thread_id": "", "private": False}
    event = event_from_doc(old_event)
    assert isinstance(event, ChatMessage) and event.edited_at == 0.0 and event.replied_to is None


def test_an_edit_and_a_conversion_request_are_chat_messages():
    target = Quoted(message_id="5", text="sync at 15:30", sent_at=1784563200.0, user_id="7", user_name="Ana")
    asking = ChatMessage(platform="p", chat_id="-1", user_id="8", user_name="Bo", text="/time",
                         sent_at=1784563300.0, message_id="6", replied_to=target)
    edit = ChatMessage(platform="p", chat_id="-1", user_id="7", user_name="Ana", text="sync at 16:00",
                       sent_at=1784563200.0, message_id="5", edited_at=1784563260.0)
    assert event_from_doc(to_doc(asking)) == asking
    assert event_from_doc(to_doc(edit)) == edit
