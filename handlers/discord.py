"""POST /hooks/discord, the Interactions endpoint: verify, decode, answer within Discord's 3 s.

Knows Discord's interaction format and nothing about time zones. A slash command, the
"Convert times" message command and a button press become the same platform-neutral events the
other platforms make, and go through the inbox and the worker like them. The answer rides in the
HTTP response when the worker decides it in time (well inside the deadline); otherwise the
response defers ("thinking…") and the worker delivers the answer through the interaction's token.
PING and autocomplete are answered here, without the database.
"""

from __future__ import annotations

import asyncio
import logging
import time
from functools import partial
from typing import Annotated

import falcon
import msgspec

from handlers import decode, read_body
from teamops import commands
from teamops.events import ButtonPress, ChatMessage, Quoted, Reply, Span, to_doc
from teamops.senders import discord as wire
from teamops.store import StorageError

log = logging.getLogger("teamops.discord")

PLATFORM = "discord"
INLINE_WAIT_SECONDS = 1.5  # from arrival; Discord gives up at 3 s
SCAN_HOLD_SECONDS = 4.0  # other instances leave a new item alone until it has been acknowledged
AUTOCOMPLETE_CHOICES = 25

PING, COMMAND, COMPONENT, AUTOCOMPLETE = 1, 2, 3, 4
SLASH, MESSAGE_COMMAND = 1, 3
BOT_DM = 1

# Answers only the asker needs are private. The deferral must choose before the core has spoken.
PRIVATE_COMMANDS = frozenset({"tz", "forget", "help", "hours", wire.CONVERT_COMMAND})

NOT_SUPPORTED = "Sorry, I can't do that one. Try /help."
NOT_SAVED = "I couldn't save that just now. Please try again in a minute."
DUPLICATE = {"duplicate": True}  # the wait's result when the inbox already had this interaction

# Discord's ids are snowflakes, 1 to 20 digits, and are read as such: an id that reaches the
# inbox, the store, a reply handle or a log line is one Discord could have made.
Snowflake = Annotated[str, msgspec.Meta(pattern=r"^[0-9]{1,20}$")]
SnowflakeOrNone = Annotated[str, msgspec.Meta(pattern=r"^[0-9]{0,20}$")]  # "": not given


class User(msgspec.Struct):
    id: Snowflake
    username: str = ""
    global_name: str | None = None
    bot: bool = False


class Member(msgspec.Struct):
    user: User | None = None
    nick: str | None = None


class Option(msgspec.Struct):
    name: str
    type: int = 0
    value: str | int | float | bool | None = None
    options: list[Option] = []
    focused: bool = False


class TargetMessage(msgspec.Struct):
    id: str
    content: str = ""
    author: User | None = None


class Resolved(msgspec.Struct):
    messages: dict[str, TargetMessage] = {}


class Data(msgspec.Struct):
    name: str = ""
    type: int = 0
    options: list[Option] = []
    target_id: str = ""
    resolved: Resolved | None = None
    custom_id: str = ""
    component_type: int = 0


class SourceMessage(msgspec.Struct):
    """The message a pressed button is on."""

    id: str
    flags: int = 0


class Interaction(msgspec.Struct):
    id: Snowflake
    type: int
    application_id: str = ""
    token: str = ""
    data: Data | None = None
    guild_id: SnowflakeOrNone = ""
    channel_id: SnowflakeOrNone = ""
    member: Member | None = None
    user: User | None = None
    message: SourceMessage | None = None
    context: int | None = None


_decode = msgspec.json.Decoder(Interaction).decode


def load_verify_key(public_key_hex: str):
    """PyNaCl's verifier for the application's key (the import costs ~35 ms: done at start-up,
    off the event loop)."""
    from nacl.signing import VerifyKey

    return VerifyKey(bytes.fromhex(public_key_hex))


def signature_ok(key, signature_hex: str, timestamp: str, body: bytes) -> bool:
    """Ed25519 over timestamp + the raw body, as Discord signs it. Any doubt is a no."""
    from nacl.exceptions import BadSignatureError

    try:
        signature = bytes.fromhex(signature_hex)
        signed = timestamp.encode("ascii") + body
    except (ValueError, UnicodeEncodeError):
        return False
    if len(signature) != 64 or not timestamp:
        return False
    try:
        key.verify(signed, signature)
        return True
    except (BadSignatureError, ValueError, TypeError):
        return False


def _person(interaction: Interaction) -> tuple[User | None, str]:
    member = interaction.member
    user = member.user if member is not None and member.user is not None else interaction.user
    if user is None:
        return None, ""
    name = (member.nick if member is not None else None) or user.global_name or user.username or "Someone"
    return user, name


def _options(options: list[Option]) -> dict[str, str]:
    return {o.name: str(o.value).strip() for o in options if o.value is not None and o.type != 1}


def command_text(data: Data) -> str | None:
    """A slash command as the text command the core reads ("/zones add Asia/Tokyo"); None for a
    command we do not have."""
    name = data.name
    values = _options(data.options)
    if name == "time":
        return f"/time {values.get('text', '')}".strip()
    if name == "tz":
        return f"/tz {values.get('zone', '')}".strip()
    if name == "format":
        return f"/format {values.get('style', '')}".strip()
    if name == "zones":
        sub = next((o for o in data.options if o.type == 1), None)
        if sub is None or sub.name == "list":
            return "/zones"
        if sub.name in ("add", "remove"):
            return f"/zones {sub.name} {_options(sub.options).get('zone', '')}".strip()
        if sub.name == "unlearn":
            return "/zones unlearn"
        return None
    if name == "hours":
        return f"/hours {values.get('hours', '')}".strip()
    if name == "overlap":
        return f"/overlap {values.get('duration', '')} {values.get('days', '')}".strip()
    if name == "notices":
        return f"/notices {values.get('state', '')}".strip()
    if name in ("mute", "unmute", "forget", "help"):
        return f"/{name}"
    return None


def to_event(interaction: Interaction):
    """The platform-neutral event for a command or a press, or None when we do not support it."""
    user, name = _person(interaction)
    data = interaction.data
    if user is None or user.bot or data is None or not interaction.channel_id or not interaction.token:
        return None
    sent_at = wire.snowflake_time(interaction.id) or time.time()
    common = dict(platform=PLATFORM, chat_id=interaction.channel_id, user_id=user.id, user_name=name)
    if interaction.type == COMPONENT:
        if data.custom_id.startswith(wire.START_PREFIX):
            # A public "Set my time zone" button: whoever pressed gets a link of their own, privately.
            code = data.custom_id[len(wire.START_PREFIX):]
            return ChatMessage(**common, text=f"/start {code}", sent_at=sent_at, private=True,
                               reply_handle=wire.make_handle(interaction.id, interaction.token, True))
        source = interaction.message
        private = bool(source is not None and source.flags & wire.EPHEMERAL)
        return ButtonPress(**common, data=data.custom_id[:100], press_id=interaction.id,
                           message_id=source.id if source is not None else "",
                           reply_handle=wire.make_handle(interaction.id, interaction.token, private))
    if interaction.type != COMMAND:
        return None
    handle = wire.make_handle(interaction.id, interaction.token, data.name in PRIVATE_COMMANDS)
    if data.type == MESSAGE_COMMAND and data.name == wire.CONVERT_COMMAND:
        target = (data.resolved.messages if data.resolved else {}).get(data.target_id)
        if target is None:
            return None
        # "/time" on the target message, the core's on-demand conversion: `replied_to` is the
        # message to convert, read as of when it was written.
        written = wire.snowflake_time(target.id) or sent_at
        author = target.author
        quoted = Quoted(message_id=target.id, text=target.content, sent_at=written,
                        user_id=author.id if author is not None else "",
                        user_name=(author.global_name or author.username) if author is not None else "")
        return ChatMessage(**common, text="/time", sent_at=written, replied_to=quoted,
                           reply_handle=handle)
    if data.type != SLASH:
        return None
    text = command_text(data)
    if text is None:
        return None
    return ChatMessage(**common, text=text, sent_at=sent_at, private=interaction.context == BOT_DM, reply_handle=handle)


def _private_note(text: str) -> dict:
    return {"type": wire.MESSAGE, "data": {"content": text, "flags": wire.EPHEMERAL, "allowed_mentions": wire.NO_MENTIONS}}


class DiscordInteractions:
    """The endpoint. Without a public key (and the application's id and bot token) it refuses
    everything (503)."""

    def __init__(self, config, store, worker, senders: dict, sightings):
        self.configured = config.discord_enabled
        self.public_key = config.discord_public_key
        self.max_body = config.max_body_bytes
        self.store = store
        self.worker = worker
        self.senders = senders
        self.sightings = sightings
        self._key = None
        self._background: set[asyncio.Task] = set()

    def load_key(self) -> None:
        if self.configured and self._key is None:
            self._key = load_verify_key(self.public_key)

    async def on_post(self, req, resp):
        started = time.perf_counter()
        if not self.configured:
            raise falcon.HTTPServiceUnavailable(title="discord is not configured")
        body = await read_body(req, self.max_body)
        if self._key is None:
            self.load_key()  # only a request that beat start-up pays for the import
        if not signature_ok(self._key, req.get_header("X-Signature-Ed25519") or "",
                            req.get_header("X-Signature-Timestamp") or "", body):
            raise falcon.HTTPUnauthorized(title="invalid request signature")
        interaction = decode(_decode, body, "discord interaction")
        if interaction.type == PING:
            resp.media = {"type": wire.PONG}
            return
        if interaction.type == AUTOCOMPLETE:
            resp.media = await self._suggest(interaction)
            return
        event = to_event(interaction)
        if event is None:
            log.info("discord interaction=%s type=%s outcome=unsupported", interaction.id[:24], str(interaction.type)[:8])
            resp.media = _private_note(NOT_SUPPORTED)
            return
        resp.media, outcome, waiter = await self._answer(interaction, event, started)
        if waiter is not None:  # follow-ups may go once the response is out
            resp.schedule_sync(waiter.responded)
        if self.sightings.is_new(PLATFORM, event.chat_id, event.user_id):
            # After the response, once per process: the person is a member here, so their zone counts.
            resp.schedule(partial(self.sightings.note, PLATFORM, event.chat_id, event.user_id, event.user_name,
                                  interaction.guild_id))
        log.info("discord interaction=%s channel=%s outcome=%s ms=%.1f", interaction.id[:24], event.chat_id[:24],
                 outcome, (time.perf_counter() - started) * 1000)

    async def _answer(self, interaction: Interaction, event, started: float):
        """Store the event, hand it to the worker and wait a bounded time for its answer:
        (response, outcome for the log, the waiter when the response carries the answer)."""
        press = isinstance(event, ButtonPress)
        private = wire.parse_handle(event.reply_handle).private
        answers = self.worker.answers
        waiter = answers.expect(PLATFORM, interaction.id, wire.respond)
        if waiter is None:  # the same interaction is being answered right now
            return wire.deferred(private, press), "duplicate", None
        task = asyncio.create_task(self._store(interaction.id, event, waiter))
        self._background.add(task)
        task.add_done_callback(self._background.discard)
        remaining = INLINE_WAIT_SECONDS - (time.perf_counter() - started)
        try:
            # The store task goes on whatever happens here; the wait only bounds the response.
            async with asyncio.timeout(max(0.0, remaining)):
                await asyncio.shield(waiter.decided)
        except TimeoutError:
            pass
        except StorageError:
            return _private_note(NOT_SAVED), "storage-unavailable", None
        if answers.defer(PLATFORM, interaction.id, waiter):
            return wire.deferred(private, press), "deferred", None
        response = waiter.decided.result()
        if response is DUPLICATE:
            return wire.deferred(private, press), "duplicate", None
        sender = self.senders.get(PLATFORM)
        if sender is not None:
            sender.answered(event.reply_handle)
        return response, "answered", waiter

    async def _store(self, interaction_id: str, event, waiter) -> None:
        """Put the event in the inbox and offer it to the worker. A duplicate or a storage
        failure ends the wait; a failure after the response deferred is told to the asker."""
        answers = self.worker.answers
        try:
            item = await self.worker.put(PLATFORM, interaction_id, to_doc(event), due_in=SCAN_HOLD_SECONDS)
        except StorageError as exc:
            log.warning("discord interaction=%s inbox write failed: %s", interaction_id[:24], type(exc).__name__)
            if answers.waiting(PLATFORM, interaction_id, waiter):
                answers.defer(PLATFORM, interaction_id, waiter)
                waiter.decided.set_exception(StorageError(type(exc).__name__))
            elif not waiter.decided.done():
                await self._tell_not_saved(event)
            return
        if item is None:
            if answers.waiting(PLATFORM, interaction_id, waiter):
                answers.defer(PLATFORM, interaction_id, waiter)
                waiter.decided.set_result(DUPLICATE)

    async def _tell_not_saved(self, event) -> None:
        """The response deferred, then the inbox write failed: say so where the answer would be."""
        sender = self.senders.get(PLATFORM)
        if sender is None:
            return
        await asyncio.sleep(0.5)  # let the deferral reach Discord first
        try:
            await sender.send(Reply(platform=PLATFORM, chat_id=event.chat_id, reply_handle=event.reply_handle,
                                    body=(Span(NOT_SAVED),)))
        except Exception as exc:
            log.warning("discord: telling the asker failed: %s", type(exc).__name__)

    async def _suggest(self, interaction: Interaction) -> dict:
        data = interaction.data
        typed = ""
        for option in _flatten(data.options if data else []):
            if option.focused:
                typed = str(option.value or "")
        choices = await asyncio.to_thread(commands.zone_suggestions, typed, AUTOCOMPLETE_CHOICES)
        return {"type": wire.AUTOCOMPLETE_RESULT,
                "data": {"choices": [{"name": label[:100], "value": tz[:100]} for label, tz in choices]}}


def _flatten(options: list[Option]):
    for option in options:
        yield option
        yield from _flatten(option.options)
