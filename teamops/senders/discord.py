"""Discord REST sender: the answers to interactions (through their webhook token) and channel
messages (with the bot token), rendered in Discord's markdown with every mention disabled.

`render(reply)` is the whole of the formatting and is pure. A reply that carries an interaction
handle (`Reply.reply_handle`, made by handlers/discord.py) answers that interaction: the first
reply fills the interaction's own message (`PATCH …/messages/@original`), a note meant for the
one person who pressed a button goes as a private follow-up. A reply without a handle is a
channel message (`POST /channels/{id}/messages`, a reply to `reply_to` when set).

urllib3 is blocking, so each call runs in a worker thread; the sender imports it, not this module:
the handler uses the pure half at import time, and start-up must stay quick. Discord's rate limits are honoured:
a bucket that says `X-RateLimit-Remaining: 0` is left alone until its `Reset-After`, a 429 waits
its `retry_after` (all calls wait on a global one), a 5xx or a connection failure backs off a few
times; another 4xx is dropped. An interaction's token lives 15 minutes: later answers are dropped.
"""

from __future__ import annotations

import asyncio
import logging
import re
import threading
import time

import msgspec

from teamops.events import TIME, WEEKDAY_TIME, Button, Reply
from teamops.senders import SENT, Outcome

log = logging.getLogger("teamops.discord")

CONTENT_LIMIT = 2000
LABEL_LIMIT = 80
CUSTOM_ID_LIMIT = 100
EPHEMERAL = 1 << 6
TOKEN_LIFETIME_SECONDS = 15 * 60
DISCORD_EPOCH_MS = 1420070400000
BACKOFF = (0.5, 1.5, 4.0)
MAX_INLINE_WAIT = 30.0  # a longer rate-limit wait goes back to the inbox instead of holding a worker
NO_MENTIONS = {"parse": []}  # never @everyone, roles or users, whatever the text holds

# Interaction response types (Discord's numbering)
PONG, MESSAGE, DEFERRED_MESSAGE, DEFERRED_UPDATE, UPDATE, AUTOCOMPLETE_RESULT = 1, 4, 5, 6, 7, 8

START_PREFIX = "start:"  # a public "Set my time zone" button: the presser gets a link of their own


# ---------------------------------------------------------------- interaction handles
class Handle(msgspec.Struct, frozen=True):
    """Where the answer to one interaction goes: its id (for logs), its token (never logged)
    and whether its answer is private to the person who asked."""

    interaction_id: str
    token: str
    private: bool


def make_handle(interaction_id: str, token: str, private: bool) -> str:
    return f"{'p' if private else 'c'}:{interaction_id}:{token}"


def parse_handle(text: str) -> Handle | None:
    kind, _, rest = text.partition(":")
    interaction_id, _, token = rest.partition(":")
    if kind not in ("p", "c") or not interaction_id.isdigit() or not token:
        return None
    return Handle(interaction_id, token, kind == "p")


def snowflake_time(snowflake: str) -> float:
    """Unix seconds at which Discord made this id (0.0 when it is not a snowflake: a snowflake is
    a 64-bit number, so at most 20 ASCII digits, which keeps the time inside the calendar)."""
    if not (snowflake.isascii() and snowflake.isdigit()) or len(snowflake) > 20:
        return 0.0
    return ((int(snowflake) >> 22) + DISCORD_EPOCH_MS) / 1000.0


# ---------------------------------------------------------------- rendering (pure)
_MARKDOWN = re.compile(r"([\\*_~`|<>\[\]@])")
_LINE_START = re.compile(r"^(\s*)([#>\-+]|\d+\.)", re.M)


def escape(text: str) -> str:
    """User-visible text as literal Discord markdown: no bold, links, quotes, headings or mentions."""
    return _LINE_START.sub(r"\1\\\2", _MARKDOWN.sub(r"\\\1", text))


def is_private(reply: Reply) -> bool:
    """Seen only by the person who asked: a reply the core addressed to one person, the answer
    to a private interaction, or a note for the one person who pressed a button."""
    handle = parse_handle(reply.reply_handle) if reply.reply_handle else None
    return bool(reply.private_to) or bool(handle and handle.private) or bool(reply.ack_press and reply.body)


# Moment styles -> Discord timestamp styles: "t" 16:20; "f" April 20, 2021 at 16:20 (there is no
# weekday-and-time style short of "F", which spells out the whole date as well).
_MOMENT_STYLES = {TIME: "t", WEEKDAY_TIME: "f"}
_MOMENT_RANGE = 8_640_000_000_000  # seconds either side of 1970 that a JavaScript Date can hold


def _span_text(span) -> str:
    moment = span.moment
    if moment is not None and abs(moment.unix) < _MOMENT_RANGE:
        return f"<t:{moment.unix}:{_MOMENT_STYLES.get(moment.style, 'f')}>"  # each reader's own clock
    return escape(span.text)


def _content(reply: Reply) -> str:
    parts = []
    for span in reply.body:
        text = _span_text(span)
        if span.bold and span.text.strip():
            # Markdown emphasis may not start or end on a space: keep spaces outside the stars.
            lead = text[: len(text) - len(text.lstrip())]
            trail = text[len(text.rstrip()):]
            text = f"{lead}**{text.strip()}**{trail}"
        parts.append(text)
    content = "".join(parts)
    if len(content) > CONTENT_LIMIT:
        cut = content.rfind("\n", 0, CONTENT_LIMIT - 2)
        content = content[: cut if cut > 0 else CONTENT_LIMIT - 2]
        if content.count("**") % 2:
            content = content[: content.rfind("**")]
        content += "\n\u2026"
    return content


def _button(button: Button, private: bool) -> dict | None:
    label = button.text[:LABEL_LIMIT]
    if button.url:
        if button.private_start and not private:
            # A link minted for one person must not sit where everyone can press it: the button
            # asks for one instead, and whoever presses gets a link of their own, privately.
            custom_id = START_PREFIX + button.private_start
            if len(custom_id) <= CUSTOM_ID_LIMIT:
                return {"type": 2, "style": 1, "label": label, "custom_id": custom_id}
            return None
        if len(button.url) > 512:
            return None
        return {"type": 2, "style": 5, "label": label, "url": button.url}
    if not button.data or len(button.data) > CUSTOM_ID_LIMIT:
        return None
    declining = button.data.endswith(":no")
    return {"type": 2, "style": 2 if declining else 1, "label": label, "custom_id": button.data}


def _components(reply: Reply, private: bool) -> list[dict]:
    rows = []
    for row in reply.buttons[:5]:
        buttons = [b for b in (_button(button, private) for button in row[:5]) if b is not None]
        if buttons:
            rows.append({"type": 1, "components": buttons})
    return rows


def render(reply: Reply) -> dict:
    """The message body for a reply: content, buttons (always given, so an edit that drops them
    removes them), no mentions, and the private flag when only the asker may see it."""
    private = is_private(reply)
    body: dict = {
        "content": _content(reply),
        "components": _components(reply, private),
        "allowed_mentions": NO_MENTIONS,
    }
    if private:
        body["flags"] = EPHEMERAL
    return body


def respond(replies: list[Reply]) -> tuple[dict, int]:
    """The interaction response that carries the first replies, and how many it carries.

    A command's answer is a message (type 4). A button press is acknowledged by updating the
    message it is on (type 7) with what followed the press, or privately for a note meant for
    the presser alone, or by a bare acknowledgement (type 6) when nothing is to be said.
    """
    if not replies:
        return {"type": MESSAGE, "data": {"content": "Nothing to show here.", "flags": EPHEMERAL,
                                         "allowed_mentions": NO_MENTIONS}}, 0
    first = replies[0]
    if first.ack_press:
        if first.body:
            return {"type": MESSAGE, "data": render(first)}, 1
        following = replies[1] if len(replies) > 1 else None
        if following is not None and not following.ack_press and following.body:
            update = render(following)
            update.pop("flags", None)  # an update keeps the message as it was, public or private
            return {"type": UPDATE, "data": update}, 2
        return {"type": DEFERRED_UPDATE}, 1
    return {"type": MESSAGE, "data": render(first)}, 1


def deferred(private: bool, press: bool) -> dict:
    """The response that buys time: "thinking…" (private or not), or a silent ack of a press."""
    if press:
        return {"type": DEFERRED_UPDATE}
    return {"type": DEFERRED_MESSAGE, "data": {"flags": EPHEMERAL}} if private else {"type": DEFERRED_MESSAGE}


# ---------------------------------------------------------------- delivery
class _RateLimited(msgspec.Struct):
    retry_after: float = 1.0
    is_global: bool = msgspec.field(default=False, name="global")


class _Error(msgspec.Struct):
    code: int = 0
    message: str = ""


class _Sent(msgspec.Struct):
    id: str = ""


_decode_sent = msgspec.json.Decoder(_Sent).decode
_decode_limited = msgspec.json.Decoder(_RateLimited).decode
_decode_error = msgspec.json.Decoder(_Error).decode
_encode = msgspec.json.Encoder().encode

FILLED_KEPT = 10_000


class DiscordSender:
    def __init__(self, api_base: str, application_id: str, bot_token: str, timeout: float,
                 site_url: str = "https://github.com/team-ops-assistant", backoff=BACKOFF):
        self._base = api_base.rstrip("/")
        self.application_id = application_id
        self._headers = {
            "Authorization": f"Bot {bot_token}",
            "Content-Type": "application/json",
            "User-Agent": f"DiscordBot ({site_url}, 1.0)",
        }
        import urllib3

        self._backoff = backoff
        self._http = urllib3.PoolManager(
            num_pools=2, maxsize=8, timeout=urllib3.Timeout(connect=min(5.0, timeout), read=timeout), retries=False
        )
        self._limits = threading.Lock()
        self._bucket_until: dict[str, float] = {}  # route -> monotonic time its bucket refills
        self._global_until = 0.0
        self._filled: dict[str, None] = {}  # interactions whose own message holds an answer already

    # ----- what goes where
    def answered(self, handle_text: str) -> None:
        """The interaction's own message holds an answer (it went in the HTTP response)."""
        handle = parse_handle(handle_text)
        if handle is not None:
            self._remember(handle.interaction_id)

    def _remember(self, interaction_id: str) -> None:
        if len(self._filled) >= FILLED_KEPT:
            self._filled.pop(next(iter(self._filled)))
        self._filled[interaction_id] = None

    async def send(self, reply: Reply) -> Outcome:
        if not reply.reply_handle:
            return await self._channel_message(reply)
        handle = parse_handle(reply.reply_handle)
        if handle is None:
            return Outcome("dropped", detail="bad interaction handle")
        if reply.ack_press and not reply.body:
            return SENT  # the press was acknowledged by the interaction's own response
        if reply.edit_of or reply.delete:
            return SENT  # an interaction's answer is not followed by edits (its token dies in 15 min)
        if time.time() - snowflake_time(handle.interaction_id) > TOKEN_LIFETIME_SECONDS - 5:
            log.warning("discord interaction=%s: token expired, answer dropped", handle.interaction_id)
            return Outcome("dropped", detail="interaction token expired")
        webhook = f"/webhooks/{self.application_id}/{handle.token}"
        body = render(reply)
        route = f"webhook:{handle.interaction_id}"
        if reply.ack_press or handle.interaction_id in self._filled:
            outcome = await self._call("POST", webhook, body, route, handle.interaction_id)
        elif is_private(reply) and not handle.private:
            # The "thinking…" message is public, and a private answer must never land there: it
            # goes as a private follow-up, and the placeholder is taken away.
            outcome = await self._call("POST", webhook, body, route, handle.interaction_id)
            if outcome.status == "sent":
                self._remember(handle.interaction_id)
                await self._call("DELETE", webhook + "/messages/@original", None, route, handle.interaction_id)
        else:
            body.pop("flags", None)  # the original's privacy was set when it was acknowledged
            outcome = await self._call("PATCH", webhook + "/messages/@original", body, route, handle.interaction_id)
            if outcome.status == "sent":
                self._remember(handle.interaction_id)
        return outcome

    async def _channel_message(self, reply: Reply) -> Outcome:
        """A message in a channel, with the bot token (the bot must be in that server), or an edit
        or deletion of one we posted. Discord has no private message in a channel outside an
        interaction: those are refused, and the worker sends their fallback."""
        route = f"channel:{reply.chat_id}"
        messages = f"/channels/{reply.chat_id}/messages"
        if reply.edit_of:
            if reply.delete:
                outcome = await self._call("DELETE", f"{messages}/{reply.edit_of}", None, route, "")
                return SENT if outcome.status == "dropped" and outcome.detail.startswith("404") else outcome  # gone already
            body = render(reply)
            body.pop("flags", None)
            return await self._call("PATCH", f"{messages}/{reply.edit_of}", body, route, "")
        if reply.private_to:
            return Outcome("refused", detail="no private channel messages outside an interaction")
        body = render(reply)
        body.pop("flags", None)  # a channel message is seen by the channel
        if reply.reply_to:
            # A reply to the message it converts; if that message is gone meanwhile, a plain message.
            body["message_reference"] = {"message_id": reply.reply_to, "fail_if_not_exists": False}
        return await self._call("POST", messages, body, route, "")

    # ----- the HTTP calls
    async def _call(self, method: str, path: str, body, route: str, interaction_id: str) -> Outcome:
        data = _encode(body) if body is not None else None
        outcome = Outcome("retry", detail="not tried")
        for attempt in range(len(self._backoff) + 1):
            wait = self._wait_for_bucket(route)
            if wait > MAX_INLINE_WAIT:
                return Outcome("retry", retry_after=wait, detail="rate limited")
            if wait > 0:
                await asyncio.sleep(wait)
            outcome = await asyncio.to_thread(self._request, method, path, data, route)
            if outcome.status != "retry" or attempt == len(self._backoff):
                break
            wait = outcome.retry_after or self._backoff[attempt]
            if wait > MAX_INLINE_WAIT:
                return outcome
            log.info("discord %s %s: %s, retrying in %.1fs", method, _route_name(path), outcome.detail, wait)
            await asyncio.sleep(wait)
        if outcome.status == "dropped" and interaction_id and outcome.detail.startswith(("401", "404")):
            log.warning("discord interaction=%s: token expired or unknown, answer dropped", interaction_id)
        return outcome

    def _wait_for_bucket(self, route: str) -> float:
        now = time.monotonic()
        with self._limits:
            return max(self._bucket_until.get(route, 0.0), self._global_until) - now

    def _request(self, method: str, path: str, data: bytes | None, route: str) -> Outcome:
        import urllib3

        try:
            response = self._http.request(method, self._base + path, body=data, headers=self._headers)
        except urllib3.exceptions.ReadTimeoutError:
            if method == "PATCH":  # an edit to the same content is harmless to repeat
                return Outcome("retry", detail="read timeout")
            # Discord may well have posted it and only the answer is late; a double is worse.
            log.warning("discord %s %s: no answer within the read timeout; not resending", method, _route_name(path))
            return Outcome("sent", detail="read timeout")
        except urllib3.exceptions.HTTPError as exc:
            return Outcome("retry", detail=type(exc).__name__)
        self._note_limits(response, route)
        status = response.status
        if 200 <= status < 300:
            try:
                return Outcome("sent", message_id=_decode_sent(response.data).id) if response.data else SENT
            except (msgspec.DecodeError, msgspec.ValidationError):
                return SENT
        if status == 429:
            try:
                limited = _decode_limited(response.data)
            except (msgspec.DecodeError, msgspec.ValidationError):
                limited = _RateLimited(retry_after=_float(response.headers.get("Retry-After"), 1.0))
            after = max(0.05, float(limited.retry_after))
            if limited.is_global or (response.headers.get("X-RateLimit-Global") or "").lower() == "true":
                with self._limits:
                    self._global_until = max(self._global_until, time.monotonic() + after)
            return Outcome("retry", retry_after=after, detail="429")
        if status >= 500:
            return Outcome("retry", detail=str(status))
        try:
            error = _decode_error(response.data)
        except (msgspec.DecodeError, msgspec.ValidationError):
            error = _Error()
        return Outcome("dropped", detail=f"{status} code={error.code} {error.message[:100]}")

    def _note_limits(self, response, route: str) -> None:
        remaining = response.headers.get("X-RateLimit-Remaining")
        if remaining is not None and remaining.strip() == "0":
            reset_after = _float(response.headers.get("X-RateLimit-Reset-After"), 1.0)
            with self._limits:
                self._bucket_until[route] = time.monotonic() + reset_after
                if len(self._bucket_until) > FILLED_KEPT:
                    now = time.monotonic()
                    self._bucket_until = {k: v for k, v in self._bucket_until.items() if v > now}

    # ----- command registration (blocking: the command line uses it)
    def register_commands(self, commands: list[dict], guild_id: str = "") -> tuple[int, str]:
        """PUT the whole command list (global, or one guild's for instant testing):
        (HTTP status, Discord's message or the count registered)."""
        import urllib3

        path = f"/applications/{self.application_id}"
        path += f"/guilds/{guild_id}/commands" if guild_id else "/commands"
        data = _encode(commands)
        for attempt in range(3):
            try:
                response = self._http.request("PUT", self._base + path, body=data, headers=self._headers)
            except urllib3.exceptions.HTTPError as exc:
                return 0, type(exc).__name__
            if response.status == 429 and attempt < 2:
                try:
                    time.sleep(min(MAX_INLINE_WAIT, _decode_limited(response.data).retry_after))
                except (msgspec.DecodeError, msgspec.ValidationError):
                    time.sleep(1.0)
                continue
            break
        if 200 <= response.status < 300:
            try:
                return response.status, f"{len(msgspec.json.decode(response.data))} commands"
            except (msgspec.DecodeError, TypeError):
                return response.status, "registered"
        try:
            return response.status, _decode_error(response.data).message[:300]
        except (msgspec.DecodeError, msgspec.ValidationError):
            return response.status, ""


def _float(text: str | None, default: float) -> float:
    try:
        return float(text) if text else default
    except ValueError:
        return default


def _route_name(path: str) -> str:
    """A path fit for logs: interaction tokens cut out."""
    if path.startswith("/webhooks/"):
        return "/webhooks/{app}/{token}" + ("/messages/@original" if path.endswith("@original") else "")
    return path


# ---------------------------------------------------------------- the commands we register
_EVERYWHERE = {"integration_types": [0, 1], "contexts": [0, 1, 2]}  # guild + user installs; guild, bot DM, private channel
_ZONE = {"type": 3, "name": "zone", "description": "A city or zone: Berlin, America/New_York, UTC+3",
         "autocomplete": True, "max_length": 64}


def command_list() -> list[dict]:
    """Every command, for `PUT /applications/{id}/commands` (which replaces them all)."""
    slash = [
        ("time", "Now in every zone here, or convert a time: /time 15:30, /time 3pm PT tomorrow",
         [{"type": 3, "name": "text", "description": "A time to convert (empty: now)", "max_length": 200}]),
        ("tz", "Show or set your time zone", [{**_ZONE, "description": "Your city or zone (empty: show yours)"}]),
        ("zones", "The zones of this channel, and extra zones for it", [
            {"type": 1, "name": "list", "description": "Every zone here and who is in it"},
            {"type": 1, "name": "add", "description": "Add a zone for this channel", "options": [{**_ZONE, "required": True}]},
            {"type": 1, "name": "remove", "description": "Remove a zone added with /zones add",
             "options": [{**_ZONE, "required": True}]},
            {"type": 1, "name": "unlearn", "description": "Forget the \u201cnot a time\u201d patterns learned here"},
        ]),
        ("hours", "Your working hours (default 09:00-18:00 Mon-Fri in your zone)", [
            {"type": 3, "name": "hours", "description": "9-18, 08:30-17:00 mon-thu, or off (empty: show yours)",
             "max_length": 60}]),
        ("overlap", "When everyone's working hours here overlap", [
            {"type": 3, "name": "duration", "description": "Meeting length: 30m, 1h (default 30m)", "max_length": 10},
            {"type": 4, "name": "days", "description": "Working days to look ahead (default 5)", "min_value": 1,
             "max_value": 14}]),
        ("notices", "Notices here a few days before clocks change", [
            {"type": 3, "name": "state", "description": "on or off", "required": True,
             "choices": [{"name": "on", "value": "on"}, {"name": "off", "value": "off"}]}]),
        ("mute", "Stop converting times here automatically", []),
        ("unmute", "Convert times here again", []),
        ("format", "Show times here as 12h or 24h", [
            {"type": 3, "name": "style", "description": "12h or 24h", "required": True,
             "choices": [{"name": "12h (3:30 PM)", "value": "12h"}, {"name": "24h (15:30)", "value": "24h"}]},
        ]),
        ("forget", "Delete everything stored about you", []),
        ("help", "What I do and how to use me", []),
    ]
    commands = [
        {"name": name, "type": 1, "description": description, "options": options, **_EVERYWHERE}
        for name, description, options in slash
    ]
    commands.append({"name": CONVERT_COMMAND, "type": 3, **_EVERYWHERE})
    return commands


CONVERT_COMMAND = "Convert times"


# What the bot asks for in a server: View Channels, Send Messages, Read Message History (a reply to a
# message needs the last one). Nothing else: it never moderates, pins or mentions.
BOT_PERMISSIONS = (1 << 10) | (1 << 11) | (1 << 16)


def install_link(application_id: str, user: bool = False) -> str:
    """The link that adds the app: to a server (with the bot, so it can post in its channels), or
    to one's own account (its commands then work in every server and DM, bot or not)."""
    if user:
        return f"https://discord.com/oauth2/authorize?client_id={application_id}&integration_type=1&scope=applications.commands"
    return (f"https://discord.com/oauth2/authorize?client_id={application_id}&integration_type=0"
            f"&scope=applications.commands+bot&permissions={BOT_PERMISSIONS}")
