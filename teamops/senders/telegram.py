"""Telegram Bot API sender: sendMessage (HTML, escaped) and answerCallbackQuery, over urllib3.

urllib3 is blocking, so each call runs in a worker thread; waits between retries are asyncio
sleeps, so nothing here stalls the event loop. A 429 is retried after the `retry_after` Telegram
gives; a 5xx or a connection failure with exponential backoff, a few times; another 4xx is logged
and dropped (retrying would fail the same way).
"""

from __future__ import annotations

import asyncio
import html
import logging

import msgspec
import urllib3

from teamops.events import Reply
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

_decode_answer = msgspec.json.Decoder(_ApiAnswer).decode
_decode_member = msgspec.json.Decoder(_MemberAnswer).decode
_decode_me = msgspec.json.Decoder(_MeAnswer).decode
_encode = msgspec.json.Encoder().encode


def render_html(reply: Reply) -> str:
    """Spans to Telegram HTML: every piece of text escaped, bold runs in <b>."""
    parts = []
    for span in reply.body:
        text = html.escape(span.text, quote=False)
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


def _button(button, reply: Reply, bot_username: str) -> dict:
    if button.url:
        url = button.url
        if button.private_start and reply.chat_id.startswith("-") and bot_username:
            # Group chats have negative ids. Everyone there sees the button, so it opens a private
            # chat with the bot, which hands the presser a link of their own.
            url = f"https://t.me/{bot_username}?start={button.private_start}"
        return {"text": button.text, "url": url}
    return {"text": button.text, "callback_data": button.data}


def _chat(chat_id: str):
    return int(chat_id) if chat_id.lstrip("-").isdigit() else chat_id


def send_message_payload(reply: Reply, bot_username: str = "") -> dict:
    payload: dict = {
        "chat_id": _chat(reply.chat_id),
        "text": render_html(reply),
        "parse_mode": "HTML",
        "link_preview_options": {"is_disabled": True},
    }
    if reply.thread_id:
        payload["message_thread_id"] = int(reply.thread_id)
    if reply.reply_to:
        payload["reply_parameters"] = {"message_id": int(reply.reply_to), "allow_sending_without_reply": True}
    if reply.buttons:
        payload["reply_markup"] = {
            "inline_keyboard": [
                [_button(b, reply, bot_username) for b in row]
                for row in reply.buttons
            ]
        }
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
        return await self._call("sendMessage", send_message_payload(reply, self.bot_username))

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
            return SENT
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
