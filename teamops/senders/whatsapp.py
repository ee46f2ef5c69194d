"""WhatsApp Cloud API sender: POST {base}/{version}/{phone number id}/messages with the bearer
token, over urllib3 off the event loop.

What a Reply becomes (teamops/events.py has the model):
- Text in WhatsApp's markup: bold runs as *…*; every other marker a person could have typed
  (* _ ~ `) is swapped for a look-alike, so a name or a place cannot make the reply bold, italic,
  struck or monospaced. No native moments: the plain rendering (the reader's-clock line left
  out). At most 4,096 characters, cut on a line.
- One-to-one chats: the core's choices as reply buttons (at most 3, titles of 20 characters; a tap
  comes back to handlers/whatsapp.py as a ButtonPress), a link as a CTA URL button (one per
  message). Interactive bodies hold 1,024 characters: a longer text goes first as a message of
  its own.
- Groups (`recipient_type: group`) take no interactive messages: plain text. A personal link is
  never shown there; a button that would carry one (`private_start`) becomes a wa.me link that
  opens a one-to-one chat with us with "/tz" typed in, where the person gets a link of their own.
  Choices become a list of their labels.
- A private answer in a group goes to the person one-to-one, but only while their 24-hour window
  is open (they wrote to us one-to-one in the last 24 hours: users.direct_at); otherwise, or if
  Meta says the window is closed, the sender refuses and the worker sends the group fallback.
- WhatsApp has no edits or deletions of our messages: an edit is dropped, a deletion ("not a
  time") counts as done and the message stays. The id reported back is the wamid of the reply's
  (first) message, so a ❌ on it finds it.

Errors (the Graph envelope's `error.code`): 130429 (throughput), 131056 (pair rate) and 131057
(number in maintenance) are retried with a growing wait (4 s, 16 s inline, then through the
inbox); 5xx and connection failures with a short backoff; 131047 (outside the 24-hour window),
131062 (a business-scoped id cannot receive this) and every other 4xx are final: logged by the
worker with the chat and event ids, and dropped. One exception: buttons refused with 131062 (a
BSUID recipient that cannot take interactive messages yet) are sent again as text in that
person's own chat, the link written out. The access token is never logged.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timezone

import msgspec
import urllib3

from teamops.events import Button, Reply
from teamops.senders import star_bold, SENT, Outcome

log = logging.getLogger("teamops.whatsapp")

GROUP = "group:"  # as handlers/whatsapp.py names group chats
TEXT_LIMIT = 4096
BODY_LIMIT = 1024  # an interactive message's body
TITLE_LIMIT = 20  # a reply button's title, a CTA's display text
MAX_REPLY_BUTTONS = 3
WINDOW_SECONDS = 24 * 3600 - 300  # the customer service window, with a margin for clocks and queues
RATE_LIMITED = frozenset((130429, 131056, 131057))
WINDOW_CLOSED = frozenset((131047, 131062))  # not deliverable to this person now: final
NO_INTERACTIVE = 131062  # a business-scoped id that cannot take this type: sent again as text
BACKOFF = (0.5, 1.5, 4.0)
RATE_BACKOFF = (4.0, 16.0, 64.0)  # 4^n seconds, the pair rate limit's own advice
MAX_INLINE_WAIT = 30.0  # a longer wait goes back to the inbox instead of holding a worker

# Markers WhatsApp reads as formatting, and look-alikes that it does not.
_LOOKALIKES = {"*": "\u2217", "~": "\u223c", "`": "\u02cb"}
_UNDERSCORE = "\uff3f"


# ----------------------------------------------------------------------------- rendering (pure)
def escape(text: str) -> str:
    """Text shown as written: no marker in it can open or close formatting. An underscore inside a
    word (America/New_York) cannot either, so it stays."""
    if not any(marker in text for marker in "*_~`"):
        return text
    out = []
    last = len(text) - 1
    for index, char in enumerate(text):
        if char in _LOOKALIKES:
            char = _LOOKALIKES[char]
        elif char == "_" and not (0 < index < last and text[index - 1].isalnum() and text[index + 1].isalnum()):
            char = _UNDERSCORE
        out.append(char)
    return "".join(out)


def _cut(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    cut = text.rfind("\n", 0, limit - 2)
    return text[: cut if cut > 0 else limit - 2] + "\n\u2026"


def markup(reply: Reply) -> str:
    """The reply's body in WhatsApp markup: moments as their text, no reader's-clock line."""
    parts = []
    for span in reply.body:
        if span.reader_clock:
            continue
        text = escape(span.text)
        parts.append(star_bold(text) if span.bold else text)
    return "".join(parts)


def is_group(chat_id: str) -> bool:
    return chat_id.startswith(GROUP)


def address(user_id: str, phone: str = "") -> dict:
    """A person: by phone (`to`) when known, else by business-scoped id (`recipient`)."""
    if phone:
        return {"recipient_type": "individual", "to": phone}
    if user_id.isdigit():
        return {"recipient_type": "individual", "to": user_id}
    return {"recipient_type": "individual", "recipient": user_id.replace("-", ".")}


def _title(text: str) -> str:
    return text if len(text) <= TITLE_LIMIT else text[: TITLE_LIMIT - 1].rstrip() + "\u2026"


def _wa_link(number: str) -> str:
    return f"https://wa.me/{number}?text=/tz"


def _group_lines(buttons: list[Button], number: str) -> str:
    """What a group sees of the buttons: the private flow's wa.me link instead of a personal one,
    choices as a list; a link button without the private flow is left out (it may be personal)."""
    lines = []
    for button in buttons:
        if button.private_start:
            if number:
                lines.append(f"{escape(button.text)}: {_wa_link(number)}")
        elif button.data and not button.url:
            lines.append(f"\u2022 {escape(button.text)}")
    return "\n\n" + "\n".join(lines) if lines else ""


def _split(text: str) -> tuple[str, str]:
    """(a text message to send first, the interactive body): the body holds BODY_LIMIT characters,
    so a longer text keeps its last paragraph (or line) above the buttons and goes first whole."""
    if len(text) <= BODY_LIMIT:
        return "", text
    for mark in ("\n\n", "\n"):
        cut = text.rstrip().rfind(mark)
        tail = text[cut + len(mark):] if cut > 0 else ""
        if tail.strip() and len(tail) <= BODY_LIMIT:
            return text[:cut], tail
    return text, "\u2b07\ufe0f"  # no line to cut on: the whole text first, the buttons under it


def _message(target: dict, context: dict, **content) -> dict:
    return {"messaging_product": "whatsapp", **target, **context, **content}


def _text(target: dict, context: dict, text: str) -> dict:
    return _message(target, context, type="text", text={"preview_url": False, "body": _cut(text, TEXT_LIMIT)})


def _buttons(reply: Reply) -> list[Button]:
    return [button for row in reply.buttons for button in row]


def _plain_lines(buttons: list[Button]) -> str:
    """Buttons as text, for one person's own chat only: a link written out, choices listed."""
    lines = [f"{escape(b.text)}: {b.url}" if b.url else f"\u2022 {escape(b.text)}" for b in buttons if b.url or b.data]
    return "\n\n" + "\n".join(lines) if lines else ""


def render(reply: Reply, business_number: str = "", phone: str = "", one_to_one: str = "",
           plain: bool = False) -> list[dict]:
    """The messages (request bodies, in order) that deliver `reply`; [] when there is nothing to send.

    `phone`: the number of the person the chat (or `one_to_one`) is with, when known. `one_to_one`:
    deliver to this person's one-to-one chat instead of `reply.chat_id` (a private answer from a
    group; it answers no message there, so it carries no context). `plain`: no interactive message
    in a one-to-one chat either (the buttons as text), for a recipient that cannot take one."""
    buttons = _buttons(reply)
    text = markup(reply)
    if is_group(reply.chat_id) and not one_to_one:
        target = {"recipient_type": "group", "to": reply.chat_id[len(GROUP):]}
        context = {"context": {"message_id": reply.reply_to}} if reply.reply_to else {}
        text += _group_lines(buttons, business_number)
        return [_text(target, context, text)] if text.strip() else []
    target = address(one_to_one or reply.chat_id, phone)
    context = {"context": {"message_id": reply.reply_to}} if reply.reply_to and not one_to_one else {}
    if plain:
        text += _plain_lines(buttons)
        return [_text(target, context, text)] if text.strip() else []
    link = next((button for button in buttons if button.url), None)
    choices = [button for button in buttons if button.data and not button.url]
    if link is not None:
        head, body = _split(text or link.text)
        interactive = {"type": "cta_url", "body": {"text": body},
                       "action": {"name": "cta_url", "parameters": {"display_text": _title(link.text), "url": link.url}}}
    elif choices:
        if len(choices) > MAX_REPLY_BUTTONS:
            # More choices than buttons: all of them listed (typed as a command they work too).
            text += "\n" + "\n".join(f"\u2022 {escape(button.text)}" for button in choices)
        head, body = _split(text or "\u2b07\ufe0f")
        seen: set[str] = set()
        reply_buttons = []
        for index, button in enumerate(choices[:MAX_REPLY_BUTTONS]):
            title = _title(button.text)
            if title in seen:  # titles must differ; a cut can make two alike
                title = _title(f"{index + 1}. {button.text}")
            seen.add(title)
            reply_buttons.append({"type": "reply", "reply": {"id": button.data[:256], "title": title}})
        interactive = {"type": "button", "body": {"text": body}, "action": {"buttons": reply_buttons}}
    else:
        return [_text(target, context, text)] if text.strip() else []
    messages = [_text(target, context, head)] if head.strip() else []
    messages.append(_message(target, {} if messages else context, type="interactive", interactive=interactive))
    return messages


def window_open(user: dict | None, now: datetime | None = None) -> bool:
    """Did the person write to us one-to-one within the last 24 hours (so we may write to them)?"""
    moment = (user or {}).get("direct_at")
    if moment is None:
        return False
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    now = now or datetime.now(timezone.utc)
    return (now - moment).total_seconds() < WINDOW_SECONDS


def phone_of(user_id: str, user: dict | None) -> str:
    if user_id.isdigit():
        return user_id
    return next((alias for alias in (user or {}).get("aliases") or () if alias.isdigit()), "")


# ----------------------------------------------------------------------------- Graph API answers
class _SentMessage(msgspec.Struct):
    id: str = ""


class _Sent(msgspec.Struct):
    messages: list[_SentMessage] = []


class _Error(msgspec.Struct):
    code: int = 0


class _Failure(msgspec.Struct):
    error: _Error | None = None


_encode = msgspec.json.Encoder().encode
_decode_sent = msgspec.json.Decoder(_Sent).decode
_decode_failure = msgspec.json.Decoder(_Failure).decode


async def _nobody(user_id: str) -> None:
    return None


class WhatsAppSender:
    """`business`: has `.number`, our number's digits (for wa.me links; handlers.whatsapp.Business).
    `contact(user_id)`: the stored user (a coroutine), for their phone and their 24-hour window."""

    def __init__(self, api_base: str, api_version: str, phone_number_id: str, access_token: str, timeout: float,
                 business=None, contact=None, backoff=BACKOFF, rate_backoff=RATE_BACKOFF):
        self._url = f"{api_base.rstrip('/')}/{api_version}/{phone_number_id}/messages"
        self._headers = {"Authorization": f"Bearer {access_token}", "Content-Type": "application/json"}
        self.business = business
        self.contact = contact or _nobody
        self._backoff = backoff
        self._rate_backoff = rate_backoff
        self._http = urllib3.PoolManager(
            num_pools=2,
            maxsize=8,
            timeout=urllib3.Timeout(connect=min(5.0, timeout), read=timeout),
            retries=False,
        )

    @property
    def number(self) -> str:
        return getattr(self.business, "number", "") or ""

    async def send(self, reply: Reply) -> Outcome:
        if reply.edit_of and reply.delete:
            # "Not a time" asks for our conversion to go; the chat has learned from it already,
            # and the Cloud API deletes nothing. The reply stays; nothing to retry.
            log.info("whatsapp cannot delete message=%s; it stays", reply.edit_of[:80])
            return Outcome("sent", detail="cannot delete")
        if reply.edit_of:
            return Outcome("dropped", detail="whatsapp cannot edit a sent message")
        if reply.ack_press and not reply.body:
            return SENT  # a tap needs no acknowledgement of its own
        private = bool(reply.private_to) and is_group(reply.chat_id)
        if private:
            user = await self.contact(reply.private_to)
            if not window_open(user):
                return Outcome("refused", detail="outside the 24-hour window")
            phone = reply.reply_handle or phone_of(reply.private_to, user)
            person = reply.private_to
        else:
            phone = reply.reply_handle
            if not phone and not is_group(reply.chat_id) and not reply.chat_id.isdigit():
                phone = phone_of(reply.chat_id, await self.contact(reply.chat_id))
            person = ""
        messages = render(reply, self.number, phone, one_to_one=person)
        outcome, failed, first_id = await self._deliver(messages)
        if (outcome.status == "dropped" and outcome.detail.startswith(f"{NO_INTERACTIVE} ")
                and messages[failed].get("type") == "interactive"):
            # A business-scoped id that cannot take buttons yet: the rest of the reply as text, in
            # the person's own chat (groups never get interactive messages, so never there).
            log.info("whatsapp send: %s; sending the buttons as text", NO_INTERACTIVE)
            again = render(reply, self.number, phone, one_to_one=person, plain=True)
            if failed:  # the long text went out already: only what the buttons message held
                again = [{**again[0], "text": {"preview_url": False, "body": _cut(
                    messages[failed]["interactive"]["body"]["text"] + _plain_lines(_buttons(reply)), TEXT_LIMIT)}}]
                again[0].pop("context", None)
            outcome, _, again_id = await self._deliver(again)
            first_id = first_id or again_id
        if private and outcome.status == "dropped" and outcome.detail.split(" ")[0] in {str(c) for c in WINDOW_CLOSED}:
            return Outcome("refused", detail=outcome.detail)  # the group gets the fallback instead
        # The id of the message showing the reply (its text), for a ❌ on it to find it.
        return Outcome(outcome.status, outcome.retry_after, outcome.detail, first_id if outcome.status == "sent" else "")

    async def _deliver(self, messages: list[dict]) -> tuple[Outcome, int, str]:
        """Send in order until one is not sent: (its outcome, its index, the first message's id);
        all sent: the last index."""
        first_id = ""
        for index, message in enumerate(messages):
            outcome = await self._call(message)
            if outcome.status != "sent":
                return outcome, index, first_id
            first_id = first_id or outcome.message_id
        return SENT, max(len(messages) - 1, 0), first_id

    async def _call(self, message: dict) -> Outcome:
        data = _encode(message)
        tries = {"rate": 0, "other": 0}
        while True:
            outcome = await asyncio.to_thread(self._post, data)
            if outcome.status != "retry":
                return outcome
            kind, waits = ("rate", self._rate_backoff) if "rate limited" in outcome.detail else ("other", self._backoff)
            if tries[kind] >= len(waits):
                return Outcome("retry", retry_after=waits[-1] if waits else 0.0, detail=outcome.detail)
            wait = waits[tries[kind]]
            tries[kind] += 1
            if wait > MAX_INLINE_WAIT:
                return Outcome("retry", retry_after=wait, detail=outcome.detail)
            log.info("whatsapp send: %s, retrying in %.1fs", outcome.detail, wait)
            await asyncio.sleep(wait)

    def _post(self, data: bytes) -> Outcome:
        try:
            response = self._http.request("POST", self._url, body=data, headers=self._headers)
        except urllib3.exceptions.ReadTimeoutError:
            # Meta may well have accepted it and only the answer is late; sending again risks a
            # double reply, the worse failure here. Counted as delivered.
            log.warning("whatsapp send: no answer within the read timeout; not resending")
            return Outcome("sent", detail="read timeout")
        except urllib3.exceptions.HTTPError as exc:
            return Outcome("retry", detail=type(exc).__name__)  # nothing reached Meta
        status = response.status
        if 200 <= status < 300:
            try:
                sent = _decode_sent(response.data).messages
            except (msgspec.DecodeError, msgspec.ValidationError):
                sent = []
            if sent and sent[0].id:
                log.info("whatsapp sent message=%s", sent[0].id[:80])  # a failed status later names it
                return Outcome("sent", message_id=sent[0].id)
            return SENT
        try:
            code = (_decode_failure(response.data).error or _Error()).code
        except (msgspec.DecodeError, msgspec.ValidationError):
            code = 0
        if code in RATE_LIMITED or status == 429:
            return Outcome("retry", detail=f"{code or status} rate limited")  # _call picks the wait
        if status >= 500:
            return Outcome("retry", detail=f"{status} {code}".strip())
        if code in WINDOW_CLOSED:
            return Outcome("dropped", detail=f"{code} not deliverable to this person now")
        return Outcome("dropped", detail=f"{code or status} http={status}")
