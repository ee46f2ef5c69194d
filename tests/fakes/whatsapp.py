"""A fake WhatsApp Cloud API: the Graph API's /{version}/{phone number id}/messages as a real HTTP
server on loopback, plus what Meta itself sends (signed webhook notifications).

Every send is checked the way the Cloud API would: POST, the path with its version and number id,
`Authorization: Bearer` with our token, and the body's shape (text ≤ 4,096 characters; reply
buttons ≤ 3 with ids ≤ 256 and distinct titles ≤ 20; one CTA URL with display text ≤ 20; no
interactive message to a group; `to` or `recipient`). A send that breaks a rule is answered with
the Graph error envelope and recorded in `problems`, which a test expects to stay empty. The
next answers can be scripted to be any of the Cloud API's error codes.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

APP_SECRET = "test-whatsapp-app-secret"
VERIFY_TOKEN = "test-verify-token-T"
ACCESS_TOKEN = "EAAtest-permanent-access-token-0000"
PHONE_NUMBER_ID = "106540352242922"
BUSINESS_NUMBER = "15550783881"
WABA_ID = "102290129340398"
VERSION = "v26.0"

ERRORS = {  # code -> (HTTP status, title), as the Cloud API answers them
    130429: (400, "Rate limit hit"),
    131056: (400, "(Business Account, Consumer Account) pair rate limit hit"),
    131057: (400, "Account in maintenance mode"),
    131047: (400, "Re-engagement message"),
    131062: (400, "Business-scoped user ID recipients not supported"),
    131026: (400, "Message undeliverable"),
    100: (400, "Invalid parameter"),
    190: (401, "Invalid OAuth access token"),
    131000: (500, "Something went wrong"),
}


def error_answer(code: int) -> tuple[int, dict]:
    status, title = ERRORS.get(code, (400, "error"))
    return status, {"error": {"message": title, "type": "OAuthException", "code": code,
                              "error_data": {"messaging_product": "whatsapp", "details": title},
                              "fbtrace_id": "AbCdEf"}}


class FakeWhatsApp:
    def __init__(self, token: str = ACCESS_TOKEN, phone_number_id: str = PHONE_NUMBER_ID, version: str = VERSION):
        self.token = token
        self.path = f"/{version}/{phone_number_id}/messages"
        self.calls: list[dict] = []
        self.problems: list[str] = []
        self.script: list[tuple[int, str]] = []  # (error code, message type or "") for the next sends
        self.lock = threading.Lock()
        self._ids = itertools.count(1)
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                fake._serve(self, "POST")

            def do_GET(self):
                fake._serve(self, "GET")

            def do_PUT(self):
                fake._serve(self, "PUT")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.base = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def fail_next(self, code: int, times: int = 1, kind: str = "") -> None:
        """Answer the next sends (with `kind`, the next sends of that message type) with `code`."""
        with self.lock:
            self.script.extend([(code, kind)] * times)

    def _serve(self, request, method: str) -> None:
        length = int(request.headers.get("Content-Length") or 0)
        raw = request.rfile.read(length)
        with self.lock:
            problems = self._check(request, method, raw)
            body = _json(raw)
            if problems:
                self.problems.extend(problems)
                status, answer = error_answer(100)
            elif self.script and self.script[0][1] in ("", (body or {}).get("type")):
                status, answer = error_answer(self.script.pop(0)[0])
            else:
                status, answer = 200, self._accepted(body)
            self.calls.append({"method": method, "path": request.path, "body": body, "status": status,
                               "answer": answer, "at": time.monotonic()})
        data = json.dumps(answer).encode()
        request.send_response(status)
        request.send_header("Content-Type", "application/json")
        request.send_header("Content-Length", str(len(data)))
        request.end_headers()
        request.wfile.write(data)

    def _accepted(self, body: dict) -> dict:
        wamid = f"wamid.OUT{next(self._ids):06d}"
        who = body.get("to") or body.get("recipient", "")
        contact = {"input": who, "wa_id": who} if body.get("to") else {"input": who, "user_id": who}
        return {"messaging_product": "whatsapp", "contacts": [contact],
                "messages": [{"id": wamid, "message_status": "accepted"}]}

    def _check(self, request, method: str, raw: bytes) -> list[str]:
        problems = []
        if method != "POST":
            problems.append(f"{method} {request.path}: sends are POST")
        if request.path != self.path:
            problems.append(f"path {request.path}, expected {self.path}")
        if request.headers.get("Authorization") != f"Bearer {self.token}":
            problems.append("missing or wrong bearer token")
        if not (request.headers.get("Content-Type") or "").startswith("application/json"):
            problems.append("body is not JSON")
        body = _json(raw)
        if not isinstance(body, dict):
            return problems + ["body is not a JSON object"]
        return problems + shape_problems(body)

    def sent(self, delivered_only: bool = True) -> list[dict]:
        with self.lock:
            return [c["body"] for c in self.calls if not delivered_only or c["status"] == 200]

    def wait_sent(self, count: int, timeout: float = 10.0) -> list[dict]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            sent = self.sent()
            if len(sent) >= count:
                return sent
            time.sleep(0.05)
        raise AssertionError(f"timed out waiting for {count} send(s); got {self.sent(False)}")

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def shape_problems(body: dict) -> list[str]:
    """What the Cloud API would refuse in a send's body."""
    problems = []
    if body.get("messaging_product") != "whatsapp":
        problems.append("messaging_product must be whatsapp")
    kind = body.get("recipient_type", "individual")
    if kind == "group":
        if not body.get("to") or "recipient" in body:
            problems.append("a group is addressed by to=<group id>")
        if body.get("type") != "text":
            problems.append(f"groups take no {body.get('type')} messages")
    elif kind == "individual":
        if not (body.get("to") or body.get("recipient")):
            problems.append("no to and no recipient")
        if body.get("to") and not str(body["to"]).isdigit():
            problems.append(f"to is not a phone number: {body['to']}")
        if body.get("recipient") and "." not in str(body["recipient"]):
            problems.append(f"recipient is not a business-scoped id: {body['recipient']}")
    else:
        problems.append(f"recipient_type {kind}")
    context = body.get("context")
    if context is not None and not (isinstance(context, dict) and str(context.get("message_id", "")).startswith("wamid.")):
        problems.append(f"context {context}")
    if body.get("type") == "text":
        text = (body.get("text") or {}).get("body")
        if not isinstance(text, str) or not text.strip() or len(text) > 4096:
            problems.append(f"text body of {len(text or '')} characters")
    elif body.get("type") == "interactive":
        problems.extend(_interactive_problems(body.get("interactive") or {}))
    else:
        problems.append(f"type {body.get('type')}")
    return problems


def _interactive_problems(interactive: dict) -> list[str]:
    problems = []
    text = (interactive.get("body") or {}).get("text")
    if not isinstance(text, str) or not text.strip() or len(text) > 1024:
        problems.append(f"interactive body of {len(text or '')} characters")
    action = interactive.get("action") or {}
    if interactive.get("type") == "button":
        buttons = action.get("buttons") or []
        if not 1 <= len(buttons) <= 3:
            problems.append(f"{len(buttons)} reply buttons")
        titles = [((b.get("reply") or {}).get("title") or "") for b in buttons]
        if len(set(titles)) != len(titles):
            problems.append(f"reply button titles repeat: {titles}")
        for button in buttons:
            reply = button.get("reply") or {}
            if button.get("type") != "reply" or not reply.get("id") or len(reply["id"]) > 256:
                problems.append(f"reply button {button}")
            if not reply.get("title") or len(reply["title"]) > 20 or "*" in reply["title"]:
                problems.append(f"reply button title {reply.get('title')!r}")
    elif interactive.get("type") == "cta_url":
        parameters = action.get("parameters") or {}
        if action.get("name") != "cta_url":
            problems.append("cta_url action without name cta_url")
        if not parameters.get("display_text") or len(parameters["display_text"]) > 20:
            problems.append(f"cta display_text {parameters.get('display_text')!r}")
        if not str(parameters.get("url", "")).startswith(("https://", "http://")):
            problems.append(f"cta url {parameters.get('url')!r}")
    else:
        problems.append(f"interactive type {interactive.get('type')}")
    return problems


def _json(raw: bytes):
    try:
        return json.loads(raw or b"{}")
    except ValueError:
        return None


# ----------------------------------------------------------------------------- what Meta sends
def signature(body: bytes, secret: str = APP_SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


_wamids = itertools.count(int(time.time()) % 100000 * 1000)


def wamid() -> str:
    return f"wamid.IN{next(_wamids)}"


def contact(name: str = "Sheena Nelson", phone: str | None = "16505551234",
            bsuid: str | None = "US.13491208655302741918") -> dict:
    entry: dict = {"profile": {"name": name}}
    if phone:
        entry["wa_id"] = phone
    if bsuid:
        entry["user_id"] = bsuid
    return entry


def text_message(body: str, phone: str | None = "16505551234", bsuid: str | None = "US.13491208655302741918",
                 group: str = "", message_id: str = "", sent_at: int | None = None) -> dict:
    message: dict = {"id": message_id or wamid(), "timestamp": str(int(time.time()) if sent_at is None else sent_at),
                     "type": "text", "text": {"body": body}}
    if phone:
        message["from"] = phone
    if bsuid:
        message["from_user_id"] = bsuid
    if group:
        message["group_id"] = group
    return message


def tap(button_id: str, title: str, buttons_message: str = "wamid.OUT000001", phone: str | None = "16505551234",
        bsuid: str | None = "US.13491208655302741918") -> dict:
    message = text_message("", phone, bsuid)
    del message["text"]
    message.update(type="interactive", context={"from": BUSINESS_NUMBER, "id": buttons_message},
                   interactive={"type": "button_reply", "button_reply": {"id": button_id, "title": title}})
    return message


def status(message_id: str, state: str = "delivered", code: int | None = None) -> dict:
    entry: dict = {"id": message_id, "status": state, "timestamp": str(int(time.time())), "recipient_id": "16505551234"}
    if code is not None:
        entry["errors"] = [{"code": code, "title": ERRORS.get(code, (400, "error"))[1]}]
    return entry


def notification(*values: dict) -> dict:
    """One notification: each value one change of one entry (Meta may batch several)."""
    return {"object": "whatsapp_business_account",
            "entry": [{"id": WABA_ID, "changes": [{"field": "messages", "value": value} for value in values]}]}


def value(messages=(), contacts=(), statuses=(), phone_number_id: str = PHONE_NUMBER_ID) -> dict:
    found: dict = {"messaging_product": "whatsapp",
                   "metadata": {"display_phone_number": BUSINESS_NUMBER, "phone_number_id": phone_number_id}}
    if contacts:
        found["contacts"] = list(contacts)
    if messages:
        found["messages"] = list(messages)
    if statuses:
        found["statuses"] = list(statuses)
    return found
