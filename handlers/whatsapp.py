"""GET and POST /hooks/whatsapp: the WhatsApp Cloud API webhook. The GET is Meta's handshake; a
POST is checked (X-Hub-Signature-256 over the raw body), decoded, looked at quickly, and every
message in it put in the inbox under its wamid before the 200.

Knows the Cloud API's notification format and its ids (business-scoped user ids, phone numbers,
group ids) and nothing about time zones: it hands the core platform-neutral events; the worker
decides and teamops/senders/whatsapp.py replies.

Ids the core sees:
- a person: their BSUID with "." written as "-" ("US-13491208655302741918"; the store uses ids as
  field names, where a dot would mean nesting), else their phone number (wa_id, digits). The
  phone beside a BSUID travels as an alias, so someone first seen by phone stays one person.
- a chat: the person's id for a one-to-one chat, "group:" + group_id for a group.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import re
import time
from datetime import datetime, timezone
from functools import partial
from typing import Annotated

import falcon
import msgspec

from handlers import decode, read_body
from teamops import commands, mentions, relocation
from teamops.events import ButtonPress, ChatMessage, NotATime, to_doc
from teamops.store import StorageError, level_of

log = logging.getLogger("teamops.whatsapp")

PLATFORM = "whatsapp"
GROUP = "group:"  # chat ids of groups start with this; a one-to-one chat's id is the person's
OBJECT = "whatsapp_business_account"
NOT_A_TIME_EMOJI = "\u274c"  # ❌ on one of our conversions: "not a time"
DIRECT_NOTE_EVERY = 600.0  # seconds: how often a person's one-to-one writing is recorded, at most
DIRECT_KEPT = 50_000
CHALLENGE = re.compile(r"[0-9]{1,64}")  # Meta's challenges are numbers; anything else is not echoed
# The ids we key people on, as Meta documents them; anything else is not taken for an id (the
# store uses them in field names, where "." or "$" would change what a write means).
PHONE = re.compile(r"[0-9]{5,20}")
BSUID = re.compile(r"[A-Z]{2}(?:\.[A-Za-z0-9]{1,128}){1,3}")
# A wamid is some 60 characters: one far longer is no message id (it is the inbox key, and logged).
MessageId = Annotated[str, msgspec.Meta(max_length=200)]


# ----------------------------------------------------------------------------- wire types
class Profile(msgspec.Struct):
    name: str = ""


class Contact(msgspec.Struct):
    profile: Profile | None = None
    wa_id: str = ""  # the phone number, digits; may be withheld for people with usernames
    user_id: str = ""  # the BSUID, "US.13491208655302741918"


class Text(msgspec.Struct):
    body: str = ""


class ButtonReply(msgspec.Struct):
    id: str = ""  # our button's id: the core's data
    title: str = ""


class Interactive(msgspec.Struct):
    type: str = ""
    button_reply: ButtonReply | None = None


class Context(msgspec.Struct):
    id: str = ""  # the message this one answers (for a tap: our buttons message)


class Reaction(msgspec.Struct):
    """`type: reaction` (not in platforms.md; the shape of whatsapp-api-js's ServerReactionMessage):
    an emoji put on a message, or taken off (no emoji)."""

    message_id: str = ""
    emoji: str = ""


class Message(msgspec.Struct):
    id: MessageId  # the wamid: every delivery of this message carries it
    type: str = ""
    from_: str = msgspec.field(default="", name="from")
    from_user_id: str = ""
    timestamp: str = ""
    group_id: str = ""
    text: Text | None = None
    interactive: Interactive | None = None
    context: Context | None = None
    reaction: Reaction | None = None


class StatusError(msgspec.Struct):
    code: int = 0


class Status(msgspec.Struct):
    id: str = ""  # the wamid of our message
    status: str = ""  # sent | delivered | read | played | failed
    errors: list[StatusError] = []


class Metadata(msgspec.Struct):
    display_phone_number: str = ""
    phone_number_id: str = ""


class Value(msgspec.Struct):
    metadata: Metadata | None = None
    contacts: list[Contact] = []
    messages: list[Message] = []
    statuses: list[Status] = []


class Change(msgspec.Struct):
    field: str = ""
    value: msgspec.Raw = msgspec.Raw()  # read only for field "messages": other fields have other shapes


class Entry(msgspec.Struct):
    id: str = ""
    changes: list[Change] = []


class Notification(msgspec.Struct):
    object: str
    entry: list[Entry]


_decode = msgspec.json.Decoder(Notification).decode
_decode_value = msgspec.json.Decoder(Value).decode


class Business:
    """Our business number (digits), for the wa.me links a group gets: WHATSAPP_BUSINESS_NUMBER,
    else learned from the first webhook's metadata. Shared by the handler and the sender."""

    def __init__(self, number: str = ""):
        self.number = number

    def learn(self, metadata: Metadata | None) -> None:
        if self.number or metadata is None:
            return
        digits = re.sub(r"\D", "", metadata.display_phone_number)
        if 6 <= len(digits) <= 15:
            self.number = digits


# ----------------------------------------------------------------------------- pure parts
def signature_ok(secret: bytes, header: str, body: bytes) -> bool:
    """`sha256=<hex HMAC-SHA256(app secret, raw body)>`, compared in constant time."""
    scheme, _, given = header.partition("=")
    if scheme.strip().lower() != "sha256" or not given:
        return False
    expected = hmac.new(secret, body, hashlib.sha256).hexdigest().encode()
    return hmac.compare_digest(expected, given.strip().lower().encode("utf-8", "replace"))


def user_key(bsuid: str, phone: str) -> str:
    """The id the core knows a person by: the BSUID when given (dot-free), else the phone."""
    return bsuid.replace(".", "-") if bsuid else phone


def has_time(text: str, sent_at: float, unread_too: bool = False) -> bool:
    """The quick look: does the text hold a time at all? (see handlers/telegram.py)"""
    if not mentions.might_mention_time(text):
        return unread_too and mentions.might_hold_unread_time(text, [])
    found = mentions.find_mentions(text, "UTC", datetime.fromtimestamp(sent_at, timezone.utc))
    return bool(found) or (unread_too and mentions.might_hold_unread_time(text, found))


def worth_reading(text: str, sent_at: float, unread_too: bool = False) -> bool:
    if text.startswith("/"):
        return commands.split(text) is not None
    return has_time(text, sent_at, unread_too) or bool(relocation.place_phrase(text))


def _seconds(timestamp: str) -> float:
    return float(timestamp) if timestamp.isascii() and timestamp.isdigit() and len(timestamp) <= 11 else time.time()


class Writer(msgspec.Struct, frozen=True):
    """Who wrote a message, as the core knows them."""

    user_id: str
    name: str
    phone: str  # "" when withheld
    aliases: tuple[str, ...]


def writer_of(message: Message, contacts: list[Contact]) -> Writer | None:
    """The message's writer, from its own fields and the matching `contacts` entry (which may carry
    the BSUID where the message has only the phone, or the other way round)."""
    contact = next(
        (c for c in contacts if (message.from_ and c.wa_id == message.from_)
         or (message.from_user_id and c.user_id == message.from_user_id)),
        # A message that names nobody belongs to the one contact the change lists, if one.
        contacts[0] if len(contacts) == 1 and not (message.from_ or message.from_user_id) else None,
    )
    contact = contact or Contact()
    phone = message.from_ or contact.wa_id
    bsuid = message.from_user_id or contact.user_id
    phone = phone if PHONE.fullmatch(phone) else ""
    bsuid = bsuid if BSUID.fullmatch(bsuid) else ""
    key = user_key(bsuid, phone)
    if not key:
        return None
    name = (contact.profile or Profile()).name.strip() or "Someone"
    return Writer(user_id=key, name=name[:100], phone=phone, aliases=(phone,) if bsuid and phone else ())


def chat_of(message: Message, writer: Writer) -> tuple[str, bool]:
    """(chat id, one-to-one?)"""
    if message.group_id:
        return GROUP + message.group_id[:200], False
    return writer.user_id, True


def to_event(message: Message, writer: Writer, unread_too: bool = False):
    """The platform-neutral event in one message, or None when there is nothing for us: text we
    do not read, a type we do not serve (media, locations, reactions other than ❌, …), a tap on
    something that is not a reply button. Edits of messages are not part of the documented webhook:
    not served."""
    chat_id, direct = chat_of(message, writer)
    common = dict(platform=PLATFORM, chat_id=chat_id, user_id=writer.user_id, user_name=writer.name,
                  private=direct, aliases=writer.aliases, reply_handle=writer.phone)
    if message.type == "reaction" and message.reaction is not None:
        reaction = message.reaction
        if reaction.emoji != NOT_A_TIME_EMOJI or not reaction.message_id:
            return None
        return NotATime(platform=PLATFORM, chat_id=chat_id, user_id=writer.user_id, reply_id=reaction.message_id)
    if message.type == "text" and message.text is not None:
        text = message.text.body.strip()
        answered = (message.context or Context()).id
        if answered and commands.says_not_a_time(text):
            # "not a time" as a reply to a message: the worker looks up whether it is one of ours.
            return NotATime(platform=PLATFORM, chat_id=chat_id, user_id=writer.user_id, reply_id=answered)
        sent_at = _seconds(message.timestamp)
        if not text or not worth_reading(text, sent_at, unread_too):
            return None
        return ChatMessage(text=text, sent_at=sent_at, message_id=message.id, **common)
    if message.type == "interactive" and message.interactive is not None:
        tap = message.interactive.button_reply
        if message.interactive.type != "button_reply" or tap is None or not tap.id:
            return None
        return ButtonPress(data=tap.id, press_id=message.id, message_id=(message.context or Context()).id, **common)
    return None


# ----------------------------------------------------------------------------- the endpoint
class WhatsAppWebhook:
    """GET: the handshake (503 without WHATSAPP_VERIFY_TOKEN). POST: deliveries (503 until the app
    secret, the access token and the phone number id are all set: we could not answer anyway)."""

    def __init__(self, config, store, worker, sightings, business: Business):
        self.secret = config.whatsapp_app_secret.encode()
        self.verify_token = config.whatsapp_verify_token.encode()
        self.configured = config.whatsapp_enabled
        self.phone_number_id = config.whatsapp_phone_number_id
        self.unread_too = config.model_enabled
        self.max_body = config.max_body_bytes
        self.store = store
        self.worker = worker
        self.sightings = sightings
        self.business = business
        self._direct_noted: dict[str, float] = {}  # user -> when noted last, this process

    async def on_get(self, req, resp):
        if not self.verify_token:
            raise falcon.HTTPServiceUnavailable(title="whatsapp is not configured")
        mode = req.get_param("hub.mode") or ""
        token = (req.get_param("hub.verify_token") or "").encode("utf-8", "replace")
        challenge = req.get_param("hub.challenge") or ""
        if mode != "subscribe" or not hmac.compare_digest(token, self.verify_token) or not CHALLENGE.fullmatch(challenge):
            raise falcon.HTTPForbidden(title="verification refused")
        resp.content_type = falcon.MEDIA_TEXT
        resp.text = challenge
        log.info("whatsapp webhook verified")

    async def on_post(self, req, resp):
        started = time.perf_counter()
        if not self.configured:
            raise falcon.HTTPServiceUnavailable(title="whatsapp is not configured")
        header = req.get_header("X-Hub-Signature-256") or ""
        if not header:
            raise falcon.HTTPUnauthorized(title="missing signature")
        body = await read_body(req, self.max_body)
        if not signature_ok(self.secret, header, body):
            raise falcon.HTTPUnauthorized(title="invalid signature")
        notification = decode(_decode, body, "whatsapp notification")
        values = [
            decode(_decode_value, change.value, "whatsapp notification")
            for entry in notification.entry
            for change in entry.changes
            if change.field == "messages" and len(change.value)
        ]
        resp.media = {"ok": True}
        if notification.object != OBJECT:
            return  # another product's notification signed by the same app: not ours to read
        stored = []
        for value in values:
            metadata = value.metadata or Metadata()
            if self.phone_number_id and metadata.phone_number_id and metadata.phone_number_id != self.phone_number_id:
                log.info("whatsapp delivery for another number id=%s: ignored", metadata.phone_number_id[:30])
                continue
            self.business.learn(value.metadata)
            for status in value.statuses:
                self._status(status)
            for message in value.messages:
                found = self._look(message, value.contacts, resp)
                if found is not None:
                    stored.append(self._store(*found, started))
        if len(stored) == 1:
            await stored[0]
        elif stored:
            # At once: the inbox writes of one delivery go to the database together (store._GroupInsert).
            await asyncio.gather(*stored)

    def _status(self, status: Status) -> None:
        if status.status != "failed":
            return  # sent, delivered, read, played: nothing to do
        codes = ",".join(str(error.code) for error in status.errors[:3]) or "none"
        log.warning("whatsapp reply failed: message=%s code=%s", status.id[:80], codes)

    def _look(self, message: Message, contacts: list[Contact], resp):
        """The quick look at one message: (wamid, chat id, event) to store, or None (no I/O)."""
        writer = writer_of(message, contacts)
        if writer is None:
            return None
        chat_id, direct = chat_of(message, writer)
        if direct:
            self._note_direct(writer.user_id, _seconds(message.timestamp), resp)
        event = to_event(message, writer, self.unread_too)
        if event is None:
            if not direct and self.sightings.is_new(PLATFORM, chat_id, writer.user_id):
                # No time, but a member of this group: their zone counts here from now on.
                resp.schedule(partial(self.sightings.note, PLATFORM, chat_id, writer.user_id, writer.name))
            return None
        return message, chat_id, event

    async def _store(self, message: Message, chat_id: str, event, started: float) -> None:
        doc = to_doc(event)
        if not self.worker.admits(PLATFORM, doc):  # this chat's backlog is full: Meta keeps it for now
            raise falcon.HTTPServiceUnavailable(title="busy", headers={"Retry-After": "5"})
        try:
            item = await self.worker.put(PLATFORM, message.id, doc, redelivered=True)
        except StorageError as exc:
            # Meta delivers again on a non-200: the message waits there, and the ones stored
            # already come back as duplicates. An outage or overload is the store's WARNING.
            log.log(level_of(exc), "whatsapp message=%s inbox write failed: %s", message.id[:80], type(exc).__name__)
            raise falcon.HTTPServiceUnavailable(title="storage unavailable", headers={"Retry-After": "5"}) from None
        log.info("whatsapp message=%s chat=%s outcome=%s ms=%.1f", message.id[:80], chat_id[:60],
                 "queued" if item is not None else "duplicate", (time.perf_counter() - started) * 1000)

    def _note_direct(self, user_id: str, at: float, resp) -> None:
        """They wrote to us one-to-one: their 24-hour window is open (recorded after the
        response, at most every DIRECT_NOTE_EVERY seconds per person: an older stamp only makes
        the window look shorter, never longer)."""
        last = self._direct_noted.get(user_id, 0.0)
        if at - last < DIRECT_NOTE_EVERY:
            return
        if len(self._direct_noted) >= DIRECT_KEPT:
            self._direct_noted.pop(next(iter(self._direct_noted)))
        self._direct_noted[user_id] = at
        resp.schedule(partial(self._record_direct, user_id, at))

    async def _record_direct(self, user_id: str, at: float) -> None:
        try:
            await self.store.note_direct(PLATFORM, user_id, at)
        except Exception as exc:  # best effort: a private answer then goes to the group's fallback
            self._direct_noted.pop(user_id, None)
            log.warning("whatsapp noting a one-to-one message failed: %s", type(exc).__name__)
