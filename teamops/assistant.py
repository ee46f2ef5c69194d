"""The assistant's decisions: given one event and what the store knows, which replies to send.

No HTTP, no platform wire formats: events in, Reply values out, state changes through the store.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import re
import time
from datetime import datetime, timezone

import msgspec

from teamops import commands, logs, mentions, relocation, tokens, wording, working_hours
from teamops.config import Config
from teamops.directory import Directory
from teamops.events import (
    Button,
    ButtonPress,
    ChatGone,
    ChatMessage,
    ClockNotice,
    Event,
    MemberJoined,
    MemberLeft,
    ModelReading,
    NotATime,
    ProfileChanged,
    Reply,
    ZoneVerified,
    to_doc,
)
from teamops.store import REPLIES_TTL_SECONDS, StorageError, Store

log = logging.getLogger("teamops.assistant")

PROMPT_EVERY_SECONDS = 24 * 3600
MAX_MENTIONS = 10
SIGHTINGS_KEPT = 50_000
EDIT_EVERY_SECONDS = 3.0  # our reply changes at most this often, however fast its message is edited
RETRY_PLANNED_SECONDS = 5.0  # an edit whose reply is not out yet looks again after this


class Later(Exception):
    """Not now: decide this event again in `seconds` (an edit waiting for the reply it edits, or
    for its turn in an edit storm). The worker puts the item back; it counts as an attempt."""

    def __init__(self, seconds: float, reason: str):
        super().__init__(reason)
        self.seconds = seconds
        self.reason = reason


_DIGITS = re.compile(r"\d")


def shape_of(mention_text: str) -> str:
    """A time phrase with its digits abstracted ("v2.30" -> "v#.##"): what "not a time" teaches a
    chat, so the same false trigger with other numbers stays silent there too."""
    return _DIGITS.sub("#", " ".join(mention_text.lower().split()))[:60]


def _digest(body) -> str:
    """Identifies what a reply says, so an edit that changes nothing we show changes nothing."""
    return hashlib.blake2b(msgspec.json.encode(body), digest_size=8).hexdigest()


class MemberSightings:
    """Remembers who wrote in which chat, so a member with a known zone counts in that chat's
    zones even if they never wrote a time there.

    Called after the webhook's response for messages that need no other work; each (chat, user)
    pair costs one lookup per process lifetime (a bounded in-memory set), then nothing.
    """

    def __init__(self, store: Store):
        self.store = store
        self._seen: dict[tuple, None] = {}

    def is_new(self, platform: str, chat_id: str, user_id: str) -> bool:
        return (platform, chat_id, user_id) not in self._seen

    async def note(self, platform: str, chat_id: str, user_id: str, name: str, space_id: str = "") -> None:
        key = (platform, chat_id, user_id)
        if key in self._seen:
            return
        if len(self._seen) >= SIGHTINGS_KEPT:
            self._seen.pop(next(iter(self._seen)))
        self._seen[key] = None
        try:
            user = await self.store.user(platform, user_id)
            # Members without a zone are recorded too: when they set one later, it reaches this chat.
            await self.store.touch_member(platform, chat_id, user_id, name, (user or {}).get("tz"), space_id,
                                          (user or {}).get("hours"))
        except Exception as exc:  # best effort: the next message with a time registers them anyway
            self._seen.pop(key, None)
            log.warning("noting a member failed: %s", type(exc).__name__)


class Assistant:
    def __init__(self, store: Store, config: Config, senders: dict | None = None, reader=None):
        self.store = store
        self.config = config
        self.senders = senders if senders is not None else {}  # for platform lookups, e.g. membership
        self.reader = reader  # the language-model fallback (teamops/model_reading.py); None: off
        self.directory = Directory(store, self.senders)  # profile zones and member lists, where a platform has them

    async def in_chat(self, platform: str, chat_id: str, user_id: str) -> bool | None:
        """Is the user a member of the chat now? None when the platform could not say. A platform
        without a membership lookup answers True: its chat codes are signed, and that is all."""
        check = getattr(self.senders.get(platform), "is_member", None)
        return True if check is None else await check(chat_id, user_id)

    async def handle(self, event: Event, key: str) -> list[Reply]:
        """The replies to one event. `key` is the event's id: state changes made on the way are
        tied to it, so handling the same event again (a retry) decides the same."""
        aliases = getattr(event, "aliases", ())
        if aliases:
            # The platform named this person by more than one id: whatever was stored under the
            # others (a zone, memberships) is theirs under this one from now on.
            await self.store.link_user(event.platform, event.user_id, aliases)
        if isinstance(event, (ChatMessage, ButtonPress)) and not event.user_name:
            # The platform did not name them (or only by a handle): their profile may.
            user = await self.directory.user(event.platform, event.user_id)
            event = msgspec.structs.replace(event, user_name=(user or {}).get("name") or "Someone")
        if isinstance(event, ChatMessage):
            if event.edited_at:
                return await self.on_edit(event, key)
            if commands.is_command(event.text):
                return await commands.run(self, event, key)
            return await self.on_message(event, key)
        if isinstance(event, NotATime):
            return await self.on_not_a_time(event)
        if isinstance(event, ClockNotice):
            from teamops import notices

            return await notices.answer(self, event)
        if isinstance(event, ModelReading):
            return await self.reader.answer(self, event, key) if self.reader is not None else []
        if isinstance(event, ZoneVerified):
            return await self.on_verified(event, key)
        if isinstance(event, ButtonPress):
            return await commands.on_button(self, event)
        if isinstance(event, MemberJoined):
            return await self.on_joined(event)
        if isinstance(event, MemberLeft):
            if event.chat_id:
                await self.store.remove_member(event.platform, event.chat_id, event.user_id)
            elif event.space_id:
                await self.store.remove_member_from_space(event.platform, event.space_id, event.user_id)
            return []
        if isinstance(event, ProfileChanged):
            # Only people we already know: a workspace-wide stream of profile edits is no reason
            # to store everyone in it.
            if await self.store.user(event.platform, event.user_id) is not None:
                await self.store.set_profiles(event.platform, {event.user_id: event.profile}, event.platform)
            return []
        if isinstance(event, ChatGone):
            if event.chat_id:
                await self.store.forget_chat(event.platform, event.chat_id)
            elif event.space_id:
                await self.store.forget_space(event.platform, event.space_id)
            return []
        return []

    # ----- shared pieces -----
    def chat_zones(self, chat: dict, *also: str | None) -> list[str]:
        """Every zone the chat shows: its members' known zones, its extra zones, the team's, and `also`."""
        zones = {m["tz"] for m in (chat.get("members") or {}).values() if m.get("tz")}
        zones.update(chat.get("extra_zones") or ())
        zones.update(self.config.team_timezones)
        zones.update(z for z in also if z)
        return sorted(zones)

    def verify_link(self, platform: str, user_id: str, chat_id: str) -> str:
        token = tokens.issue(self.config.verify_token_secret, platform, user_id, chat_id)
        return f"{self.config.public_base_url}/verify?token={token}"

    def verify_button(self, platform: str, user_id: str, chat_id: str) -> tuple[tuple[Button, ...], ...]:
        link = self.verify_link(platform, user_id, chat_id)
        code = tokens.chat_code(self.config.verify_token_secret, platform, chat_id)
        return ((Button(text="Set my time zone", url=link, private_start=code),),)

    def reply(self, msg: ChatMessage, body, buttons=()) -> Reply:
        return Reply(
            platform=msg.platform,
            chat_id=msg.chat_id,
            body=tuple(body),
            reply_to=msg.message_id,
            thread_id=msg.thread_id,
            buttons=buttons,
            reply_handle=msg.reply_handle,
        )

    def private_reply(self, msg: ChatMessage, body, buttons=(), press_id: str = "") -> Reply:
        """A reply only the writer sees (in a group; in a one-to-one chat, an ordinary reply). Its
        fallback, for when the platform will not deliver it privately, is the public reply with
        every personal link taken off its buttons: a group button then opens a private chat
        with the bot (the deep-link flow), never someone's own link."""
        public = self.reply(msg, body, buttons)
        if msg.private:
            return public
        without_links = tuple(
            tuple(Button(text=b.text, private_start=b.private_start) if b.private_start else b for b in row)
            for row in buttons
        )
        return msgspec.structs.replace(
            public,
            private_to=msg.user_id,
            private_press=press_id,
            fallback=msgspec.structs.replace(public, buttons=without_links),
        )

    async def chat(self, platform: str, chat_id: str) -> dict:
        """The chat as stored, its member list refreshed first where the platform keeps one."""
        return await self.directory.roster(platform, await self.store.chat(platform, chat_id))

    async def on_joined(self, event: MemberJoined) -> list[Reply]:
        chat = await self.store.chat(event.platform, event.chat_id)
        # Only where the whole member list is kept; elsewhere members count once seen writing.
        if chat.get("roster") == "full":
            user = await self.directory.user(event.platform, event.user_id) or {}
            if not user.get("bot"):
                await self.store.touch_member(event.platform, event.chat_id, event.user_id, user.get("name", ""), user.get("tz"))
        return []

    # ----- a message that may hold times -----
    async def on_message(self, msg: ChatMessage, key: str, again: bool = False) -> list[Reply]:
        """The replies to a message. `again`: the message was answered before (its explicit times
        only) and is converted in full now that its writer's zone is known: a new reply even so."""
        maybe_time = mentions.might_mention_time(msg.text)
        place = relocation.place_phrase(msg.text)
        # No time the rules can read, but maybe one they cannot: worth a question to the model.
        unread = not maybe_time and self.reader is not None and self.reader.wants_times(msg.text, [])
        if not maybe_time and not place and not unread:
            return []
        user, chat = await asyncio.gather(
            self.directory.user(msg.platform, msg.user_id), self.store.chat(msg.platform, msg.chat_id)
        )
        sender_tz = (user or {}).get("tz")
        found = self._mentions(msg, sender_tz, chat) if maybe_time else []
        if self.reader is not None and sender_tz and not chat.get("muted") and (
                unread or (maybe_time and self.reader.wants_times(msg.text, found))):
            await self.reader.ask_later(msg, key, "times")  # answered apart, after what the rules read
        if not found:
            return await self.on_relocation(msg, place, sender_tz, key) if place else []
        member = (chat.get("members") or {}).get(msg.user_id)
        hours = (user or {}).get("hours")
        if (member is None or member.get("tz") != sender_tz or member.get("name") != msg.user_name
                or chat.get("space_id", "") != msg.space_id or (hours and member.get("hours") != hours)):
            await self.store.touch_member(msg.platform, msg.chat_id, msg.user_id, msg.user_name, sender_tz, msg.space_id,
                                          hours)
        if chat.get("muted"):
            return []
        chat = await self.directory.roster(msg.platform, chat)
        body = self._conversion(msg, found, sender_tz, chat)
        replies = await self._answer(msg, key, body, again, found) if body else []
        if sender_tz is None and await self.store.claim_prompt(
            msg.platform, msg.chat_id, msg.user_id, "verify", PROMPT_EVERY_SECONDS, key
        ):
            if any(not m.tz_explicit for m in found):
                await self.store.set_pending(
                    msg.platform,
                    msg.chat_id,
                    msg.user_id,
                    {
                        "text": msg.text,
                        "message_id": msg.message_id,
                        "thread_id": msg.thread_id,
                        "sent_at": msg.sent_at,
                        "user_name": msg.user_name,
                    },
                )
            # Their own link, privately: nobody else can use it, and nobody else needs to see it.
            buttons = self.verify_button(msg.platform, msg.user_id, msg.chat_id)
            replies.append(self.private_reply(msg, wording.verify_prompt(msg.user_name), buttons))
        return replies

    def _mentions(self, msg: ChatMessage, sender_tz: str | None, chat: dict) -> list:
        sent_at = datetime.fromtimestamp(msg.sent_at, timezone.utc)
        found = mentions.find_mentions(msg.text, sender_tz or "UTC", sent_at, self.chat_zones(chat))
        learned = chat.get("not_times")
        if learned:  # shapes this chat said are no times ("not a time"): silent on them here
            found = [m for m in found if shape_of(m.text) not in learned]
        # A message listing dozens of times is a schedule dump, not a question: answer the first few.
        return found[:MAX_MENTIONS]

    def _conversion(self, msg: ChatMessage, found: list, sender_tz: str | None, chat: dict) -> tuple:
        """The public conversion of a message's times; a writer whose zone is unknown gets only
        the times that name their zone converted."""
        if sender_tz is None:
            found = [m for m in found if m.tz_explicit]
        if not found:
            return ()
        time_format = chat.get("time_format") or wording.format_of(found)
        sent_at = datetime.fromtimestamp(msg.sent_at, timezone.utc)
        return wording.conversion(found, self.chat_zones(chat, sender_tz), sent_at, time_format,
                                  people=working_hours.people_by_zone(chat, msg.user_id))

    async def _answer(self, msg: ChatMessage, key: str, body, again: bool = False, found=()) -> list[Reply]:
        """The conversion reply, followed by edits of the message: at most one per message, so an
        edit answered first (its original still on its way) leaves the original nothing to send."""
        if msg.message_id and await self.store.reply_claim(
            msg.platform, msg.chat_id, msg.message_id, key, _digest(body), msg.edited_at,
            sorted({shape_of(m.text) for m in found}),
        ):
            return [msgspec.structs.replace(self.reply(msg, body), follows=msg.message_id)]
        return [self.reply(msg, body)] if again or not msg.message_id else []

    # ----- an edit of a message -----
    async def on_edit(self, msg: ChatMessage, key: str) -> list[Reply]:
        """Our reply follows the edited text: edited, deleted when no time is left, or sent now if
        the message had none before. Edits of one message apply newest-last, at most one change
        of our reply per EDIT_EVERY_SECONDS (an edit storm ends on its final text)."""
        if time.time() - msg.sent_at > REPLIES_TTL_SECONDS:
            return []  # older than the reply store: we cannot know what we answered
        record = await self.store.reply_for_edit(msg.platform, msg.chat_id, msg.message_id, msg.edited_at)
        ours = record is not None and record.get("key") == key
        if record is None or (record["state"] == "none" and not ours) or (ours and not record.get("reply_id")):
            return await self.on_message(msg, key)  # not answered (any more): answered now, once
        if not ours:
            if msg.edited_at < record.get("seen_at", 0):
                return []  # a newer edit of the message is on its way and will set our reply
            if record["state"] == "planned":
                raise Later(RETRY_PLANNED_SECONDS, "the reply to edit is not out yet")
        user, chat = await asyncio.gather(
            self.directory.user(msg.platform, msg.user_id), self.store.chat(msg.platform, msg.chat_id)
        )
        if chat.get("muted"):
            return []
        sender_tz = (user or {}).get("tz")
        found = self._mentions(msg, sender_tz, chat) if mentions.might_mention_time(msg.text) else []
        body = self._conversion(msg, found, sender_tz, chat)
        if not ours:
            if _digest(body) == record.get("digest"):
                return []  # our reply says that already
            changed = record.get("changed_at")
            if changed is not None:
                wait = EDIT_EVERY_SECONDS - (datetime.now(timezone.utc) - changed).total_seconds()
                if wait > 0:
                    raise Later(wait, "our reply changed a moment ago")
            if not await self.store.reply_plan_edit(
                msg.platform, msg.chat_id, msg.message_id, key, _digest(body), msg.edited_at,
                sorted({shape_of(m.text) for m in found}),
            ):
                return []  # a newer edit took it meanwhile
        return [
            Reply(
                platform=msg.platform,
                chat_id=msg.chat_id,
                body=body,
                thread_id=msg.thread_id,
                follows=msg.message_id,
                edit_of=record["reply_id"],
                delete=not body,
            )
        ]

    # ----- "not a time": a ❌ on our conversion, or an answer saying so -----
    async def on_not_a_time(self, event: NotATime) -> list[Reply]:
        """Delete our conversion and remember the shapes of the times it read, for this chat only.
        Anything that is not one of our conversions (a ❌ on someone's message) changes nothing."""
        if event.reply_id:
            record = await self.store.reply_by_id(event.platform, event.chat_id, event.reply_id)
        else:
            record = await self.store.reply_of(event.platform, event.chat_id, event.about)
        if record is None or not record.get("reply_id") or record.get("state") != "sent":
            return []
        shapes = record.get("shapes") or []
        if shapes:
            await self.store.learn_not_times(event.platform, event.chat_id, shapes)
        log.info("not a time: platform=%s chat=%s shapes=%d", event.platform, event.chat_id[:40], len(shapes))
        return [Reply(platform=event.platform, chat_id=event.chat_id, follows=record["message_id"],
                      edit_of=record["reply_id"], delete=True)]

    # ----- a zone confirmed on the verification page -----
    async def confirm_zone(self, claims: tokens.TokenClaims, tz: str) -> dict | None:
        """Spend the link, store the zone for its user and chat, and queue the chat's confirmation.
        The inbox item to hand to the worker. TokenError when the link was spent already;
        StorageError when the database failed, and then the link stays usable for a retry."""
        if not await self.store.spend_token(claims.n, claims.e):
            raise tokens.TokenError("This link has already been used.")
        try:
            await self.store.set_user_zone(claims.p, claims.u, tz, "web")
            await self.store.touch_member(claims.p, claims.c, claims.u, "", tz)
            event = ZoneVerified(platform=claims.p, chat_id=claims.c, user_id=claims.u, tz=tz)
            return await self.store.inbox_put(claims.p, f"verified:{claims.n}", to_doc(event))
        except Exception as exc:
            logs.failure(log, "storing a verified zone failed", exc)
            try:
                await self.store.unspend_token(claims.n)
            except Exception:
                pass  # the link stays spent; the person can ask for a new one with /tz
            raise StorageError(type(exc).__name__) from exc

    async def on_verified(self, event: ZoneVerified, key: str) -> list[Reply]:
        pending = await self.store.take_pending(event.platform, event.chat_id, event.user_id, key)
        chat = await self.store.chat(event.platform, event.chat_id)
        name = (pending or {}).get("user_name") or ((chat.get("members") or {}).get(event.user_id) or {}).get("name")
        thread = (pending or {}).get("thread_id", "")
        replies = [
            Reply(platform=event.platform, chat_id=event.chat_id, thread_id=thread, body=wording.zone_set(name, event.tz))
        ]
        if pending:
            original = ChatMessage(
                platform=event.platform,
                chat_id=event.chat_id,
                user_id=event.user_id,
                user_name=name or "Someone",
                text=pending["text"],
                sent_at=pending["sent_at"],
                message_id=pending.get("message_id", ""),
                thread_id=thread,
            )
            replies.extend(await self.on_message(original, key, again=True))
        return replies

    # ----- "I moved to Lisbon" -----
    async def on_relocation(self, msg: ChatMessage, place: str, sender_tz: str | None, key: str) -> list[Reply]:
        """Offer once (a day) to switch the sender's zone to the place they say they are in now."""
        tz = await commands.place_zone(place)
        if tz is None:
            if self.reader is not None:
                await self.reader.ask_later(msg, key, "move", place)  # a spelling the city data lacks?
            return []
        return await self.relocation_offer(msg, tz, sender_tz, key)

    async def relocation_offer(self, msg: ChatMessage, tz: str, sender_tz: str | None, key: str) -> list[Reply]:
        if tz == sender_tz:
            return []
        if not await self.store.claim_prompt(msg.platform, msg.chat_id, msg.user_id, "move", PROMPT_EVERY_SECONDS, key):
            return []
        owner = msg.user_id
        buttons = ((Button(text="Yes, switch", data=f"move:{owner}:{tz}"), Button(text="No", data=f"move:{owner}:no")),)
        return [self.reply(msg, wording.relocation_question(msg.user_name, tz), buttons)]
