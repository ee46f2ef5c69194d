"""Slack Web API sender: replies as mrkdwn (escaped) with Block Kit buttons and date tokens,
private answers (chat.postEphemeral), edits of our replies (chat.update / chat.delete), answers
through a command's or a press's response_url, and the directory the core reads members' zones
from (users.info / users.list, conversations.members), all over urllib3 off the event loop.

Slack answers most failures with HTTP 200 and {"ok": false, "error": "..."}. A 429 carries
Retry-After and is honoured per method (Slack's limits are per method): no call of that method
goes out before it passes. A send waits it out when it is short and goes back to the inbox when
it is long; a lookup gives up and the core uses what the store has. 5xx and Slack's own transient
errors are retried with backoff; any other error is final: the reply is dropped (logged), or, for
a private answer, refused, so the worker sends its fallback.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from urllib.parse import urlencode

import msgspec
import urllib3

from teamops.events import TIME, Profile, Reply
from teamops.senders import star_bold, SENT, Outcome

log = logging.getLogger("teamops.slack")

SECTION_LIMIT = 3000  # characters of mrkdwn in one section block
TEXT_LIMIT = 12_000  # a reply longer than this only comes from a huge chat: cut on a line
BUTTON_TEXT_LIMIT = 75
BACKOFF = (0.5, 1.5, 4.0)
MAX_INLINE_WAIT = 30.0  # a longer 429 wait goes back to the inbox instead of holding a worker
LOOKUP_WAIT = 3.0  # a lookup waits out a 429 this short; a longer one means "could not say"
USERS_INFO_MAX = 20  # more profiles than this at once: one users.list walk instead of users.info each
LIST_PAGE = 200
LIST_PAGES = 100  # users.list pages walked at most (20,000 people)
TRANSIENT = frozenset(("internal_error", "fatal_error", "service_unavailable", "request_timeout", "ratelimited"))
GONE = frozenset(("message_not_found",))  # an edit or delete of a message that is not there any more
# Slack's date tokens, by the model's moment styles: each reader sees them in their own zone.
DATE_FORMATS = {TIME: "{time}"}
DEFAULT_DATE_FORMAT = "{date_short_pretty} {time}"  # "today 15:30", "Feb 18 15:30"
LAST_MOMENT = 253402300799  # 9999-12-31: past it a client cannot show the date; the fallback is shown


# ----------------------------------------------------------------------------- rendering (pure)
class Call(msgspec.Struct, frozen=True):
    """One request to Slack: a Web API method, or (method "response_url") a POST to `url`. A
    chat.postEphemeral may carry a response_url in `url` to fall back on."""

    method: str
    body: dict
    url: str = ""


def escape(text: str) -> str:
    """mrkdwn's only escapes; everything else is sent as it is."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _span(span) -> str:
    moment = span.moment
    if moment is not None and 0 <= moment.unix <= LAST_MOMENT:
        # <!date^UNIX^format|fallback>: the fallback shows where a client cannot render it.
        token = f"<!date^{moment.unix}^{DATE_FORMATS.get(moment.style, DEFAULT_DATE_FORMAT)}|{escape(span.text).strip()}>"
        lead = span.text[: len(span.text) - len(span.text.lstrip())]
        trail = span.text[len(span.text.rstrip()):]
        return f"{lead}*{token}*{trail}" if span.bold else f"{lead}{token}{trail}"
    text = escape(span.text)
    return star_bold(text) if span.bold else text


def mrkdwn(reply: Reply) -> str:
    """Spans to mrkdwn: every piece of text escaped, bold runs in *…*, moments as date tokens."""
    text = "".join(_span(span) for span in reply.body)
    if len(text) > TEXT_LIMIT:
        cut = text.rfind("\n", 0, TEXT_LIMIT - 2)
        text = text[: cut if cut > 0 else TEXT_LIMIT - 2] + "\n\u2026"
    return text


def _sections(text: str) -> list[dict]:
    """The text as section blocks of at most SECTION_LIMIT characters, cut on line boundaries
    (bold never spans a line, so a cut never splits one)."""
    blocks, rest = [], text
    while rest:
        if len(rest) <= SECTION_LIMIT:
            chunk, rest = rest, ""
        else:
            cut = rest.rfind("\n", 0, SECTION_LIMIT)
            cut = cut if cut > 0 else SECTION_LIMIT
            chunk, rest = rest[:cut], rest[cut:].lstrip("\n")
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": chunk}})
    return blocks


def _button(button, row: int, column: int, private: bool) -> dict | None:
    element = {"type": "button", "text": {"type": "plain_text", "text": button.text[:BUTTON_TEXT_LIMIT], "emoji": True}}
    if button.private_start and not (private and button.url):
        # The link is minted for one person and everyone here sees the button (or the link was
        # taken off it): a press brings whoever pressed it a link of their own, privately
        # (handlers/slack.py hands it to the core's /start with the chat's signed code).
        element.update(action_id=f"start-{row}-{column}", value=button.private_start)
    elif button.url:
        element.update(action_id=f"link-{row}-{column}", url=button.url)
    elif button.data:
        element.update(action_id=f"press-{row}-{column}", value=button.data)
    else:
        return None  # nothing it could do: not shown
    return element


def _handle(reply: Reply) -> tuple[str, str]:
    mode, _, url = reply.reply_handle.partition(" ")
    return mode, url


def _content(reply: Reply, private: bool) -> dict:
    text = mrkdwn(reply)
    content: dict = {"text": text}
    if reply.buttons:
        blocks = _sections(text) if text else []
        for row, buttons in enumerate(reply.buttons):
            elements = [e for column, b in enumerate(buttons) if (e := _button(b, row, column, private))]
            if elements:
                blocks.append({"type": "actions", "block_id": f"row-{row}", "elements": elements})
        content["blocks"] = blocks
    return content


def _thread_of(reply: Reply) -> dict:
    thread = reply.thread_id or reply.reply_to
    return {"thread_ts": thread} if thread else {}


def _seen_where(reply: Reply) -> dict:
    # An answer for one person goes where they are looking: in the thread when the message was in
    # one, else in the channel (in a new thread under a message they would never see it).
    return {"thread_ts": reply.thread_id} if reply.thread_id else {}


def answer_through(reply: Reply, mode: str, url: str) -> Call:
    """The reply posted to a response_url: a command's answer (privately, or for the channel with
    `/time … share`), or a press's (in place of the question; a word to the presser alone keeps it)."""
    content = _content(reply, private=mode != "in_channel")
    if mode == "in_channel":
        content["response_type"] = "in_channel"
    elif mode == "replace" and not reply.ack_press:
        content["replace_original"] = True
    else:
        content.update(response_type="ephemeral", replace_original=False)
    return Call("response_url", content, url)


def render(reply: Reply) -> Call | None:
    """The request that delivers `reply`, or None when there is nothing to send (a press with
    nothing to say was acknowledged by the HTTP answer already).

    In order: an edit or deletion of one of our messages (chat.update / chat.delete); an answer
    through the request's response_url (a command, a press); an answer for one person in a channel
    (chat.postEphemeral; such messages cannot be edited later); an ordinary reply, in the
    message's thread (in a direct message it simply follows)."""
    if reply.edit_of:
        if reply.delete or not reply.body:
            return Call("chat.delete", {"channel": reply.chat_id, "ts": reply.edit_of})
        return Call("chat.update", {"channel": reply.chat_id, "ts": reply.edit_of, **_content(reply, private=False)})
    if reply.ack_press and not reply.body:
        return None
    mode, url = _handle(reply)
    private_to = reply.private_to
    if mode == "private":  # "Convert for me": chat.postEphemeral to the presser; `url` if that fails
        private_to, _, url = url.partition(" ")
    elif url:
        return answer_through(reply, mode, url)
    if private_to and not reply.chat_id.startswith("D"):
        body = {"channel": reply.chat_id, "user": private_to, **_content(reply, private=True), **_seen_where(reply)}
        return Call("chat.postEphemeral", body, url)
    body = {"channel": reply.chat_id, **_content(reply, private=False), "unfurl_links": False, "unfurl_media": False}
    if reply.thread_id or not reply.chat_id.startswith("D"):
        body.update(_thread_of(reply))
    return Call("chat.postMessage", body)


# ----------------------------------------------------------------------------- Web API answers
class _Meta(msgspec.Struct):
    next_cursor: str = ""


class _Answer(msgspec.Struct):
    ok: bool = False
    error: str = ""
    ts: str = ""  # chat.postMessage / chat.update: the message's id, for editing it later


class _UserProfile(msgspec.Struct):
    display_name: str = ""
    real_name: str = ""


class _User(msgspec.Struct):
    id: str
    name: str = ""
    real_name: str = ""
    is_bot: bool = False
    deleted: bool = False
    tz: str | None = None
    profile: _UserProfile | None = None


class _UserAnswer(msgspec.Struct):
    ok: bool = False
    error: str = ""
    user: _User | None = None


class _UsersAnswer(msgspec.Struct):
    ok: bool = False
    error: str = ""
    members: list[_User] = []
    response_metadata: _Meta | None = None


class _MembersAnswer(msgspec.Struct):
    ok: bool = False
    error: str = ""
    members: list[str] = []
    response_metadata: _Meta | None = None


class _AuthAnswer(msgspec.Struct):
    ok: bool = False
    error: str = ""
    team_id: str = ""
    user_id: str = ""


_encode = msgspec.json.Encoder().encode
_decoders = {kind: msgspec.json.Decoder(kind).decode for kind in (_Answer, _UserAnswer, _UsersAnswer, _MembersAnswer, _AuthAnswer)}


def _profile(user: _User) -> Profile:
    profile = user.profile or _UserProfile()
    # Deactivated accounts and bots are nobody's zone.
    return Profile(tz=user.tz or None, name=profile.display_name or profile.real_name or user.real_name or user.name,
                   bot=user.is_bot or user.deleted)


def _retry_after(response) -> float:
    try:
        return max(0.0, float(response.headers.get("Retry-After") or 1))
    except ValueError:
        return 1.0


class _Lookup(msgspec.Struct):
    """One read-only call's result: `answer` is None when Slack could not say."""

    answer: object = None
    wait: float = 0.0  # Retry-After of a 429
    detail: str = ""


class SlackSender:
    def __init__(self, api_base: str, bot_token: str, timeout: float, max_channel_members: int = 500,
                 backoff=BACKOFF):
        self._base = api_base.rstrip("/")
        self._auth = {"Authorization": f"Bearer {bot_token}"}
        self.max_channel_members = max_channel_members
        self._backoff = backoff
        self._blocked: dict[str, float] = {}  # method -> monotonic time its 429 runs out
        self._lock = threading.Lock()
        self._http = urllib3.PoolManager(
            num_pools=4,
            maxsize=8,
            timeout=urllib3.Timeout(connect=min(5.0, timeout), read=timeout),
            retries=False,
        )

    # ----- delivery
    async def send(self, reply: Reply) -> Outcome:
        call = render(reply)
        if call is None:
            return SENT
        outcome = await self._call(call)
        if call.method != "chat.postEphemeral" or outcome.status != "dropped":
            return outcome
        if call.url:
            # The bot may not be in that channel (a DM between two people): the shortcut's own
            # response_url reaches the presser anywhere.
            return await self._call(answer_through(reply, "ephemeral", call.url))
        # Never the private answer publicly: the worker sends its fallback instead.
        return Outcome("refused", detail=outcome.detail)

    async def _call(self, call: Call) -> Outcome:
        outcome = Outcome("retry", detail="not tried")
        for attempt in range(len(self._backoff) + 1):
            wait = self._blocked_for(call.method)
            if wait > MAX_INLINE_WAIT:
                return Outcome("retry", retry_after=wait, detail="429")
            if wait > 0:
                await asyncio.sleep(wait)
            outcome = await asyncio.to_thread(self._post, call)
            if outcome.status != "retry" or attempt == len(self._backoff):
                break
            wait = outcome.retry_after or self._backoff[attempt]
            if wait > MAX_INLINE_WAIT:
                break
            log.info("slack %s: %s, retrying in %.1fs", call.method, outcome.detail, wait)
            if not outcome.retry_after:
                await asyncio.sleep(wait)  # a 429's wait is taken at the top of the loop
        return outcome

    def _blocked_for(self, method: str) -> float:
        with self._lock:
            return max(0.0, self._blocked.get(method, 0.0) - time.monotonic())

    def _block(self, method: str, seconds: float) -> None:
        with self._lock:
            self._blocked[method] = max(self._blocked.get(method, 0.0), time.monotonic() + seconds)

    def _post(self, call: Call) -> Outcome:
        answering = call.method == "response_url"
        if answering:
            target, headers = call.url, {}  # a response_url is its own credential: no token
        else:
            target, headers = f"{self._base}/{call.method}", dict(self._auth)
        headers["Content-Type"] = "application/json; charset=utf-8"
        try:
            response = self._http.request("POST", target, body=_encode(call.body), headers=headers)
        except urllib3.exceptions.ReadTimeoutError:
            # Slack may well have posted it and only the answer is late; posting again risks a
            # double reply, the worse failure here. Counted as delivered.
            log.warning("slack %s: no answer within the read timeout; not resending", call.method)
            return Outcome("sent", detail="read timeout")
        except urllib3.exceptions.HTTPError as exc:
            return Outcome("retry", detail=type(exc).__name__)  # nothing reached Slack
        status = response.status
        if status == 429:
            wait = _retry_after(response)
            self._block(call.method, wait)
            return Outcome("retry", retry_after=wait, detail="429")
        if status >= 500:
            return Outcome("retry", detail=str(status))
        if not 200 <= status < 300:
            return Outcome("dropped", detail=str(status))  # e.g. an expired or used response_url
        if answering:
            return SENT  # a response_url answers "ok" (text or JSON); what it posted cannot be edited
        try:
            answer = _decoders[_Answer](response.data)
        except (msgspec.DecodeError, msgspec.ValidationError):
            return Outcome("sent", detail="unreadable answer")
        if answer.ok:
            # postMessage and update name the message that shows the reply now; an ephemeral one
            # cannot be edited, so it has no id worth keeping.
            kept = answer.ts if call.method in ("chat.postMessage", "chat.update") else ""
            return Outcome("sent", message_id=kept)
        if answer.error in TRANSIENT:
            return Outcome("retry", detail=answer.error[:60])
        if answer.error in GONE and call.method == "chat.delete":
            return SENT  # deleted already: what was asked for
        return Outcome("dropped", detail=answer.error[:60] or "not ok")

    # ----- read-only calls (blocking: always run in a thread)
    def _lookup(self, method: str, params: dict, kind) -> _Lookup:
        wait = self._blocked_for(method)
        if wait > LOOKUP_WAIT:
            return _Lookup(wait=wait, detail="429")
        if wait:
            time.sleep(wait)
        for _ in range(2):
            try:
                response = self._http.request("GET", f"{self._base}/{method}?{urlencode(params)}", headers=self._auth)
            except urllib3.exceptions.HTTPError as exc:
                log.warning("slack %s: %s", method, type(exc).__name__)
                return _Lookup(detail=type(exc).__name__)
            if response.status != 429:
                break
            wait = _retry_after(response)
            self._block(method, wait)
            if wait > LOOKUP_WAIT:
                log.warning("slack %s: 429, Retry-After %.0fs; using what is stored", method, wait)
                return _Lookup(wait=wait, detail="429")
            time.sleep(wait)
        else:
            return _Lookup(detail="429")
        if not 200 <= response.status < 300:
            log.warning("slack %s: %d", method, response.status)
            return _Lookup(detail=str(response.status))
        try:
            answer = _decoders[kind](response.data)
        except (msgspec.DecodeError, msgspec.ValidationError):
            log.warning("slack %s: unreadable answer", method)
            return _Lookup(detail="unreadable")
        if not answer.ok:
            log.warning("slack %s: %s", method, answer.error[:60])
            return _Lookup(detail=answer.error[:60])
        return _Lookup(answer=answer)

    def identify(self) -> tuple[str, str]:
        """(workspace id, the bot's user id) from auth.test; ("", "") when Slack could not say.
        Blocking: called once at start-up, off the loop."""
        found = self._lookup("auth.test", {}, _AuthAnswer).answer
        return (found.team_id, found.user_id) if found is not None else ("", "")

    # ----- the directory the core reads (see teamops/directory.py)
    async def profiles(self, user_ids: list[str]) -> dict[str, Profile]:
        return await asyncio.to_thread(self._profiles, list(user_ids))

    async def chat_members(self, chat_id: str) -> tuple[list[str], bool] | None:
        return await asyncio.to_thread(self._members, chat_id)

    def _profiles(self, user_ids: list[str]) -> dict[str, Profile]:
        found: dict[str, Profile] = {}
        if len(user_ids) <= USERS_INFO_MAX:
            for user_id in user_ids:
                result = self._lookup("users.info", {"user": user_id}, _UserAnswer)
                if result.answer is not None and result.answer.user is not None:
                    found[user_id] = _profile(result.answer.user)
                elif result.detail == "user_not_found":
                    found[user_id] = Profile(bot=True)  # nobody there: never counted, not asked again today
                elif result.detail == "429":
                    break  # the rest stays unknown until next time
            return found
        wanted, cursor = set(user_ids), ""
        for _ in range(LIST_PAGES):
            params = {"limit": LIST_PAGE, **({"cursor": cursor} if cursor else {})}
            page = self._lookup("users.list", params, _UsersAnswer).answer
            if page is None:
                break
            for user in page.members:
                if user.id in wanted:
                    found[user.id] = _profile(user)
            cursor = (page.response_metadata or _Meta()).next_cursor
            if not cursor or len(found) == len(wanted):
                break
        return found

    def _members(self, chat_id: str) -> tuple[list[str], bool] | None:
        members, cursor = [], ""
        for _ in range(self.max_channel_members // LIST_PAGE + 2):
            params = {"channel": chat_id, "limit": LIST_PAGE, **({"cursor": cursor} if cursor else {})}
            page = self._lookup("conversations.members", params, _MembersAnswer).answer
            if page is None:
                return None
            members.extend(page.members)
            if len(members) > self.max_channel_members:
                return members, False
            cursor = (page.response_metadata or _Meta()).next_cursor
            if not cursor:
                return members, True
        return members, False
