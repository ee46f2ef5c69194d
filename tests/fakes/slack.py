"""A fake Slack: the Web API as a real HTTP server on loopback, holding a workspace of members
with profile zones and channels, plus what Slack itself sends (signed events, slash commands,
interactivity payloads).

Every call is checked the way Slack would: the bot token in `Authorization: Bearer`, the HTTP
method, the body's format and required fields, Block Kit limits. A call that breaks a rule is
answered as Slack answers it and recorded in `problems`, which a test expects to stay empty.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlencode, urlsplit

SIGNING_SECRET = "test-slack-signing-secret"
BOT_TOKEN = "xoxb-test-0000-slack-token"
TEAM_ID = "T0TEAM0001"
BOT_USER = "U0BOT00001"

WRITE_METHODS = {  # JSON bodies, POST only, with the fields Slack requires
    "chat.postMessage": ("channel",),
    "chat.postEphemeral": ("channel", "user"),
    "chat.update": ("channel", "ts"),
    "chat.delete": ("channel", "ts"),
}
READ_METHODS = {"users.info", "users.list", "conversations.members", "auth.test"}
DATE_TOKEN = re.compile(r"<!date\^(\d+)\^([^|<>^]+)(?:\^[^|<>]+)?\|([^<>]+)>")


class FakeSlack:
    def __init__(self, token: str = BOT_TOKEN, team_id: str = TEAM_ID, bot_user: str = BOT_USER):
        self.token = token
        self.team_id = team_id
        self.bot_user = bot_user
        self.users: dict[str, dict] = {bot_user: {"id": bot_user, "name": "teamops", "is_bot": True, "tz": None}}
        self.channels: dict[str, list[str]] = {}
        self.calls: list[dict] = []
        self.problems: list[str] = []
        self.script: dict[str, list[tuple[int, dict, dict | None]]] = {}  # method -> next answers
        self.lock = threading.Lock()
        self._ts = itertools.count(1)
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                fake._serve(self, "GET")

            def do_POST(self):
                fake._serve(self, "POST")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.base = f"http://127.0.0.1:{self.server.server_port}"
        self.api_base = f"{self.base}/api"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    # ----- the workspace
    def add_user(self, user_id: str, name: str, tz: str | None, is_bot: bool = False) -> None:
        self.users[user_id] = {"id": user_id, "name": name.lower(), "real_name": name, "is_bot": is_bot, "tz": tz,
                               "tz_label": tz or "", "profile": {"display_name": name, "real_name": name}}

    def add_channel(self, channel_id: str, members: list[str]) -> None:
        self.channels[channel_id] = list(members) + [self.bot_user]

    def response_url(self, name: str) -> str:
        return f"{self.base}/respond/{name}"

    def fail_next(self, method: str, status: int = 429, retry_after: float | None = 1, answer: dict | None = None,
                  times: int = 1) -> None:
        headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
        with self.lock:
            self.script.setdefault(method, []).extend([(status, headers, answer)] * times)

    # ----- what the service sent
    def sent(self, method: str = "chat.postMessage") -> list[dict]:
        with self.lock:
            return [c["body"] for c in self.calls if c["method"] == method and c["status"] == 200 and c.get("ok", True)]

    def wait_sent(self, count: int, method: str = "chat.postMessage", timeout: float = 10.0) -> list[dict]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.sent(method)
            if len(found) >= count:
                return found
            time.sleep(0.05)
        raise AssertionError(f"timed out waiting for {count} {method} call(s); got {self.sent(method)}")

    def posted_ts(self) -> list[str]:
        """The ts of every message chat.postMessage created, in order."""
        with self.lock:
            return [c["answer"]["ts"] for c in self.calls if c["method"] == "chat.postMessage" and c["ok"]]

    def count(self, method: str) -> int:
        with self.lock:
            return sum(1 for c in self.calls if c["method"] == method)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    # ----- serving
    def _serve(self, request: BaseHTTPRequestHandler, http_method: str) -> None:
        url = urlsplit(request.path)
        raw = request.rfile.read(int(request.headers.get("Content-Length") or 0))
        if url.path.startswith("/respond/"):
            self._respond(request, url.path.rsplit("/", 1)[-1], http_method, raw)
            return
        method = url.path.rsplit("/", 1)[-1]
        problem = ""
        if not url.path.startswith("/api/") or method not in WRITE_METHODS and method not in READ_METHODS:
            problem = f"unknown method {url.path}"
        elif request.headers.get("Authorization") != f"Bearer {self.token}":
            problem = f"{method}: no or wrong bot token"
        content_type = request.headers.get("Content-Type", "")
        if method in WRITE_METHODS:
            if http_method != "POST":
                problem = problem or f"{method}: must be POST"
            if content_type != "application/json; charset=utf-8":
                problem = problem or f"{method}: Content-Type {content_type!r}"
            try:
                body = json.loads(raw or b"{}")
            except ValueError:
                body, problem = {}, problem or f"{method}: body is not JSON"
        else:
            body = dict(parse_qsl(url.query))
            if raw:
                body.update(parse_qsl(raw.decode("utf-8", "replace")))
        if not problem and method in WRITE_METHODS:
            problem = self._check_write(method, body)
        with self.lock:
            scripted = self.script.get(method) or []
            status, headers, answer = scripted.pop(0) if scripted else (200, {}, None)
        if problem:
            status, headers, answer = 200, {}, {"ok": False, "error": "invalid_request"}
            if "token" in problem:
                answer = {"ok": False, "error": "invalid_auth"}
        elif answer is None and status == 429:
            answer = {"ok": False, "error": "ratelimited"}
        elif answer is None and status == 200:
            answer = self._answer(method, body)
        with self.lock:
            if problem:
                self.problems.append(problem)
            self.calls.append({"method": method, "http": http_method, "body": body, "status": status,
                               "ok": bool((answer or {}).get("ok", False)), "answer": answer, "at": time.monotonic()})
        self._reply(request, status, headers, answer or {"ok": False, "error": "fake_error"})

    def _check_write(self, method: str, body: dict) -> str:
        missing = [name for name in WRITE_METHODS[method] if not body.get(name)]
        if method != "chat.delete" and not (body.get("text") or body.get("blocks")):
            missing.append("text")
        if missing:
            return f"{method}: missing {', '.join(missing)}"
        if body["channel"] not in self.channels:
            return f"{method}: channel {body['channel']} the bot is not in"
        return check_blocks(body.get("blocks")) or check_text(body.get("text", ""))

    def _answer(self, method: str, body: dict) -> dict:
        if method in ("chat.postMessage", "chat.postEphemeral"):
            ts = f"{int(time.time())}.{next(self._ts):06d}"
            return {"ok": True, "channel": body["channel"], "ts": ts, "message_ts": ts}
        if method in ("chat.update", "chat.delete"):
            return {"ok": True, "channel": body["channel"], "ts": body["ts"]}
        if method == "auth.test":
            return {"ok": True, "team_id": self.team_id, "user_id": self.bot_user, "bot_id": "B0BOT", "team": "Fake"}
        if method == "users.info":
            user = self.users.get(body.get("user", ""))
            return {"ok": True, "user": user} if user else {"ok": False, "error": "user_not_found"}
        if method == "users.list":
            return self._page(list(self.users.values()), body)
        if method == "conversations.members":
            members = self.channels.get(body.get("channel", ""))
            if members is None:
                return {"ok": False, "error": "channel_not_found"}
            page = self._page(members, body)
            return {"ok": True, "members": page["members"], "response_metadata": page["response_metadata"]}
        return {"ok": False, "error": "unknown_method"}

    @staticmethod
    def _page(items: list, body: dict) -> dict:
        start = int(body.get("cursor") or 0)
        limit = int(body.get("limit") or 100)
        rest = start + limit
        return {"ok": True, "members": items[start:rest],
                "response_metadata": {"next_cursor": str(rest) if rest < len(items) else ""}}

    def _respond(self, request, name: str, http_method: str, raw: bytes) -> None:
        problem = ""
        if http_method != "POST":
            problem = "response_url: must be POST"
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            body, problem = {}, problem or "response_url: body is not JSON"
        if not problem and not (body.get("text") or body.get("blocks") or body.get("delete_original")):
            problem = "response_url: nothing to show"
        problem = problem or check_blocks(body.get("blocks")) or check_text(body.get("text", ""))
        with self.lock:
            scripted = self.script.get("response_url") or []
            status, headers, _ = scripted.pop(0) if scripted else (200, {}, None)
            if problem:
                self.problems.append(problem)
            self.calls.append({"method": "response_url", "http": http_method, "body": body, "status": status,
                               "ok": not problem, "name": name, "at": time.monotonic()})
        data = b"ok" if status == 200 else b"error"
        request.send_response(status)
        for key, value in headers.items():
            request.send_header(key, value)
        request.send_header("Content-Type", "text/plain")
        request.send_header("Content-Length", str(len(data)))
        request.end_headers()
        request.wfile.write(data)

    @staticmethod
    def _reply(request, status: int, headers: dict, answer: dict) -> None:
        data = json.dumps(answer).encode()
        request.send_response(status)
        for key, value in headers.items():
            request.send_header(key, value)
        request.send_header("Content-Type", "application/json")
        request.send_header("Content-Length", str(len(data)))
        request.end_headers()
        request.wfile.write(data)


def check_text(text: str) -> str:
    """mrkdwn rules a reply must keep: only Slack's own tokens inside <…>, no stray & escapes."""
    for token in re.findall(r"<[^>]*>?", text):
        if not token.endswith(">") or not (token.startswith("<!date^") and DATE_TOKEN.fullmatch(token)):
            return f"text holds a raw <…> that is not a date token: {token[:40]!r}"
    if re.search(r"&(?!amp;|lt;|gt;)", text):
        return "text holds an unescaped &"
    return ""


def check_blocks(blocks) -> str:
    if blocks is None:
        return ""
    if not isinstance(blocks, list) or len(blocks) > 50:
        return "blocks: not a list of at most 50"
    for block in blocks:
        if block.get("type") == "section":
            text = (block.get("text") or {}).get("text", "")
            if not 0 < len(text) <= 3000:
                return "section text empty or over 3000"
            problem = check_text(text)
            if problem:
                return problem
        elif block.get("type") == "actions":
            elements = block.get("elements") or []
            ids = [e.get("action_id") for e in elements]
            if not elements or len(elements) > 25 or len(set(ids)) != len(ids):
                return "actions: 1-25 elements with distinct action_ids"
            for element in elements:
                label = (element.get("text") or {}).get("text", "")
                if element.get("type") != "button" or not 0 < len(label) <= 75:
                    return "button: type or text"
                if len(element.get("value", "")) > 2000 or len(element.get("url", "")) > 3000:
                    return "button: value or url too long"
                if not (element.get("url") or element.get("value")):
                    return "button: neither url nor value"
        else:
            return f"unexpected block type {block.get('type')}"
    return ""


# ----------------------------------------------------------------------------- Slack's side
_event_ids = itertools.count(int(time.time()) % 100000 * 1000)
_ts = itertools.count(1)


def signed_headers(body: bytes, secret: str = SIGNING_SECRET, timestamp: int | None = None,
                   content_type: str = "application/json") -> dict:
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    digest = hmac.new(secret.encode(), b"v0:" + stamp.encode() + b":" + body, hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": f"v0={digest}", "Content-Type": content_type}


def new_ts() -> str:
    return f"{int(time.time())}.{next(_ts):06d}"


def envelope(event: dict, team_id: str = TEAM_ID, event_id: str | None = None) -> dict:
    return {"token": "legacy", "team_id": team_id, "api_app_id": "A0APP", "type": "event_callback",
            "event_id": event_id or f"Ev{next(_event_ids)}", "event_time": int(time.time()), "event": event,
            "authorizations": [{"team_id": team_id, "user_id": BOT_USER, "is_bot": True}]}


def message(text: str, user: str, channel: str, ts: str | None = None, thread_ts: str | None = None,
            name: str | None = None, **extra) -> dict:
    event = {"type": "message", "channel": channel, "user": user, "text": text, "ts": ts or new_ts(),
             "channel_type": "channel", "team": TEAM_ID, **extra}
    if thread_ts:
        event["thread_ts"] = thread_ts
    if name:
        event["user_profile"] = {"display_name": name, "real_name": name}
    return event


def edit(original: dict, text: str) -> dict:
    changed = dict(original, text=text, edited={"user": original["user"], "ts": new_ts()})
    return {"type": "message", "subtype": "message_changed", "channel": original["channel"], "hidden": True,
            "ts": new_ts(), "message": changed, "previous_message": original, "channel_type": "channel"}


def command_form(command: str, text: str, user: str, channel: str, response_url: str, name: str = "ana",
                 team_id: str = TEAM_ID) -> bytes:
    return urlencode({
        "token": "legacy", "team_id": team_id, "team_domain": "fake", "channel_id": channel, "channel_name": "general",
        "user_id": user, "user_name": name, "command": command, "text": text, "api_app_id": "A0APP",
        "is_enterprise_install": "false", "response_url": response_url, "trigger_id": f"{next(_event_ids)}.1.x",
    }).encode()


def press_form(value: str, action_id: str, user: str, channel: str, response_url: str, message_ts: str = "",
               name: str = "ana") -> bytes:
    payload = {
        "type": "block_actions", "user": {"id": user, "username": name, "name": name, "team_id": TEAM_ID},
        "api_app_id": "A0APP", "token": "legacy", "trigger_id": f"{next(_event_ids)}.2.x",
        "container": {"type": "message", "message_ts": message_ts or new_ts(), "channel_id": channel, "is_ephemeral": False},
        "team": {"id": TEAM_ID, "domain": "fake"}, "channel": {"id": channel, "name": "general"},
        "response_url": response_url,
        "actions": [{"action_id": action_id, "block_id": "row-0", "value": value, "type": "button",
                     "text": {"type": "plain_text", "text": "x"}, "action_ts": new_ts()}],
    }
    return urlencode({"payload": json.dumps(payload)}).encode()


def shortcut_form(target: dict, user: str, response_url: str, name: str = "ana") -> bytes:
    payload = {
        "type": "message_action", "callback_id": "convert_for_me", "trigger_id": f"{next(_event_ids)}.3.x",
        "user": {"id": user, "name": name, "username": name, "team_id": TEAM_ID},
        "team": {"id": TEAM_ID, "domain": "fake"}, "channel": {"id": target["channel"], "name": "general"},
        "message_ts": target["ts"], "response_url": response_url, "token": "legacy",
        "message": {"type": "message", "user": target["user"], "text": target["text"], "ts": target["ts"],
                    **({"thread_ts": target["thread_ts"]} if target.get("thread_ts") else {})},
    }
    return urlencode({"payload": json.dumps(payload)}).encode()
