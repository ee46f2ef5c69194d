"""POST /hooks/telegram: authenticate, decode, quick look, put in the inbox, answer 200.

Knows Telegram's Update format and nothing about time zones: it hands the core platform-neutral
events. The slow part (deciding and replying) happens after the response, in the worker.
"""

from __future__ import annotations

import hmac
import logging
import time
from datetime import datetime, timezone
from functools import partial
from typing import Annotated

import falcon
import msgspec

from handlers import decode, read_body
from teamops import commands, mentions, relocation
from teamops.logs import ident
from teamops.store import StorageError, level_of
from teamops.events import ButtonPress, ChatGone, ChatMessage, MemberLeft, NotATime, Quoted, to_doc

log = logging.getLogger("teamops.telegram")

PLATFORM = "telegram"

# Telegram's ids are 64-bit integers (a callback query's is a short string): bounded here, so an id
# that reaches the inbox, the store or a log line is as long as Telegram's ever are.
Id = Annotated[int, msgspec.Meta(ge=-(2**63), le=2**63 - 1)]
ShortId = Annotated[str, msgspec.Meta(max_length=64)]


class User(msgspec.Struct):
    id: Id
    is_bot: bool = False
    first_name: str = ""
    username: str = ""


class Chat(msgspec.Struct):
    id: Id
    type: str = ""


class Message(msgspec.Struct):
    message_id: Id
    date: int
    chat: Chat
    from_: User | None = msgspec.field(default=None, name="from")
    text: str = ""
    caption: str = ""
    message_thread_id: Id | None = None
    is_topic_message: bool = False
    left_chat_member: User | None = None
    edit_date: int | None = None  # in an edited_message: when it was edited
    reply_to_message: Message | None = None  # the message this one answers (never nested further)


class CallbackQuery(msgspec.Struct):
    id: ShortId
    from_: User = msgspec.field(name="from")
    data: str = ""
    message: Message | None = None


class ChatMember(msgspec.Struct):
    status: str
    user: User


class ChatMemberUpdated(msgspec.Struct):
    chat: Chat
    date: int
    new_chat_member: ChatMember


class ReactionType(msgspec.Struct):
    type: str
    emoji: str = ""


class MessageReactionUpdated(msgspec.Struct):
    """A person's reactions to a message changed (sent to bots that are administrators of the
    chat, when `message_reaction` is among the webhook's allowed_updates)."""

    chat: Chat
    message_id: Id
    date: int
    user: User | None = None
    new_reaction: list[ReactionType] = []
    old_reaction: list[ReactionType] = []


class Update(msgspec.Struct):
    update_id: Id
    message: Message | None = None
    message_reaction: MessageReactionUpdated | None = None
    edited_message: Message | None = None
    callback_query: CallbackQuery | None = None
    chat_member: ChatMemberUpdated | None = None
    my_chat_member: ChatMemberUpdated | None = None


_decode = msgspec.json.Decoder(Update).decode


def has_time(text: str, sent_at: float, unread_too: bool = False) -> bool:
    """The quick look: does the text hold a time at all? (Which zone it is in is decided later.)
    `unread_too`: also a time the rules may not be able to read, for the language model to try.

    The engine's prefilter answers in about a microsecond for text without digits or time words;
    the full read costs tens of microseconds, far less than the inbox write it saves.
    """
    if not mentions.might_mention_time(text):
        return unread_too and mentions.might_hold_unread_time(text, [])
    found = mentions.find_mentions(text, "UTC", datetime.fromtimestamp(sent_at, timezone.utc))
    return bool(found) or (unread_too and mentions.might_hold_unread_time(text, found))

GONE = ("left", "kicked")
LAST_DATE = 32503680000  # 3000-01-01: far enough for any clock, far from the calendar's end (9999)


def _when(date: int) -> float:
    """A Telegram date (unix seconds) as the moment the core reads times against. A date outside
    1970..3000 (253402300800 is the year 10000, 2**63 far past it) is no clock's: it is taken as
    now, the moment we received it, so the message is still answered and nothing downstream
    (days ahead, week spans, zone rules) meets a date at the calendar's edge."""
    return float(date) if 0 <= date < LAST_DATE else time.time()


def _name(user: User) -> str:
    return user.first_name or user.username or "Someone"


def _thread(message: Message) -> str:
    # Only forum topics are threads we must answer in; other thread ids are reply chains.
    return str(message.message_thread_id) if message.is_topic_message and message.message_thread_id else ""


def _quoted(message: Message | None) -> Quoted | None:
    if message is None or not (message.text or message.caption):
        return None
    writer = message.from_
    return Quoted(
        message_id=str(message.message_id),
        text=message.text or message.caption,
        sent_at=_when(message.date),
        user_id=str(writer.id) if writer is not None and not writer.is_bot else "",
        user_name=_name(writer) if writer is not None else "",
    )


def _edit(message: Message):
    """An edited message, as the same message with its new text. Every edit of a person's text
    goes to the inbox, with or without a time: the original may have had one we answered."""
    sender = message.from_
    text = message.text or message.caption
    if sender is None or sender.is_bot or not text or text.startswith("/"):
        return None  # edits of commands are not followed
    return ChatMessage(
        platform=PLATFORM,
        chat_id=str(message.chat.id),
        user_id=str(sender.id),
        user_name=_name(sender),
        text=text,
        sent_at=_when(message.date),
        message_id=str(message.message_id),
        thread_id=_thread(message),
        private=message.chat.type == "private",
        edited_at=_when(message.edit_date or message.date),
    )


NOT_A_TIME_EMOJI = "\u274c"  # ❌


def _not_a_time(reaction: MessageReactionUpdated):
    """A ❌ newly added by a person: maybe on one of our conversions (the worker looks it up)."""
    if reaction.user is None or reaction.user.is_bot:
        return None
    old = {r.emoji for r in reaction.old_reaction}
    if not any(r.type == "emoji" and r.emoji == NOT_A_TIME_EMOJI and r.emoji not in old for r in reaction.new_reaction):
        return None
    return NotATime(platform=PLATFORM, chat_id=str(reaction.chat.id), user_id=str(reaction.user.id),
                    reply_id=str(reaction.message_id))


def to_event(update: Update, bot_username: str = "", unread_too: bool = False, bot_id: str = ""):
    """The platform-neutral event in this update, or None when there is nothing for us.
    `unread_too`: a message that may hold a time the rules cannot read is for us too (the
    language model is configured). `bot_id`: our bot's user id, to know an answer to our reply."""
    if update.edited_message is not None:
        return _edit(update.edited_message)
    if update.message_reaction is not None:
        return _not_a_time(update.message_reaction)
    message = update.message
    if message is not None:
        chat_id = str(message.chat.id)
        if message.left_chat_member is not None:  # whoever removed them, a moderation bot included
            return MemberLeft(platform=PLATFORM, chat_id=chat_id, user_id=str(message.left_chat_member.id))
        sender = message.from_
        if sender is None or sender.is_bot:
            return None
        text = message.text or message.caption
        if not text:
            return None
        ours = message.reply_to_message
        if (ours is not None and ours.from_ is not None and bot_id and str(ours.from_.id) == bot_id
                and commands.says_not_a_time(text)):
            return NotATime(platform=PLATFORM, chat_id=chat_id, user_id=str(sender.id), reply_id=str(ours.message_id))
        command = text.startswith("/")
        if command:
            if commands.split(text, bot_username) is None:
                return None
        elif not (has_time(text, _when(message.date), unread_too) or relocation.place_phrase(text)):
            return None
        return ChatMessage(
            platform=PLATFORM,
            chat_id=chat_id,
            user_id=str(sender.id),
            user_name=_name(sender),
            text=text,
            sent_at=_when(message.date),
            message_id=str(message.message_id),
            thread_id=_thread(message),
            private=message.chat.type == "private",
            # "/time" sent as a reply converts the message it answers.
            replied_to=_quoted(message.reply_to_message) if command else None,
        )
    press = update.callback_query
    if press is not None:
        origin = press.message
        if origin is None or press.from_.is_bot:
            return None
        return ButtonPress(
            platform=PLATFORM,
            chat_id=str(origin.chat.id),
            user_id=str(press.from_.id),
            user_name=_name(press.from_),
            data=press.data,
            press_id=press.id,
            message_id=str(origin.message_id),
            thread_id=_thread(origin),
            private=origin.chat.type == "private",
        )
    change = update.chat_member
    if change is not None and change.new_chat_member.status in GONE:
        return MemberLeft(platform=PLATFORM, chat_id=str(change.chat.id), user_id=str(change.new_chat_member.user.id))
    mine = update.my_chat_member
    if mine is not None and mine.new_chat_member.status in GONE and mine.chat.type != "private":
        return ChatGone(platform=PLATFORM, chat_id=str(mine.chat.id))
    return None


class TelegramWebhook:
    """The endpoint. A secret it was not given means the endpoint refuses everything (503)."""

    def __init__(self, config, store, worker, sightings):
        self.secret = config.telegram_webhook_secret.encode()
        self.configured = config.telegram_enabled
        self.bot_username = config.telegram_bot_username
        self.bot_id = config.telegram_bot_token.partition(":")[0]  # a bot token starts with the bot's user id
        self.unread_too = config.model_enabled
        self.max_body = config.max_body_bytes
        self.store = store
        self.worker = worker
        self.sightings = sightings

    async def on_post(self, req, resp):
        started = time.perf_counter()
        if not self.configured:
            raise falcon.HTTPServiceUnavailable(title="telegram is not configured")
        given = (req.get_header("X-Telegram-Bot-Api-Secret-Token") or "").encode()
        if not hmac.compare_digest(given, self.secret):
            raise falcon.HTTPUnauthorized(title="invalid secret token")
        body = await read_body(req, self.max_body)
        update = decode(_decode, body, "telegram update")
        event = to_event(update, self.bot_username, self.unread_too, self.bot_id)
        resp.media = {"ok": True}
        if event is None:
            self._note_sender(update, resp)
            return  # nothing for us: no I/O before the answer
        doc = to_doc(event)
        if not self.worker.admits(PLATFORM, doc):  # this chat's backlog is full: Telegram keeps it for now
            raise falcon.HTTPServiceUnavailable(title="busy", headers={"Retry-After": "5"})
        try:
            item = await self.worker.put(PLATFORM, str(update.update_id), doc, redelivered=True)
        except StorageError as exc:
            # Telegram redelivers on a non-2xx answer: the update waits there instead of being lost.
            # An outage or overload is the store's WARNING, said once, not once per request.
            log.log(level_of(exc), "telegram update=%s inbox write failed: %s", ident(update.update_id), type(exc).__name__)
            raise falcon.HTTPServiceUnavailable(title="storage unavailable", headers={"Retry-After": "5"}) from None
        log.info(
            "telegram update=%s chat=%s outcome=%s ms=%.1f",
            ident(update.update_id),
            ident(event.chat_id),
            "queued" if item is not None else "duplicate",
            (time.perf_counter() - started) * 1000,
        )

    def _note_sender(self, update: Update, resp) -> None:
        """Nothing to answer, but the sender is a member of this chat: recorded once per member
        and chat, after the response, so their zone counts here."""
        message = update.message
        sender = message.from_ if message is not None else None
        if sender is None or sender.is_bot:
            return
        chat_id, user_id = str(message.chat.id), str(sender.id)
        if self.sightings.is_new(PLATFORM, chat_id, user_id):
            resp.schedule(partial(self.sightings.note, PLATFORM, chat_id, user_id, _name(sender)))
