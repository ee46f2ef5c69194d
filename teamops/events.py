"""Platform-neutral events (what handlers hand to the core) and replies (what senders deliver).

Handlers turn a platform's payload into one of these; the assistant never sees a platform's wire
format, and senders never see a decision. Both travel through the inbox, so they are plain
msgspec Structs that round-trip through MongoDB documents.
"""

from __future__ import annotations

import msgspec


class ChatMessage(msgspec.Struct, frozen=True, tag="message"):
    platform: str
    chat_id: str
    user_id: str
    user_name: str
    text: str
    sent_at: float  # unix seconds, as the platform stamped it
    message_id: str = ""
    thread_id: str = ""
    private: bool = False  # a one-to-one chat with the bot


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


class MemberLeft(msgspec.Struct, frozen=True, tag="left"):
    platform: str
    chat_id: str
    user_id: str


class ChatGone(msgspec.Struct, frozen=True, tag="gone"):
    """The bot left or was removed from a chat."""

    platform: str
    chat_id: str


Event = ChatMessage | ZoneVerified | ButtonPress | MemberLeft | ChatGone


class Span(msgspec.Struct, frozen=True, array_like=True):
    """A run of reply text; `bold` runs are emphasised where the platform can."""

    text: str
    bold: bool = False


class Button(msgspec.Struct, frozen=True):
    text: str
    url: str = ""
    data: str = ""  # our callback payload when there is no url
    # The url is minted for one person (a verification link). Where everyone in the chat sees the
    # button, a sender may instead open a private chat with the bot carrying this code; the bot
    # then hands whoever pressed a link of their own (see commands._start).
    private_start: str = ""


class Reply(msgspec.Struct, frozen=True):
    platform: str
    chat_id: str
    body: tuple[Span, ...] = ()
    reply_to: str = ""  # message id to reply to, when the platform threads replies
    thread_id: str = ""
    buttons: tuple[tuple[Button, ...], ...] = ()
    ack_press: str = ""  # acknowledge this button press instead of/as well as sending text

    @property
    def plain_text(self) -> str:
        return "".join(span.text for span in self.body)


def to_doc(value: msgspec.Struct) -> dict:
    return msgspec.to_builtins(value)


def event_from_doc(doc: dict) -> Event:
    return msgspec.convert(doc, Event)


def replies_from_doc(docs: list) -> list[Reply]:
    return msgspec.convert(docs, list[Reply])
