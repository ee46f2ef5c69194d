"""POST /hooks/slack/events, /hooks/slack/commands, /hooks/slack/interactive: authenticate,
decode, quick look, put in the inbox, answer 200 well within Slack's 3 s.

Knows Slack's wire formats (Events API JSON, the slash-command and interactivity forms, mrkdwn's
escapes and <…> tokens) and nothing about time zones: it hands the core platform-neutral events.
Deciding and replying happen after the response, in the worker (teamops/senders/slack.py sends).
"""

from __future__ import annotations

import hmac
import logging
import re
import time
from datetime import datetime, timezone
from functools import partial
from typing import Annotated
from urllib.parse import parse_qsl, urlsplit

import falcon
import msgspec

from handlers import bad_request, decode, read_body
from teamops import commands, mentions, relocation
from teamops.events import (
    NotATime,
    ButtonPress,
    ChatGone,
    ChatMessage,
    MemberJoined,
    MemberLeft,
    Profile,
    ProfileChanged,
    Quoted,
    to_doc,
)
from teamops.store import StorageError, level_of

log = logging.getLogger("teamops.slack")

PLATFORM = "slack"
MAX_SKEW_SECONDS = 300  # Slack's own rule: a request older (or newer) than this may be a replay
MESSAGE_SUBTYPES = ("", "thread_broadcast", "file_share")  # the subtypes that carry a person's words
CONVERT_CALLBACK = "convert_for_me"  # the message shortcut's callback_id (see slack_manifest)
PROFILES_KEPT = 50_000


# ----------------------------------------------------------------------------- wire types
# Slack's ids are letters and digits (users, channels, teams, bots, events), its timestamps and
# trigger ids digits and dots and hex, all a few dozen characters: read as such here, so an id
# that reaches the inbox, the store (members are keyed by user id) or a log line is one Slack
# could have made.
MAX_ID_CHARS = 100
ID_PATTERN = re.compile(r"[A-Za-z0-9]{0,100}")
STAMP_PATTERN = re.compile(r"[A-Za-z0-9.]{0,100}")
SlackId = Annotated[str, msgspec.Meta(pattern=rf"^{ID_PATTERN.pattern}\Z")]  # \Z: no newline after
SlackStamp = Annotated[str, msgspec.Meta(pattern=rf"^{STAMP_PATTERN.pattern}\Z")]

class UserProfile(msgspec.Struct):
    display_name: str = ""
    real_name: str = ""
    first_name: str = ""


class Edited(msgspec.Struct):
    ts: SlackStamp = ""


class Message(msgspec.Struct):
    """A message inside another payload: message_changed's `message`, a shortcut's `message`."""

    user: SlackId = ""
    text: str = ""
    ts: SlackStamp = ""
    thread_ts: SlackStamp = ""
    bot_id: SlackId = ""
    subtype: str = ""
    edited: Edited | None = None
    user_profile: UserProfile | None = None


class MessageEvent(msgspec.Struct):
    """`message` (every channel type) and `app_mention`."""

    type: str
    channel: SlackId = ""
    user: SlackId = ""
    text: str = ""
    ts: SlackStamp = ""
    thread_ts: SlackStamp = ""
    subtype: str = ""
    bot_id: SlackId = ""
    hidden: bool = False
    channel_type: str = ""
    user_profile: UserProfile | None = None
    message: Message | None = None  # message_changed: the message as it reads now
    previous_message: Message | None = None  # message_changed: as it read before


class Membership(msgspec.Struct):
    """member_joined_channel, member_left_channel."""

    type: str
    user: SlackId
    channel: SlackId


class ChannelLeft(msgspec.Struct):
    """channel_left, group_left: the bot was removed."""

    type: str
    channel: SlackId


class SlackUser(msgspec.Struct):
    id: SlackId
    name: str = ""
    real_name: str = ""
    is_bot: bool = False
    deleted: bool = False
    tz: str | None = None
    profile: UserProfile | None = None


class UserChange(msgspec.Struct):
    type: str
    user: SlackUser


class ReactedItem(msgspec.Struct):
    type: str = ""
    channel: str = ""
    ts: str = ""


class ReactionAdded(msgspec.Struct):
    """reaction_added (scope reactions:read): a ❌ ("x") on one of our conversions is "not a time"."""

    type: str
    user: str = ""
    reaction: str = ""
    item: ReactedItem = msgspec.field(default_factory=ReactedItem)
    item_user: str = ""


NOT_A_TIME_REACTIONS = ("x", "heavy_multiplication_x")  # ❌, ✖️


class Envelope(msgspec.Struct):
    type: str
    challenge: str = ""
    team_id: SlackId = ""
    event_id: SlackId = ""
    event: msgspec.Raw = msgspec.Raw()  # decoded by its type below: unknown types are never read


class EventKind(msgspec.Struct):
    type: str = ""
    subtype: str = ""


class ActingUser(msgspec.Struct):
    id: SlackId
    name: str = ""
    username: str = ""


class Place(msgspec.Struct):
    id: SlackId = ""


class Container(msgspec.Struct):
    message_ts: SlackStamp = ""
    thread_ts: SlackStamp = ""
    channel_id: SlackId = ""
    is_ephemeral: bool = False


class Action(msgspec.Struct):
    action_id: str = ""
    value: str = ""


class Interaction(msgspec.Struct):
    """The `payload` of an interactivity request: block_actions, message_action, and others we ignore."""

    type: str
    user: ActingUser
    trigger_id: SlackStamp = ""
    callback_id: str = ""
    response_url: str = ""
    team: Place | None = None
    channel: Place | None = None
    container: Container | None = None
    message: Message | None = None
    actions: list[Action] = []


_decode_envelope = msgspec.json.Decoder(Envelope).decode
_decode_kind = msgspec.json.Decoder(EventKind).decode
_decode_interaction = msgspec.json.Decoder(Interaction).decode
_EVENT_TYPES = {
    "message": msgspec.json.Decoder(MessageEvent).decode,
    "app_mention": msgspec.json.Decoder(MessageEvent).decode,
    "member_joined_channel": msgspec.json.Decoder(Membership).decode,
    "member_left_channel": msgspec.json.Decoder(Membership).decode,
    "channel_left": msgspec.json.Decoder(ChannelLeft).decode,
    "group_left": msgspec.json.Decoder(ChannelLeft).decode,
    "user_change": msgspec.json.Decoder(UserChange).decode,
    "reaction_added": msgspec.json.Decoder(ReactionAdded).decode,
}


class Workspace:
    """Who we are in Slack: the token's workspace and the bot's own user, from auth.test at
    start-up (or SLACK_TEAM_ID). Until known, events are not filtered by workspace."""

    def __init__(self, team_id: str = "", bot_user_id: str = ""):
        self.team_id = team_id
        self.bot_user_id = bot_user_id

    def foreign(self, team_id: str) -> bool:
        return bool(self.team_id and team_id and team_id != self.team_id)


# ----------------------------------------------------------------------------- pure parts
def signature_ok(secret: bytes, timestamp: str, signature: str, body: bytes, now: float) -> bool:
    """Slack's v0 scheme: HMAC-SHA256 over "v0:{timestamp}:{raw body}", within 300 s of now."""
    if not (timestamp.isascii() and timestamp.isdigit()) or len(timestamp) > 12:
        return False
    if abs(now - int(timestamp)) > MAX_SKEW_SECONDS:
        return False
    expected = b"v0=" + hmac.digest(secret, b"v0:" + timestamp.encode() + b":" + body, "sha256").hex().encode()
    return hmac.compare_digest(expected, signature.encode("utf-8", "replace"))


_TOKEN = re.compile(r"<[^<>\n]*>")
# mrkdwn italics, _like this_: the time engine reads "_" as part of a word, so "_sync at 15:30_"
# would hide its time. Only underscores that open and close a run (not inside snake_case) go.
_ITALIC = re.compile(r"(?<![\w_])_(?=[^\s_])([^\n_]*?[^\s_])_(?![\w_])")


def plain_text(text: str) -> str:
    """Slack's message text as the core should read it.

    Every <, > and & a person types arrives escaped (&lt; &gt; &amp;), so any <…> is one of Slack's
    own tokens: a mention <@U…>, a channel <#C…|name>, a link <https://…|label>, a date
    <!date^…|fallback>, <!here>. None of them is a time someone wrote; each is blanked (the text
    keeps its length and lines). Italic marks are taken off, then the escapes are undone."""
    if "<" in text:
        text = _TOKEN.sub(lambda m: " " * len(m.group()), text)
    if "_" in text:
        text = _ITALIC.sub(lambda m: f" {m.group(1)} ", text)
    if "&" in text:
        text = text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    return text


def has_time(text: str, sent_at: float, unread_too: bool = False) -> bool:
    """The quick look: does the text hold a time at all (any zone)? `unread_too`: or one the
    rules may not read, for the language model to try (see handlers/telegram.py)."""
    if not mentions.might_mention_time(text):
        return unread_too and mentions.might_hold_unread_time(text, [])
    found = mentions.find_mentions(text, "UTC", datetime.fromtimestamp(sent_at, timezone.utc))
    return bool(found) or (unread_too and mentions.might_hold_unread_time(text, found))


def _seconds(ts: str) -> float:
    """A message ts ("1784563200.000200") as unix seconds; it stays a string everywhere else."""
    head = ts.partition(".")[0]
    return float(head) if head.isascii() and head.isdigit() and len(head) <= 11 else time.time()


def _stamp(ts: str) -> float:
    """A ts to order edits by, microseconds included."""
    head, _, tail = ts.partition(".")
    micros = tail[:6] if tail.isascii() and tail.isdigit() else "0"
    return _seconds(head) + int(micros.ljust(6, "0")) / 1e6


def _writer(profile: UserProfile | None) -> str:
    if profile is None:
        return ""  # the core names them from their profile
    return profile.display_name or profile.real_name or profile.first_name


def worth_reading(text: str, sent_at: float, unread_too: bool = False) -> bool:
    if text.startswith("/"):
        return commands.split(text) is not None
    return has_time(text, sent_at, unread_too) or bool(relocation.place_phrase(text))


def _thread(message, ts: str) -> str:
    return message.thread_ts if message.thread_ts and message.thread_ts != ts else ""


def edit_event(event: MessageEvent, workspace: Workspace, unread_too: bool = False) -> tuple[str, ChatMessage] | None:
    """A person's edit of a message: the same message with its new text, for our reply to follow.
    Sent on when the text held a time before or holds one now; link previews and other changes
    that leave the text as it was are not edits."""
    changed, before = event.message, event.previous_message or Message()
    if changed is None or changed.bot_id or changed.subtype not in MESSAGE_SUBTYPES or not event.channel:
        return None
    if not changed.user or changed.user == workspace.bot_user_id or not changed.ts or changed.text == before.text:
        return None
    text, was = plain_text(changed.text).strip(), plain_text(before.text).strip()
    sent_at = _seconds(changed.ts)
    if text.startswith("/") or not (worth_reading(text, sent_at, unread_too) or worth_reading(was, sent_at, unread_too)):
        return None
    edited = (changed.edited or Edited()).ts or event.ts
    message = ChatMessage(
        platform=PLATFORM,
        chat_id=event.channel,
        user_id=changed.user,
        user_name=_writer(changed.user_profile),
        text=text,
        sent_at=sent_at,
        message_id=changed.ts,
        thread_id=_thread(changed, changed.ts),
        private=event.channel_type == "im",
        edited_at=_stamp(edited),
    )
    return f"e:{event.channel}:{changed.ts}:{edited}", message


def message_event(event: MessageEvent, workspace: Workspace, unread_too: bool = False) -> tuple[str, ChatMessage] | None:
    """The inbox key and the platform-neutral message, or None when there is nothing for us.
    `unread_too`: a time the rules may not read is for us too (the language model is configured).

    A message that mentions the bot arrives twice (`message` and `app_mention`, two event ids):
    both are keyed by the message itself, so it is answered once."""
    if event.subtype == "message_changed":
        return edit_event(event, workspace, unread_too)
    if event.hidden or event.bot_id or event.subtype not in MESSAGE_SUBTYPES:
        return None  # bots (ourselves included), joins, deletions and the like
    if not event.user or event.user == workspace.bot_user_id or not event.channel or not event.ts:
        return None
    text = plain_text(event.text).strip()
    if event.thread_ts and event.thread_ts != event.ts and commands.says_not_a_time(text):
        # "not a time" in the thread of a message we answered: our reply there is what it means.
        return f"n:{event.channel}:{event.ts}", NotATime(platform=PLATFORM, chat_id=event.channel, user_id=event.user,
                                                       about=event.thread_ts)
    sent_at = _seconds(event.ts)
    if not text or not worth_reading(text, sent_at, unread_too):
        return None
    message = ChatMessage(
        platform=PLATFORM,
        chat_id=event.channel,
        user_id=event.user,
        user_name=_writer(event.user_profile),
        text=text,
        sent_at=sent_at,
        message_id=event.ts,
        thread_id=_thread(event, event.ts),
        private=event.channel_type == "im",
    )
    return f"m:{event.channel}:{event.ts}", message


def profile_of(user: SlackUser) -> Profile:
    profile = user.profile or UserProfile()
    name = profile.display_name or profile.real_name or user.real_name or user.name
    return Profile(tz=user.tz or None, name=name, bot=user.is_bot or user.deleted)  # a deactivated account counts for nobody


def command_text(command: str, text: str) -> tuple[str, bool] | None:
    """A slash command as the core's "/cmd args" text, and whether its answer is for the whole
    channel (`/time … share`). Every core command is reachable behind /tz (`/tz mute`), so a
    workspace registers three commands only. None for a command we do not serve."""
    name = command.strip().lstrip("/").lower()
    args = " ".join(plain_text(text).split())
    if name == "time":
        words = args.split(" ")
        if words[-1].lower() == "share":
            return " ".join(["/time", *words[:-1]]).strip(), True
        return f"/time {args}".strip(), False
    if name == "tz":
        verb, _, rest = args.partition(" ")
        if verb.lower() in commands.SUBCOMMANDS:
            return f"/{verb.lower()} {rest}".strip(), False
        return f"/tz {args}".strip(), False
    if name in ("zones", "hours", "overlap"):
        return f"/{name} {args}".strip(), False
    return None


def parse_form(body: bytes) -> dict[str, str]:
    """An application/x-www-form-urlencoded body; 400 when it is not one."""
    try:
        text = body.decode("utf-8")
        return dict(parse_qsl(text, keep_blank_values=True, strict_parsing=bool(text), max_num_fields=100))
    except (UnicodeDecodeError, ValueError):
        raise bad_request("malformed form body") from None


def answer_url_ok(url: str) -> bool:
    """A response_url as Slack sends one (an http(s) URL with a host, no spaces): anything else
    would have the worker post to a place the payload made up, or retry one that cannot parse."""
    if not url:
        return True
    if not url.startswith(("https://", "http://")) or len(url) > 2000 or any(c.isspace() for c in url):
        return False
    try:
        parts = urlsplit(url)
        return bool(parts.hostname) and (parts.port or 0) >= 0
    except ValueError:  # a bracket left open, a port that is not a number
        return False


def handle(mode: str, url: str) -> str:
    """The reply handle the sender reads back: how to answer through this response_url."""
    return f"{mode} {url}" if url else ""


# ----------------------------------------------------------------------------- endpoints
class _SlackEndpoint:
    """What the three endpoints share: refusing while not configured (503), the size limit
    (413), the signature and its timestamp (401), and the inbox write (503 while storage fails)."""

    def __init__(self, config, store, worker, workspace: Workspace):
        self.secret = config.slack_signing_secret.encode()
        self.configured = config.slack_enabled
        self.max_body = config.max_body_bytes
        self.store = store
        self.worker = worker
        self.workspace = workspace

    async def _signed_body(self, req) -> bytes:
        if not self.configured:
            raise falcon.HTTPServiceUnavailable(title="slack is not configured")
        timestamp = req.get_header("X-Slack-Request-Timestamp") or ""
        signature = req.get_header("X-Slack-Signature") or ""
        if not timestamp or not signature:
            raise falcon.HTTPUnauthorized(title="missing signature")
        body = await read_body(req, self.max_body)
        if not signature_ok(self.secret, timestamp, signature, body, time.time()):
            raise falcon.HTTPUnauthorized(title="invalid signature")
        return body

    async def _queue(self, key: str, event, redelivered: bool = False) -> str:
        """`redelivered`: Slack sends it again after a non-2xx answer (events do; commands and
        button presses do not, so their write may take longer before it counts as failed)."""
        doc = to_doc(event)
        if not self.worker.admits(PLATFORM, doc):  # this channel's backlog is full: Slack redelivers later
            raise falcon.HTTPServiceUnavailable(title="busy", headers={"Retry-After": "5"})
        try:
            item = await self.worker.put(PLATFORM, key, doc, redelivered=redelivered)
        except StorageError as exc:
            # A non-2xx answer makes Slack deliver the event again later: it waits there.
            # An outage or overload is the store's WARNING, said once, not once per request.
            log.log(level_of(exc), "slack %s inbox write failed: %s", key[:80], type(exc).__name__)
            raise falcon.HTTPServiceUnavailable(title="storage unavailable", headers={"Retry-After": "5"}) from None
        return "duplicate" if item is None else "queued"

    def _foreign(self, team_id: str, what: str, ident: str) -> bool:
        if self.workspace.foreign(team_id):
            log.info("slack %s=%s from another workspace team=%s: ignored", what, ident[:80], team_id[:20])
            return True
        return False


class SlackEvents(_SlackEndpoint):
    """POST /hooks/slack/events: the Events API."""

    def __init__(self, config, store, worker, workspace: Workspace, sightings):
        super().__init__(config, store, worker, workspace)
        self.sightings = sightings
        self.unread_too = config.model_enabled
        self._zones_seen: dict[str, str | None] = {}  # user -> last profile zone queued, this process

    async def on_post(self, req, resp):
        started = time.perf_counter()
        body = await self._signed_body(req)
        envelope = decode(_decode_envelope, body, "slack event")
        if envelope.type == "url_verification":
            resp.media = {"challenge": envelope.challenge}
            return
        resp.media = {"ok": True}
        if envelope.type != "event_callback":
            return
        if self._foreign(envelope.team_id, "event", envelope.event_id):
            return
        kind = decode(_decode_kind, envelope.event, "slack event") if len(envelope.event) else EventKind()
        decoder = _EVENT_TYPES.get(kind.type)
        event = decode(decoder, envelope.event, "slack event") if decoder is not None else None
        if event is None:
            return  # a type we do not read: acknowledged, nothing else
        found = self._to_event(envelope, event)
        if found is None:
            self._note_writer(event, resp)
            return
        key, core_event = found
        outcome = await self._queue(key, core_event, redelivered=True)
        retry = req.get_header("X-Slack-Retry-Num")
        log.info(
            "slack event=%s chat=%s outcome=%s%s ms=%.1f",
            envelope.event_id[:40],
            getattr(core_event, "chat_id", "")[:40],
            outcome,
            f" retry={retry[:4]}" if retry else "",
            (time.perf_counter() - started) * 1000,
        )

    def _to_event(self, envelope: Envelope, event):
        """(inbox key, platform-neutral event) or None when there is nothing for us."""
        if isinstance(event, MessageEvent):
            return message_event(event, self.workspace, self.unread_too)
        event_id = envelope.event_id or f"{event.type}:{time.time_ns()}"
        if isinstance(event, Membership):
            if event.user == self.workspace.bot_user_id:
                return None  # the bot joining a channel: its member list is read on first use
            kind = MemberJoined if event.type == "member_joined_channel" else MemberLeft
            return event_id, kind(platform=PLATFORM, chat_id=event.channel, user_id=event.user)
        if isinstance(event, ChannelLeft):
            return event_id, ChatGone(platform=PLATFORM, chat_id=event.channel)
        if isinstance(event, ReactionAdded):
            item = event.item
            ours = bool(self.workspace.bot_user_id) and event.item_user == self.workspace.bot_user_id
            if (event.reaction.split("::")[0] not in NOT_A_TIME_REACTIONS or item.type != "message" or not ours
                    or not item.channel or not item.ts or event.user == self.workspace.bot_user_id):
                return None
            return event_id, NotATime(platform=PLATFORM, chat_id=item.channel, user_id=event.user, reply_id=item.ts)
        if isinstance(event, UserChange):
            # Profile edits are mostly status changes: only a zone not seen before is worth a write.
            user = event.user
            profile = profile_of(user)
            if self._zones_seen.get(user.id, "?") == profile.tz:
                return None
            if len(self._zones_seen) >= PROFILES_KEPT:
                self._zones_seen.pop(next(iter(self._zones_seen)))
            self._zones_seen[user.id] = profile.tz
            return event_id, ProfileChanged(platform=PLATFORM, user_id=user.id, profile=profile)
        return None

    def _note_writer(self, event, resp) -> None:
        """No time, but the writer is a member of this channel: recorded once per member and
        channel, after the response, so their zone counts here (channels too big to list)."""
        if not isinstance(event, MessageEvent) or event.type != "message" or event.bot_id or event.subtype:
            return
        if not event.user or not event.channel or event.user == self.workspace.bot_user_id:
            return
        if self.sightings.is_new(PLATFORM, event.channel, event.user):
            resp.schedule(partial(self.sightings.note, PLATFORM, event.channel, event.user, _writer(event.user_profile)))


class SlackCommands(_SlackEndpoint):
    """POST /hooks/slack/commands: /tz, /time, /zones. Acknowledged at once; the answer goes
    through the command's response_url from the worker, privately unless `/time … share`."""

    async def on_post(self, req, resp):
        started = time.perf_counter()
        body = await self._signed_body(req)
        fields = parse_form(body)
        resp.content_type = falcon.MEDIA_TEXT
        resp.text = ""
        if fields.get("ssl_check") == "1":
            return  # Slack checking the certificate: an empty 200
        missing = [name for name in ("command", "user_id", "channel_id", "trigger_id") if not fields.get(name)]
        if missing:
            raise bad_request(f"invalid payload: missing {', '.join(missing)}")
        ids = [fields.get(name, "") for name in ("user_id", "channel_id", "team_id")]
        if not all(ID_PATTERN.fullmatch(value) for value in ids) or not STAMP_PATTERN.fullmatch(fields["trigger_id"]):
            raise bad_request("invalid payload: not a Slack id")
        if not answer_url_ok(fields.get("response_url", "")):
            raise bad_request("invalid payload: response_url")
        if self._foreign(fields.get("team_id", ""), "command", fields["trigger_id"]):
            return
        mapped = command_text(fields["command"], fields.get("text", ""))
        if mapped is None:
            resp.content_type, resp.text = falcon.MEDIA_JSON, None
            resp.media = {"response_type": "ephemeral", "text": "I answer /tz, /time and /zones."}
            return
        text, shared = mapped
        channel = fields["channel_id"]
        message = ChatMessage(
            platform=PLATFORM,
            chat_id=channel,
            user_id=fields["user_id"],
            user_name="",  # `user_name` is the legacy handle; the core names people from their profile
            text=text,
            sent_at=time.time(),
            private=channel.startswith("D"),
            reply_handle=handle("in_channel" if shared else "ephemeral", fields.get("response_url", "")),
        )
        outcome = await self._queue(f"c:{fields['trigger_id']}", message)
        if shared:
            # Shown in the channel along with its answer, as the person typed it.
            resp.content_type, resp.text = falcon.MEDIA_JSON, None
            resp.media = {"response_type": "in_channel"}
        log.info("slack command=%s chat=%s user=%s outcome=%s ms=%.1f", fields["command"][:20], channel[:40],
                 fields["user_id"][:40], outcome, (time.perf_counter() - started) * 1000)


class SlackInteractive(_SlackEndpoint):
    """POST /hooks/slack/interactive: button presses (answered through their response_url, the
    original replaced) and the "Convert for me" message shortcut (answered privately)."""

    async def on_post(self, req, resp):
        started = time.perf_counter()
        body = await self._signed_body(req)
        raw = parse_form(body).get("payload")
        if not raw:
            raise bad_request("invalid payload: missing payload")
        interaction = decode(_decode_interaction, raw.encode(), "slack interaction")
        if not answer_url_ok(interaction.response_url):
            raise bad_request("invalid payload: response_url")
        resp.content_type = falcon.MEDIA_TEXT
        resp.text = ""
        ident = interaction.trigger_id or "?"
        if self._foreign((interaction.team or Place()).id, "interaction", ident):
            return
        found = self._to_event(interaction)
        if found is None:
            return  # a link button (Slack reports those too), or a kind we do not serve
        key, event = found
        outcome = await self._queue(key, event)
        log.info("slack interaction=%s kind=%s chat=%s outcome=%s ms=%.1f", ident[:40], interaction.type[:20],
                 event.chat_id[:40], outcome, (time.perf_counter() - started) * 1000)

    def _to_event(self, interaction: Interaction):
        user = interaction.user
        name = ""  # only the handle is given here; the core names people from their profile
        channel = (interaction.channel or Place()).id or (interaction.container or Container()).channel_id
        if not channel or not interaction.trigger_id:
            return None
        if interaction.type == "block_actions" and interaction.actions:
            action = interaction.actions[0]
            container = interaction.container or Container()
            origin = interaction.message or Message()
            if action.action_id.startswith("start") and action.value:
                # "Set my time zone" under a message everyone sees: whoever pressed it gets a
                # link of their own, privately (the core's /start with the chat's signed code).
                return f"a:{interaction.trigger_id}", ChatMessage(
                    platform=PLATFORM, chat_id=channel, user_id=user.id, user_name=name,
                    text=f"/start {action.value}", sent_at=time.time(), private=True,
                    reply_handle=handle("ephemeral", interaction.response_url),
                )
            if not action.action_id.startswith("press") or not action.value:
                return None
            return f"a:{interaction.trigger_id}", ButtonPress(
                platform=PLATFORM, chat_id=channel, user_id=user.id, user_name=name, data=action.value,
                press_id=interaction.trigger_id, message_id=container.message_ts,
                thread_id=container.thread_ts or origin.thread_ts,
                reply_handle=handle("replace", interaction.response_url),
            )
        target = interaction.message
        if interaction.type == "message_action" and interaction.callback_id == CONVERT_CALLBACK and target:
            # "Convert for me": the core's conversion on demand of the message picked, read in its
            # writer's zone, answered to the presser alone (chat.postEphemeral), even when muted.
            quoted = Quoted(
                message_id=target.ts,
                text=plain_text(target.text).strip(),
                sent_at=_seconds(target.ts),
                user_id="" if target.bot_id else target.user,
                user_name=_writer(target.user_profile),
            )
            return f"a:{interaction.trigger_id}", ChatMessage(
                platform=PLATFORM, chat_id=channel, user_id=user.id, user_name=name, text="/time",
                sent_at=time.time(), message_id=target.ts, thread_id=_thread(target, target.ts),
                replied_to=quoted, reply_handle=f"private {user.id} {interaction.response_url}".rstrip(),
            )
        return None
