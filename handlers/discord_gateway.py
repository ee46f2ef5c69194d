"""The Discord Gateway: messages written in channels and DMs, their edits, and people leaving a
server, read from the one long-lived websocket Discord delivers them on (no webhook carries them).

Knows the Gateway's dispatch payloads and nothing about time zones. Each new message a person wrote
with a time in it (or "I moved to …"), and each edit of one, becomes the same platform-neutral
ChatMessage the other platforms make and goes into the same inbox, keyed by the message id (an
edit by the message id and its edit stamp), so a dispatch Discord delivers twice, as it may after a
resume, is stored once and answered once. The worker in the same process answers over REST.

The connection itself is hikari's (`GatewayConnection`): it identifies with only the intents we
need, heartbeats, and resumes or reconnects by itself; it caches nothing, and we read the raw
dispatches (`ShardPayloadEvent`) into our own Structs, so no message is kept in memory after it
has been read. Where to connect comes from `GET /gateway/bot` on DISCORD_API_BASE, so pointing that
setting at a fake REST API points the whole connection at a fake Gateway.
"""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import datetime, timezone

import msgspec

from teamops import commands, mentions, relocation
from teamops.events import ChatGone, ChatMessage, MemberLeft, NotATime, to_doc
from teamops.senders.discord import snowflake_time
from teamops.store import StorageError

log = logging.getLogger("teamops.discord.gateway")

PLATFORM = "discord"

# Intents (Discord's bit numbers). MESSAGE_CONTENT and GUILD_MEMBERS are privileged: each must be
# switched on for the bot in the Developer Portal (README, "Discord Gateway").
GUILDS, GUILD_MEMBERS, GUILD_MESSAGES, DIRECT_MESSAGES, MESSAGE_CONTENT = 1 << 0, 1 << 1, 1 << 9, 1 << 12, 1 << 15
# Reactions (not privileged): a ❌ on one of our conversions says "not a time".
GUILD_MESSAGE_REACTIONS, DIRECT_MESSAGE_REACTIONS = 1 << 10, 1 << 13
INTENTS = (GUILDS | GUILD_MESSAGES | DIRECT_MESSAGES | MESSAGE_CONTENT | GUILD_MESSAGE_REACTIONS
           | DIRECT_MESSAGE_REACTIONS)
NOT_A_TIME_EMOJI = "\u274c"  # ❌
DISALLOWED_INTENTS, AUTHENTICATION_FAILED = 4014, 4004

PERSON_MESSAGE_TYPES = (0, 19)  # DEFAULT and REPLY; the rest are joins, pins, boosts …
STORE_RETRY_SECONDS = (0.5, 1.0, 2.0, 4.0, 8.0, 16.0)  # a dispatch is never redelivered once read
REFUSED_RETRY_SECONDS = 60.0  # Discord refused the bot (token, intents): try again this often
FAILED_RETRY_SECONDS = (1.0, 5.0, 15.0, 30.0, 60.0)


def loop_exception(loop, context: dict) -> None:
    """The event loop's handler for errors no task awaited: the library reports a dispatch it could
    not read this way, with the raw payload attached, and a payload may hold message text. Say what
    and which kind, never the payload."""
    exc = context.get("exception")
    log.error("discord gateway: %s (%s)", str(context.get("message", "unhandled error"))[:120],
              type(exc).__name__ if exc is not None else "no exception")


def lease_name(application_id: str) -> str:
    """One Gateway session per bot: the lease all copies of `discord-gateway` share."""
    return f"discord-gateway:{application_id}"


# ---------------------------------------------------------------- what we read
class Author(msgspec.Struct):
    id: str
    username: str = ""
    global_name: str | None = None
    bot: bool = False
    system: bool = False


class MessageMember(msgspec.Struct):
    nick: str | None = None


class Message(msgspec.Struct):
    """A MESSAGE_CREATE, or a MESSAGE_UPDATE (which may carry only some of the fields)."""

    id: str
    channel_id: str
    guild_id: str = ""
    author: Author | None = None
    member: MessageMember | None = None
    content: str | None = None  # "" without the Message Content intent; absent in some updates
    type: int = 0
    webhook_id: str | None = None
    edited_timestamp: str | None = None
    referenced_message: "Replied | None" = None  # the message this one replies to


class Replied(msgspec.Struct):
    id: str


class Emoji(msgspec.Struct):
    name: str | None = None
    id: str | None = None


class ReactionMember(msgspec.Struct):
    user: Author | None = None


class ReactionAdd(msgspec.Struct):
    """MESSAGE_REACTION_ADD: someone reacted to a message."""

    user_id: str
    channel_id: str
    message_id: str
    emoji: Emoji
    guild_id: str = ""
    member: ReactionMember | None = None


class MemberRemove(msgspec.Struct):
    guild_id: str
    user: Author


class GuildDelete(msgspec.Struct):
    id: str
    unavailable: bool = False  # True: an outage, not the bot leaving


_MESSAGE_EVENTS = ("MESSAGE_CREATE", "MESSAGE_UPDATE")
HANDLED = frozenset(_MESSAGE_EVENTS + ("GUILD_MEMBER_REMOVE", "GUILD_DELETE", "MESSAGE_REACTION_ADD"))


def _stamp(text: str | None) -> float:
    if not text:
        return 0.0
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return 0.0
    return (moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)).timestamp()


def read(name: str, payload) -> tuple[str, object] | None:
    """(inbox event id, platform-neutral event) for a dispatch we use, None for anything else.
    Raises msgspec.ValidationError for a payload of the wrong shape."""
    if name in _MESSAGE_EVENTS:
        message = msgspec.convert(payload, Message)
        author = message.author
        if (author is None or author.bot or author.system or message.webhook_id
                or message.type not in PERSON_MESSAGE_TYPES or not message.content):
            return None
        if message.content.startswith("/"):
            return None  # Discord's commands are interactions (handlers/discord.py); this is just text
        if (name == "MESSAGE_CREATE" and message.referenced_message is not None
                and commands.says_not_a_time(message.content)):
            # "not a time" answering a message: one of our conversions, if the reply store says so.
            return f"{message.id}:not-a-time", NotATime(platform=PLATFORM, chat_id=message.channel_id,
                                                        user_id=author.id, reply_id=message.referenced_message.id)
        edited_at = 0.0
        event_id = message.id
        if name == "MESSAGE_UPDATE":
            edited_at = _stamp(message.edited_timestamp)
            if not edited_at:
                return None  # an embed unfurled, a pin: not an edit of the text
            event_id = f"{message.id}:edit:{message.edited_timestamp}"
        nick = message.member.nick if message.member is not None else None
        return event_id, ChatMessage(
            platform=PLATFORM,
            chat_id=message.channel_id,
            user_id=author.id,
            user_name=nick or author.global_name or author.username or "Someone",
            text=message.content,
            sent_at=snowflake_time(message.id) or time.time(),
            message_id=message.id,
            private=not message.guild_id,
            edited_at=edited_at,
            space_id=message.guild_id,
        )
    if name == "MESSAGE_REACTION_ADD":
        reaction = msgspec.convert(payload, ReactionAdd)
        person = reaction.member.user if reaction.member is not None else None
        if reaction.emoji.name != NOT_A_TIME_EMOJI or (person is not None and person.bot):
            return None
        return (f"react:{reaction.message_id}:{reaction.user_id}",
                NotATime(platform=PLATFORM, chat_id=reaction.channel_id, user_id=reaction.user_id,
                         reply_id=reaction.message_id))
    if name == "GUILD_MEMBER_REMOVE":
        removed = msgspec.convert(payload, MemberRemove)
        # Leaving twice is the same as leaving once, so every removal is its own item.
        return (f"left:{removed.guild_id}:{removed.user.id}:{time.time_ns()}",
                MemberLeft(platform=PLATFORM, chat_id="", user_id=removed.user.id, space_id=removed.guild_id))
    if name == "GUILD_DELETE":
        gone = msgspec.convert(payload, GuildDelete)
        if gone.unavailable:
            return None
        return f"gone:{gone.id}:{time.time_ns()}", ChatGone(platform=PLATFORM, chat_id="", space_id=gone.id)
    return None


def worth_a_look(message: ChatMessage) -> bool:
    """The quick look (as for Telegram): a new message goes to the inbox only if it may hold a
    time or a move. Every edit goes: the text before it may have had a time we answered."""
    if message.edited_at:
        return True
    text = message.text
    if mentions.might_mention_time(text) and mentions.find_mentions(
        text, "UTC", datetime.fromtimestamp(message.sent_at, timezone.utc)
    ):
        return True
    return bool(relocation.place_phrase(text))


# ---------------------------------------------------------------- into the inbox
class GatewayFeed:
    """Each dispatch we use becomes an inbox item, handed to this process's worker."""

    def __init__(self, store, worker, sightings, retry_seconds=STORE_RETRY_SECONDS):
        self.store = store
        self.worker = worker
        self.sightings = sightings
        self.retry_seconds = retry_seconds

    async def on_dispatch(self, name: str, payload) -> None:
        if name not in HANDLED:
            return
        started = time.perf_counter()
        try:
            found = read(name, payload)
        except (msgspec.ValidationError, TypeError) as exc:
            log.warning("discord gateway %s: unreadable payload (%s)", name, str(exc)[:200])
            return
        if found is None:
            return
        event_id, event = found
        if isinstance(event, ChatMessage) and not worth_a_look(event):
            # Nothing to answer, but the writer is a member here: their zone counts in this channel.
            if self.sightings.is_new(PLATFORM, event.chat_id, event.user_id):
                await self.sightings.note(PLATFORM, event.chat_id, event.user_id, event.user_name, event.space_id)
            return
        _, outcome = await self._put(event_id, event)
        log.info("discord gateway %s event=%s chat=%s outcome=%s ms=%.1f", name.lower(), event_id[:48],
                 (event.chat_id or event.space_id)[:24], outcome, (time.perf_counter() - started) * 1000)

    async def _put(self, event_id: str, event) -> tuple[dict | None, str]:
        # Discord does not deliver a dispatch again once we have read it: a short database outage
        # is waited out here rather than losing the message.
        for attempt, delay in enumerate((*self.retry_seconds, None)):
            try:
                item = await self.worker.put(PLATFORM, event_id, to_doc(event))
                return item, "queued" if item is not None else "duplicate"
            except StorageError as exc:
                if delay is None:
                    log.error("discord gateway event=%s: inbox write failed %d times (%s); this message is not "
                              "answered", event_id[:48], attempt + 1, type(exc).__name__)
                    return None, "lost"
                log.warning("discord gateway event=%s: inbox write failed (%s); again in %.1fs", event_id[:48],
                            type(exc).__name__, delay)
                await asyncio.sleep(delay)
        return None, "lost"


# ---------------------------------------------------------------- the connection
class GatewayConnection:
    """One Gateway session (hikari's GatewayBot with one shard), started again whenever it ends,
    until cancelled. `status()` says how it is, for the lease's heartbeat."""

    def __init__(self, token: str, rest_url: str, feed: GatewayFeed, intents: int = INTENTS | GUILD_MEMBERS):
        self.token = token
        self.rest_url = rest_url
        self.feed = feed
        self.intents = intents
        self.state = "idle"  # connecting | connected | reconnecting | refused | failed
        self.session_id = ""
        self._down_since: float | None = None
        self._background: set[asyncio.Task] = set()

    def status(self) -> tuple[str, bool]:
        return self.state, self.state == "connected"

    async def run(self) -> None:
        import hikari

        failures = 0
        while True:
            bot = self._bot(hikari)
            self.state = "connecting"
            started = time.monotonic()
            try:
                await bot.start(check_for_updates=False)
                await bot.join()
                wait = 1.0
            except hikari.GatewayServerClosedConnectionError as exc:
                if exc.code == DISALLOWED_INTENTS and self.intents & GUILD_MEMBERS:
                    log.warning("discord gateway: the Server Members intent is not enabled for this bot; connecting "
                                "without it (people who leave a server stay in its zone lists; README, Discord Gateway)")
                    self.intents &= ~GUILD_MEMBERS
                    continue
                self.state = "refused"
                wait = REFUSED_RETRY_SECONDS
                if exc.code == DISALLOWED_INTENTS:
                    log.error("discord gateway: Discord refused the Message Content intent (4014); enable it in the "
                              "Developer Portal, Bot, Privileged Gateway Intents; trying again in %.0fs", wait)
                elif exc.code == AUTHENTICATION_FAILED:
                    log.error("discord gateway: Discord refused DISCORD_BOT_TOKEN (4004); trying again in %.0fs", wait)
                else:
                    log.error("discord gateway: closed for good by Discord (code %s: %s); trying again in %.0fs",
                              exc.code, str(exc.reason)[:100], wait)
            except hikari.UnauthorizedError:
                self.state = "refused"
                wait = REFUSED_RETRY_SECONDS
                log.error("discord gateway: GET /gateway/bot refused DISCORD_BOT_TOKEN (401); trying again in %.0fs", wait)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                failures = 1 if time.monotonic() - started > 300 else failures + 1
                self.state = "failed"
                wait = FAILED_RETRY_SECONDS[min(failures, len(FAILED_RETRY_SECONDS)) - 1]
                log.error("discord gateway: connection failed (%s); trying again in %.0fs", type(exc).__name__, wait)
            finally:
                await self._close(bot)
            if self._down_since is None and self.session_id:
                self._down_since = time.monotonic()  # the next READY says how long we were away
            await asyncio.sleep(wait)

    def _bot(self, hikari):
        bot = hikari.GatewayBot(
            self.token,
            intents=hikari.Intents(self.intents),
            rest_url=self.rest_url,
            # Nothing cached: every dispatch is read once from its raw payload (ShardPayloadEvent).
            cache_settings=hikari.impl.CacheSettings(components=hikari.api.CacheComponents.NONE),
            auto_chunk_members=False,
            logs=None,
            banner=None,
            suppress_optimization_warning=True,
            loads=msgspec.json.decode,
        )
        bot.subscribe(hikari.ShardPayloadEvent, self._on_payload)
        bot.subscribe(hikari.ShardDisconnectedEvent, self._on_disconnected)
        return bot

    async def _close(self, bot) -> None:
        if self.state == "connected":
            self.state = "stopping"
        try:
            if bot.is_alive:
                await bot.close()
        except Exception as exc:  # closing is best effort: the process or the next bot goes on
            log.warning("discord gateway: closing failed: %s", type(exc).__name__)

    async def _on_payload(self, event) -> None:
        name, payload = event.name, event.payload
        if name == "READY":
            self._up(resumed=False, session_id=str(payload.get("session_id", "")), guilds=len(payload.get("guilds") or ()))
        elif name == "RESUMED":
            self._up(resumed=True)
        else:
            await self.feed.on_dispatch(name, payload)

    def _up(self, resumed: bool, session_id: str = "", guilds: int = 0) -> None:
        down_since, self._down_since = self._down_since, None
        if session_id:
            self.session_id = session_id
        self.state = "connected"
        session = self.session_id[:12]
        if down_since is None:
            log.info("discord gateway: connected (session=%s guilds=%d intents=%d)", session, guilds, self.intents)
        elif resumed:
            log.info("discord gateway: reconnected after %.1fs, session resumed (session=%s): missed events replayed",
                     time.monotonic() - down_since, session)
        else:
            log.warning("discord gateway: reconnected after %.1fs with a new session (session=%s): messages written "
                        "while away are not delivered", time.monotonic() - down_since, session)

    async def _on_disconnected(self, event) -> None:
        if self.state == "stopping":
            return
        self.state = "reconnecting"
        self._down_since = time.monotonic()
        log.info("discord gateway: disconnected (session=%s); reconnecting", self.session_id[:12])
