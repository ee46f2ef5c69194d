"""A fake Discord REST API on loopback: records every call (method, path, headers, JSON body),
checks the bot token on each, answers like Discord (a Message for message calls, the list for a
command registration, the Gateway's address for GET /gateway/bot) and can be told to answer 429 or
any other status to the next calls."""

from __future__ import annotations

import itertools
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

APPLICATION_ID = "1133887799001122334"
# Shaped like a real one: the bot's id in base64, a stamp, a secret (Gateway libraries read the id from it).
BOT_TOKEN = "MTEzMzg4Nzc5OTAwMTEyMjMzNA.GtEsT0.discord-test-bot-token_XYZ"


class FakeDiscord:
    def __init__(self, bot_token: str = BOT_TOKEN):
        self.bot_token = bot_token
        self.gateway_url = "ws://127.0.0.1:9"  # GET /gateway/bot's answer: point it at a FakeGateway
        self.calls: list[dict] = []
        self.script: list[tuple[int, dict, dict]] = []  # (status, body, headers) for the next calls
        self.lock = threading.Lock()
        self._ids = itertools.count(1263371912345678901)
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def _serve(self):
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                try:
                    body = json.loads(raw) if raw else None
                except ValueError:
                    body = {"_raw": raw.decode("utf-8", "replace")}
                authorized = self.headers.get("Authorization") == f"Bot {fake.bot_token}"
                with fake.lock:
                    if not authorized:
                        status, answer, headers = 401, {"message": "401: Unauthorized", "code": 0}, {}
                    elif fake.script:
                        status, answer, headers = fake.script.pop(0)
                    else:
                        status, answer, headers = 200, None, {}
                    fake.calls.append({"method": self.command, "path": self.path, "body": body, "status": status,
                                       "authorization": self.headers.get("Authorization"),
                                       "user_agent": self.headers.get("User-Agent"), "at": time.monotonic()})
                if answer is None and self.command == "GET" and self.path.split("?")[0].endswith("/gateway/bot"):
                    # Where the Gateway is: a client library asks here before it connects.
                    answer = {"url": fake.gateway_url, "shards": 1,
                              "session_start_limit": {"total": 1000, "remaining": 999, "reset_after": 0,
                                                      "max_concurrency": 1}}
                if answer is None:
                    if self.command == "PUT":
                        answer = [{**c, "id": str(next(fake._ids)), "application_id": APPLICATION_ID} for c in body or []]
                    else:
                        answer = {"id": str(next(fake._ids)), "type": 19 if self.path.startswith("/channels/") else 20,
                                  "content": (body or {}).get("content", ""), "components": (body or {}).get("components", [])}
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)

            do_POST = do_PATCH = do_PUT = do_DELETE = do_GET = _serve

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.server.server_port}/api/v10"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def answer_next(self, status: int, body: dict | None = None, headers: dict | None = None, times: int = 1):
        with self.lock:
            self.script.extend([(status, body or {"message": "fake", "code": 0}, headers or {})] * times)

    def rate_limit_next(self, retry_after: float, is_global: bool = False):
        self.answer_next(429, {"message": "You are being rate limited.", "retry_after": retry_after, "global": is_global},
                         {"Retry-After": str(max(1, round(retry_after))), "X-RateLimit-Remaining": "0",
                          "X-RateLimit-Reset-After": str(retry_after), "X-RateLimit-Scope": "user"})

    def matching(self, method: str, suffix: str = "", delivered_only: bool = True) -> list[dict]:
        with self.lock:
            return [c for c in self.calls if c["method"] == method and c["path"].split("?")[0].endswith(suffix)
                    and (not delivered_only or 200 <= c["status"] < 300)]

    def wait_for(self, method: str, suffix: str = "", count: int = 1, timeout: float = 10.0) -> list[dict]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.matching(method, suffix)
            if len(found) >= count:
                return found
            time.sleep(0.05)
        raise AssertionError(f"timed out waiting for {count} {method} …{suffix}; calls: {self.calls}")

    def close(self):
        self.server.shutdown()
        self.server.server_close()
