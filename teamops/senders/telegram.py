"""Telegram Bot API sender: sendMessage (HTML, escaped; moments as <tg-time>; private answers as
ephemeral messages), editMessageText, deleteMessage and answerCallbackQuery, over urllib3.

urllib3 is blocking, so each call runs in a worker thread; waits between retries are asyncio
sleeps, so nothing here stalls the event loop. A 429 is retried after the `retry_after` Telegram
gives; a 5xx or a connection failure with exponential backoff, a few times; another 4xx is logged
and dropped (retrying would fail the same way).
"""

from __future__ import annotations

import asyncio
import html
import logging
import time

import msgspec
import urllib3

from teamops.events import TIME, WEEKDAY_TIME, Reply, Span
from teamops.senders import SENT, Outcome

log = logging.getLogger("teamops.telegram")

TEXT_LIMIT = 4096
BACKOFF = (0.5, 1.5, 4.0)
MAX_INLINE_WAIT = 30.0  # a longer 429 wait goes back to the inbox instead of holding a worker


class _Parameters(msgspec.Struct):
    retry_after: float | None = None


class _ApiAnswer(msgspec.Struct):
    ok: bool = False
    error_code: int | None = None
    description: str = ""
    parameters: _Parameters | None = None


class _Member(msgspec.Struct):
    status: str = ""
    is_member: bool = False  # only "restricted" members carry it


class _MemberAnswer(msgspec.Struct):
    ok: bool = False
    result: _Member | None = None


class _Me(msgspec.Struct):
    username: str = ""


class _MeAnswer(msgspec.Struct):
    ok: bool = False
    result: _Me | None = None


IN_CHAT = frozenset(("creator", "administrator", "member"))


class _SentAnswer(msgspec.Struct):
    result: object = None  # the sent Message, or True for a deletion


_decode_answer = msgspec.json.Decoder(_ApiAnswer).decode
_decode_sent = msgspec.json.Decoder(_SentAnswer).decode
_decode_member = msgspec.json.Decoder(_MemberAnswer).decode
_decode_me = msgspec.json.Decoder(_MeAnswer).decode
_encode = msgspec.json.Encoder().encode


# Moment styles to date_time formats (w weekday, t short time); clients show them in the reader's
# own zone and locale.
MOMENT_FORMATS = {WEEKDAY_TIME: "wt", TIME: "t"}
MOMENT_HORIZON_SECONDS = 1098 * 24 * 3600  # Telegram takes instants from 0 to now + 1,098 days


def _moment(span: Span, now: float) -> str:
    text = html.escape(span.text, quote=False)
    moment = span.moment
    if moment is None or not 0 <= moment.unix <= now + MOMENT_HORIZON_SECONDS:
        return text  # out of range: the fallback text, as written
    return f'<tg-time unix="{moment.unix}" format="{MOMENT_FORMATS.get(moment.style, "wt")}">{text}</tg-time>'


def render_html(reply: Reply, now: float | None = None) -> str:
    """Spans to Telegram HTML: every piece of text escaped, bold runs in <b>, moments as <tg-time>
    (rendered on each reader's own clock; the reader's-clock line is kept, Telegram can show it)."""
    now = time.time() if now is None else now
    parts = []
    for span in reply.body:
        text = _moment(span, now)
        parts.append(f"<b>{text}</b>" if span.bold else text)
    rendered = "".join(parts)
    if len(rendered) > TEXT_LIMIT:
        # Cut on a line boundary outside any tag; a reply this long only comes from a huge chat.
        cut = rendered.rfind("\n", 0, TEXT_LIMIT - 2)
        rendered = rendered[: cut if cut > 0 else TEXT_LIMIT - 2]
        if rendered.count("<b>") > rendered.count("</b>"):
            rendered += "</b>"
        rendered += "\n\u2026"
    return rendered


def _group(chat_id: str) -> bool:
    return chat_id.startswith("-")  # groups and supergroups have negative ids, people positive


def _button(button, reply: Reply, bot_username: str) -> dict | None:
    if button.private_start and _group(reply.chat_id) and not reply.private_to and bot_username:
        # Everyone in the group sees this button, so it opens a private chat with the bot, which
        # hands whoever pressed it a link of their own.
        return {"text": button.text, "url": f"https://t.me/{bot_username}?start={button.private_start}"}
    if button.url:
        return {"text": button.text, "url": button.url}
    if button.data:
        return {"text": button.text, "callback_data": button.data}
    return None  # a personal link's button in a public fallback, with no deep link to offer


def _keyboard(reply: Reply, bot_username: str) -> dict | None:
    rows = [[b for b in (_button(button, reply, bot_username) for button in row) if b] for row in reply.buttons]
    rows = [row for row in rows if row]
    return {"inline_keyboard": rows} if rows else None


def _chat(chat_id: str):
    return int(chat_id) if chat_id.lstrip("-").isdigit() else chat_id


def send_message_payload(reply: Reply, bot_username: str = "", now: float | None = None) -> dict:
    payload: dict = {
        "chat_id": _chat(reply.chat_id),
        "text": render_html(reply, now),
        "parse_mode": "HTML",
        "link_preview_options": {"is_disabled": True},
    }
    if reply.thread_id:
        payload["message_thread_id"] = int(reply.thread_id)
    if reply.reply_to:
        payload["reply_parameters"] = {"message_id": int(reply.reply_to), "allow_sending_without_reply": True}
    if reply.private_to and _group(reply.chat_id):
        # An ephemeral message (Bot API 10.2): only this member sees it. In a private chat the
        # reply is private anyway.
        payload["receiver_user_id"] = int(reply.private_to) if reply.private_to.isdigit() else reply.private_to
        if reply.private_press:
            payload["callback_query_id"] = reply.private_press
    keyboard = _keyboard(reply, bot_username)
    if keyboard:
        payload["reply_markup"] = keyboard
    return payload


def edit_message_payload(reply: Reply, bot_username: str = "", now: float | None = None) -> dict:
    payload: dict = {
        "chat_id": _chat(reply.chat_id),
        "message_id": int(reply.edit_of),
        "text": render_html(reply, now),
        "parse_mode": "HTML",
        "link_preview_options": {"is_disabled": True},
    }
    keyboard = _keyboard(reply, bot_username)
    if keyboard:
        payload["reply_markup"] = keyboard
    return payload


class TelegramSender:
    def __init__(self, api_base: str, bot_token: str, timeout: float, bot_username: str = "", backoff=BACKOFF):
        self._base = f"{api_base}/bot{bot_token}"
        self.bot_username = bot_username
        self._backoff = backoff
        self._http = urllib3.PoolManager(
            num_pools=2,
            maxsize=8,
            timeout=urllib3.Timeout(connect=min(5.0, timeout), read=timeout),
            retries=False,
        )

    async def send(self, reply: Reply) -> Outcome:
        if reply.ack_press:
            body = {"callback_query_id": reply.ack_press}
            if reply.body:
                body["text"] = reply.plain_text[:200]
            # A press older than Telegram's window cannot be answered; never worth a retry.
            outcome = await self._call("answerCallbackQuery", body)
            return SENT if outcome.status == "retry" else outcome
        if reply.edit_of:
            return await self._change(reply)
        payload = send_message_payload(reply, self.bot_username)
        outcome = await self._call("sendMessage", payload)
        if "receiver_user_id" in payload and outcome.status == "dropped":
            # Telegram would not deliver it privately (an old group type, a client that cannot):
            # the worker sends the reply's public fallback instead.
            return Outcome("refused", detail=outcome.detail)
        return outcome

    async def _change(self, reply: Reply) -> Outcome:
        """Edit or delete a message we sent before."""
        if reply.delete:
            return await self._call("deleteMessage", {"chat_id": _chat(reply.chat_id), "message_id": int(reply.edit_of)})
        outcome = await self._call("editMessageText", edit_message_payload(reply, self.bot_username))
        if outcome.status == "sent" or (outcome.status == "dropped" and "not modified" in outcome.detail):
            return Outcome("sent", message_id=reply.edit_of)  # "not modified": it says that already
        return outcome

    def learn_username(self) -> str:
        """The bot's username from getMe (blocking: called once at start-up, off the loop); "" when
        Telegram could not say. Kept for the group buttons' deep links."""
        status, me = self._lookup("getMe", {}, _decode_me, timeout=urllib3.Timeout(connect=3.0, read=5.0))
        if status is not None and not 200 <= status < 300:
            log.warning("telegram getMe: %d", status)
        if me is not None and me.username:
            self.bot_username = me.username
        return self.bot_username

    async def is_member(self, chat_id: str, user_id: str) -> bool | None:
        """Is the user in the chat now (getChatMember)? None when Telegram could not say."""
        return await asyncio.to_thread(self._member, chat_id, user_id)

    def _member(self, chat_id: str, user_id: str) -> bool | None:
        body = {"chat_id": _chat(chat_id), "user_id": int(user_id) if user_id.isdigit() else user_id}
        status, member = self._lookup("getChatMember", body, _decode_member)
        if status in (400, 403):
            return False  # never in that chat ("user not found"), or the bot is not in it any more
        if status is not None and not 200 <= status < 300:
            log.warning("telegram getChatMember chat=%s: %d", chat_id, status)
        if member is None:
            return None
        return member.status in IN_CHAT or (member.status == "restricted" and member.is_member)

    def _lookup(self, method: str, body: dict, decode, **request) -> tuple[int | None, object]:
        """One read-only Bot API call (blocking): (HTTP status, decoded `result`). The status is None
        when no answer came; the result is None unless a 2xx answer could be read."""
        try:
            response = self._http.request(
                "POST", f"{self._base}/{method}", body=_encode(body), headers={"Content-Type": "application/json"},
                **request,
            )
        except urllib3.exceptions.HTTPError as exc:
            log.warning("telegram %s: %s", method, type(exc).__name__)
            return None, None
        if not 200 <= response.status < 300:
            return response.status, None
        try:
            return response.status, decode(response.data).result
        except (msgspec.DecodeError, msgspec.ValidationError):
            return response.status, None

    async def _call(self, method: str, body: dict) -> Outcome:
        data = _encode(body)
        outcome = Outcome("retry", detail="not tried")
        for attempt in range(len(self._backoff) + 1):
            outcome = await asyncio.to_thread(self._post, method, data)
            if outcome.status != "retry":
                return outcome
            if attempt == len(self._backoff):
                break
            wait = outcome.retry_after or self._backoff[attempt]
            if wait > MAX_INLINE_WAIT:
                return outcome
            log.info("telegram %s: %s, retrying in %.1fs", method, outcome.detail, wait)
            await asyncio.sleep(wait)
        return outcome

    def _post(self, method: str, data: bytes) -> Outcome:
        try:
            response = self._http.request(
                "POST", f"{self._base}/{method}", body=data, headers={"Content-Type": "application/json"}
            )
        except urllib3.exceptions.ReadTimeoutError:
            # Telegram may well have accepted the message and only the answer is late; sending it
            # again risks a double reply, which is the worse failure here. Counted as delivered.
            log.warning("telegram %s: no answer within the read timeout; not resending", method)
            return Outcome("sent", detail="read timeout")
        except urllib3.exceptions.HTTPError as exc:
            # Nothing reached Telegram (connection refused, connect timeout, reset before sending).
            return Outcome("retry", detail=type(exc).__name__)
        status = response.status
        if 200 <= status < 300:
            try:
                sent = _decode_sent(response.data).result
            except (msgspec.DecodeError, msgspec.ValidationError):
                sent = None
            # A private (ephemeral) message comes back with message_id 0: it cannot be edited.
            message_id = sent.get("message_id") if isinstance(sent, dict) else None
            return Outcome("sent", message_id=str(message_id)) if isinstance(message_id, int) and message_id else SENT
        try:
            answer = _decode_answer(response.data)
        except msgspec.DecodeError:
            answer = _ApiAnswer()
        if status == 429:
            after = (answer.parameters.retry_after if answer.parameters else None) or 1.0
            return Outcome("retry", retry_after=float(after), detail="429")
        if status >= 500:
            return Outcome("retry", detail=str(status))
        # 4xx: the request itself is wrong for Telegram (chat gone, bot blocked...): drop it.
        return Outcome("dropped", detail=f"{status} {answer.description[:120]}")
