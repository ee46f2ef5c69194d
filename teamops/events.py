"""Platform-neutral events (what handlers hand to the core) and replies (what senders deliver).

Handlers turn a platform's payload into one of these; the assistant never sees a platform's wire
format, and senders never see a decision. Both travel through the inbox, so they are plain
msgspec Structs that round-trip through MongoDB documents. Every field added since the first
build has a default, so items stored by an earlier build still decode.

How a sender renders a Reply (every platform's renderer follows these rules; what a platform
cannot express is decided there, never by the assistant):

- **Spans.** `body` is one list of Spans; a renderer walks it once. `text` is shown as written
  (escaped as the platform needs); `bold` runs are emphasised where the platform can.
- **Moments.** A Span with a `moment` is an instant the reader's own client can show on the
  reader's own clock: render it natively (Telegram `<tg-time unix="U" format="wt|t">text</tg-time>`,
  Discord `<t:U:t>`, Slack `<!date^U^{time}|text>`), with `moment.style` choosing weekday + time
  or time only. Its `text` is the fallback: show it instead where the instant is outside what the
  platform accepts (Telegram: 0 .. now + 1,098 days).
- **The reader's own clock line.** Spans marked `reader_clock` make up the line that shows each
  converted time on the reader's own clock ("🕒 on your clock: …"). A platform that cannot render
  moments natively (WhatsApp, `python app.py try`) leaves every such span out: `plain(body)` is
  that rendering. The zone lines beside it are plain text everywhere.
- **Private answers.** `private_to` names the one user who should see the reply. In a group the
  sender delivers it to that user only (Telegram `receiver_user_id`, plus `callback_query_id` from
  `private_press` when a button press triggered it; Slack `chat.postEphemeral`; Discord an
  ephemeral interaction answer). In a one-to-one chat it is an ordinary reply. Where the platform
  refuses or cannot (no private replies in that chat type, a 4xx), the sender returns
  `Outcome("refused")` and the worker sends `fallback` instead; a sender never delivers a private
  reply publicly itself, since it may carry a personal link. Telegram's private messages come back
  with message id 0: they cannot be edited, so a sender reports no id for them.
- **Edits of earlier replies.** `edit_of` names a message we sent before: the sender edits that
  message to this body (Telegram `editMessageText`, Discord `PATCH /channels/{c}/messages/{m}`),
  or deletes it when `delete` is set (`deleteMessage`, `DELETE` of the same), instead of sending
  a new one. "Not modified", or a message already deleted, counts as sent.
- **Ids reported back.** A sender returns the platform's id of the message that now shows the
  reply in `Outcome.message_id` ("" when there is none that can be edited later). For a reply with
  `follows` set the worker keeps that id in the reply store, keyed by (platform, chat, followed
  message), so an edit of the followed message can edit or delete our reply.

- **Reply handles.** `reply_handle` is the platform's own way to answer one request (a Discord
  interaction, Slack's response_url of a slash command or a button press), set by its handler on
  the event and copied by the core onto every reply to it. Only that platform's sender reads it.

Edits and on-demand conversion arrive as ChatMessages: an edit is the same message with
`edited_at` set and the new text; "convert this message" (Telegram `/time` sent as a reply, Slack's
message shortcut, Discord's message command) is a ChatMessage whose text is "/time" and whose
`replied_to` is the message to convert.
"""

from __future__ import annotations

import msgspec


class Quoted(msgspec.Struct, frozen=True, omit_defaults=True):
    """Another message that a ChatMessage refers to (the one it replies to)."""

    message_id: str
    text: str
    sent_at: float  # unix seconds
    user_id: str = ""  # "" when the platform names no person (a channel post)
    user_name: str = ""


class ChatMessage(msgspec.Struct, frozen=True, tag="message", omit_defaults=True):
    platform: str
    chat_id: str
    user_id: str
    user_name: str
    text: str
    sent_at: float  # unix seconds, as the platform stamped it (for an edit: the original message's)
    message_id: str = ""
    thread_id: str = ""
    private: bool = False  # a one-to-one chat with the bot, or an exchange only this user sees
    # Set when this is an edit of message `message_id`: when it was edited (unix seconds), and
    # `text` is the new text. Edits of one message are applied newest-last by this stamp.
    edited_at: float = 0.0
    replied_to: Quoted | None = None  # the message this one answers, for "/time" on it
    # Opaque to the core: how the platform asked for this very message to be answered (a Discord
    # interaction, Slack's response_url). Copied onto every reply to it; only its sender reads it.
    reply_handle: str = ""
    # The group of chats this chat belongs to, where the platform has one (a Discord server):
    # someone who leaves the group leaves every chat of it.
    space_id: str = ""
    # Other ids the platform gave for the same person in this event (WhatsApp: the phone number
    # beside the business-scoped id). The store keeps them on the user, so a person first seen
    # under one of them stays one person: see Store.link_user.
    aliases: tuple[str, ...] = ()


class ZoneVerified(msgspec.Struct, frozen=True, tag="verified"):
    """A user confirmed a zone on the verification page for a chat."""

    platform: str
    chat_id: str
    user_id: str
    tz: str


class ButtonPress(msgspec.Struct, frozen=True, tag="button"):
    """A user pressed one of our inline buttons (data is ours, at most 64 bytes)."""

    platform: str
    chat_id: str
    user_id: str
    user_name: str
    data: str
    press_id: str  # the platform's id to acknowledge the press
    message_id: str = ""
    thread_id: str = ""
    reply_handle: str = ""  # as on ChatMessage: how the platform wants this press answered
    private: bool = False  # pressed in a one-to-one chat with the bot
    aliases: tuple[str, ...] = ()  # as on ChatMessage: other ids of the same person


class MemberJoined(msgspec.Struct, frozen=True, tag="joined"):
    """A user joined a chat (platforms that say so: Slack's member_joined_channel)."""

    platform: str
    chat_id: str
    user_id: str


class MemberLeft(msgspec.Struct, frozen=True, tag="left", omit_defaults=True):
    """A user left a chat; with `chat_id` empty, every chat of the group `space_id`."""

    platform: str
    chat_id: str
    user_id: str
    space_id: str = ""


class ChatGone(msgspec.Struct, frozen=True, tag="gone", omit_defaults=True):
    """The bot left or was removed from a chat; with `chat_id` empty, from every chat of the group
    `space_id`."""

    platform: str
    chat_id: str
    space_id: str = ""


class Profile(msgspec.Struct, frozen=True):
    """What a platform's directory says about a user (a sender that has one offers `profiles`)."""

    tz: str | None = None  # IANA zone from the user's profile; None when the profile has none
    name: str = ""
    bot: bool = False


class ProfileChanged(msgspec.Struct, frozen=True, tag="profile"):
    """The platform says a user's profile changed (Slack's user_change)."""

    platform: str
    user_id: str
    profile: Profile


class ModelReading(msgspec.Struct, frozen=True, tag="model", omit_defaults=True):
    """Ask the language model about a message, later (teamops/model_reading.py): `kind` "times"
    for a message that may hold a time the rules could not read, "tz" or "move" for a place the
    city data did not know (`place`, as written, from /tz or "I moved to …"). It waits in a lane
    of its own beside its chat's (`lane`), so a slow model never holds the chat's other items."""

    message: ChatMessage  # the message it came from: answered under it, never sent whole for places
    kind: str
    lane: str
    place: str = ""


class NotATime(msgspec.Struct, frozen=True, tag="not_a_time", omit_defaults=True):
    """Someone says one of our conversions was no time at all: a ❌ reaction on our reply
    (`reply_id`), or a "not a time" answer to it. Where the platform names only the message we
    answered (a Slack thread), `about` is that message's id instead."""

    platform: str
    chat_id: str
    user_id: str
    reply_id: str = ""
    about: str = ""


class ClockNotice(msgspec.Struct, frozen=True, tag="notice"):
    """A zone of the chat changes its UTC offset on `day` (a UTC date, ISO): tell the chat, a few
    days ahead (teamops/notices.py puts these in the inbox, one per chat and day)."""

    platform: str
    chat_id: str
    day: str


Event = ChatMessage | ZoneVerified | ButtonPress | MemberJoined | MemberLeft | ChatGone | ProfileChanged | ModelReading | NotATime | ClockNotice


def lane_of(event: dict) -> str:
    """Which queue a stored event waits in: its chat's, unless it names a lane of its own."""
    return event.get("lane") or event.get("chat_id", "")

# Moment styles: how a client shows the instant, in the reader's zone and locale.
WEEKDAY_TIME = "weekday_time"  # "Tue 15:30"
TIME = "time"  # "15:30"


class Moment(msgspec.Struct, frozen=True, array_like=True, omit_defaults=True):
    unix: int  # the instant, seconds since the epoch
    style: str = WEEKDAY_TIME


class Span(msgspec.Struct, frozen=True, array_like=True, omit_defaults=True):
    """A run of reply text. See the module's docstring for how each field is rendered."""

    text: str  # shown as written; for a moment, its fallback text
    bold: bool = False
    moment: Moment | None = None
    reader_clock: bool = False  # part of the reader's-own-clock line: dropped without native moments


def plain(spans) -> str:
    """The spans as plain text, for a platform without native moments: the reader's-own-clock
    line is left out and each moment shows its fallback text."""
    return "".join(span.text for span in spans if not span.reader_clock)


class Button(msgspec.Struct, frozen=True, omit_defaults=True):
    text: str
    url: str = ""
    data: str = ""  # our callback payload when there is no url
    # The url is minted for one person (a verification link). Where everyone in the chat sees the
    # button, a sender may instead open a private chat with the bot carrying this code; the bot
    # then hands whoever pressed a link of their own (see commands._start). A button left with
    # neither a url nor data nor a usable code is not shown.
    private_start: str = ""


class Reply(msgspec.Struct, frozen=True, omit_defaults=True):
    platform: str
    chat_id: str
    body: tuple[Span, ...] = ()
    reply_to: str = ""  # message id to reply to, when the platform threads replies
    thread_id: str = ""
    buttons: tuple[tuple[Button, ...], ...] = ()
    ack_press: str = ""  # acknowledge this button press instead of/as well as sending text
    private_to: str = ""  # user id: only this person sees the reply (in a group)
    private_press: str = ""  # the button press that triggered this private answer, if any
    fallback: Reply | None = None  # sent instead when the private answer is refused
    follows: str = ""  # id of the message this reply converts: edits of that message follow
    edit_of: str = ""  # id of a message we sent: edit it to `body` (or delete it) instead
    delete: bool = False  # with edit_of: delete that message
    reply_handle: str = ""  # the event's reply_handle, handed back to the platform's sender

    @property
    def plain_text(self) -> str:
        return plain(self.body)


def to_doc(value: msgspec.Struct) -> dict:
    return msgspec.to_builtins(value)


def event_from_doc(doc: dict) -> Event:
    return msgspec.convert(doc, Event)


def replies_from_doc(docs: list) -> list[Reply]:
    return msgspec.convert(docs, list[Reply])
