"""Shared test parts, all real: a MongoDB-compatible server over TCP (SecantusDB), a fake Telegram
Bot API as an HTTP server on loopback, and the service itself run by uvicorn in a child process."""

from __future__ import annotations

import itertools
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import urllib3

ROOT = Path(__file__).resolve().parent.parent
OUTPUT = ROOT / "tests" / "output"
WEBHOOK_SECRET = "test-webhook-secret_1"
BOT_TOKEN = "123456:TEST-token"
VERIFY_SECRET = "test-verify-secret-0123456789abcdef"

http = urllib3.PoolManager(retries=False, timeout=urllib3.Timeout(connect=2, read=10))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(predicate, timeout: float = 10.0, interval: float = 0.05, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


# ---------------------------------------------------------------- database
@pytest.fixture(scope="session")
def mongo_server():
    import secantus

    server = secantus.SecantusDBServer(storage_path=":memory:", replica_set_name=None, ttl_sweep_seconds=1)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def mongo_uri(mongo_server):
    """A fresh database on the shared server for each test. The earlier tests' databases are
    dropped first (their apps are stopped by then): the server's background TTL sweep walks every
    collection it holds, and hundreds of leftovers would slow every later test's queries."""
    from pymongo import MongoClient

    with MongoClient(f"mongodb://127.0.0.1:{mongo_server.port}/?directConnection=true") as client:
        for name in client.list_database_names():
            if name.startswith("t_"):
                client.drop_database(name)
    return f"mongodb://127.0.0.1:{mongo_server.port}/t_{uuid.uuid4().hex[:12]}?directConnection=true"


@pytest.fixture
def db(mongo_uri):
    from pymongo import MongoClient
    from pymongo.uri_parser import parse_uri

    client = MongoClient(mongo_uri, tz_aware=True)
    yield client[parse_uri(mongo_uri)["database"]]
    client.close()


# ---------------------------------------------------------------- fake Telegram Bot API
class FakeTelegram:
    """Records every Bot API call; answers 200 unless told to fail the next calls.

    Keeps what each chat shows, as Telegram would: sendMessage adds a message (private ones, with
    receiver_user_id, come back with message_id 0 and are kept apart), editMessageText changes one
    ("message is not modified" when the text is the same), deleteMessage removes one. With
    `refuse_private` set, private messages are refused as an old group type would be."""

    def __init__(self):
        self.calls: list[dict] = []
        self.script: list[tuple[int, dict]] = []  # answers for the next calls, in order
        self.delays: list[float] = []  # seconds to wait before answering the next calls
        self.member_status: dict[tuple[str, str], str] = {}  # (chat, user) -> getChatMember status; default "member"
        self.refuse_private = False
        self.shown: dict[tuple[int, int], str] = {}  # (chat, message_id) -> text everyone in the chat sees
        self.private: list[dict] = []  # delivered private messages (sendMessage bodies)
        self.lock = threading.Lock()
        self._message_ids = itertools.count(1000)
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                try:
                    body = json.loads(raw or b"{}")
                except ValueError:
                    body = {"_raw": raw.decode("utf-8", "replace")}
                method = self.path.rsplit("/", 1)[-1]
                with fake.lock:
                    status, answer = fake.script.pop(0) if fake.script else fake._answer(method, body)
                    delay = fake.delays.pop(0) if fake.delays else 0.0
                    fake.calls.append({"method": method, "path": self.path, "body": body, "status": status,
                                       "at": time.monotonic()})
                if delay:
                    time.sleep(delay)
                if answer is None and method == "getMe":
                    answer = {"ok": True, "result": {"id": 123456, "is_bot": True, "username": "fake_ops_bot"}}
                if answer is None and method == "getChatMember":
                    member = fake.member_status.get((str(body.get("chat_id")), str(body.get("user_id"))), "member")
                    answer = {"ok": True, "result": {"status": member, "user": {"id": body.get("user_id"), "is_bot": False}}}
                if answer is None:
                    answer = {"ok": True, "result": {"message_id": next(fake._message_ids)}}
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def _answer(self, method: str, body: dict) -> tuple[int, dict | None]:
        """What Telegram would answer (under the lock); None: the generic answer below."""
        chat, message_id = body.get("chat_id"), body.get("message_id")
        if method == "sendMessage" and "receiver_user_id" in body:
            if self.refuse_private:
                return 400, {"ok": False, "error_code": 400, "description": "Bad Request: ephemeral messages can't be sent here"}
            self.private.append(body)
            return 200, {"ok": True, "result": {"message_id": 0, "ephemeral_message_id": next(self._message_ids),
                                                 "receiver_user": {"id": body["receiver_user_id"]}}}
        if method == "sendMessage":
            message_id = next(self._message_ids)
            self.shown[(chat, message_id)] = body.get("text", "")
            return 200, {"ok": True, "result": {"message_id": message_id, "chat": {"id": chat}}}
        if method == "editMessageText":
            if (chat, message_id) not in self.shown:
                return 400, {"ok": False, "error_code": 400, "description": "Bad Request: message to edit not found"}
            if self.shown[(chat, message_id)] == body.get("text"):
                return 400, {"ok": False, "error_code": 400, "description": "Bad Request: message is not modified"}
            self.shown[(chat, message_id)] = body.get("text", "")
            return 200, {"ok": True, "result": {"message_id": message_id, "chat": {"id": chat}}}
        if method == "deleteMessage":
            if self.shown.pop((chat, message_id), None) is None:
                return 400, {"ok": False, "error_code": 400, "description": "Bad Request: message to delete not found"}
            return 200, {"ok": True, "result": True}
        return 200, None

    def fail_next(self, status: int, answer: dict | None = None, times: int = 1):
        with self.lock:
            self.script.extend([(status, answer or {"ok": False, "error_code": status, "description": "fake"})] * times)

    def sent(self, method: str = "sendMessage", delivered_only: bool = True) -> list[dict]:
        with self.lock:
            return [c["body"] for c in self.calls if c["method"] == method and (not delivered_only or c["status"] == 200)]

    def wait_sent(self, count: int, method: str = "sendMessage", timeout: float = 10.0) -> list[dict]:
        wait_for(lambda: len(self.sent(method)) >= count, timeout, what=f"{count} {method} call(s); got {self.sent(method)}")
        return self.sent(method)

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def telegram_api():
    fake = FakeTelegram()
    yield fake
    fake.close()


# ---------------------------------------------------------------- the service
class AppProcess:
    def __init__(self, env: dict):
        self.env = env
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None
        self.log_path = OUTPUT / f"app-{uuid.uuid4().hex[:8]}.log"

    def start(self, wait: bool = True) -> "AppProcess":
        OUTPUT.mkdir(parents=True, exist_ok=True)
        log = open(self.log_path, "ab")
        self.process = subprocess.Popen(
            [sys.executable, "app.py", "--host", "127.0.0.1", "--port", str(self.port)],
            cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
        )
        if wait:
            wait_for(self._healthy, 20, what=f"the app to answer /health (log: {self.log_path})")
            # Indexes are made in the background after start-up: wait until the worker runs.
            wait_for(lambda: self.get("/ready").status == 200, 20, what="/ready")
        return self

    def _healthy(self) -> bool:
        if self.process.poll() is not None:
            raise AssertionError(f"app exited with {self.process.returncode}: {self.logs()[-2000:]}")
        try:
            return self.get("/health").status == 200
        except urllib3.exceptions.HTTPError:
            return False

    def logs(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def get(self, path: str, **kw):
        return http.request("GET", self.base + path, **kw)

    def post(self, path: str, body=None, headers=None, raw: bytes | None = None):
        data = raw if raw is not None else json.dumps(body).encode()
        return http.request("POST", self.base + path, body=data,
                            headers={"Content-Type": "application/json", **(headers or {})})

    def telegram(self, update: dict, secret: str = WEBHOOK_SECRET):
        return self.post("/hooks/telegram", update, {"X-Telegram-Bot-Api-Secret-Token": secret})

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def kill(self):
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait()


def app_env(mongo_uri: str, telegram_api: FakeTelegram | None = None, **extra) -> dict:
    # A key in the developer's environment must never send test messages to the real provider.
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("TELEGRAM_", "MONGODB_", "TEAM_", "DISCORD_", "TOGETHER_", "MODEL_", "SLACK_", "WHATSAPP_"))}
    env.update(
        MONGODB_URI=mongo_uri,
        VERIFY_TOKEN_SECRET=VERIFY_SECRET,
        PUBLIC_BASE_URL="http://verify.example.test",
        LOG_LEVEL="INFO",
        PYTHONUNBUFFERED="1",
    )
    if telegram_api is not None:
        env.update(
            TELEGRAM_BOT_TOKEN=BOT_TOKEN,
            TELEGRAM_WEBHOOK_SECRET=WEBHOOK_SECRET,
            TELEGRAM_API_BASE=telegram_api.base,
            TELEGRAM_BOT_USERNAME="team_ops_bot",
        )
    env.update({k: str(v) for k, v in extra.items()})
    return env


@pytest.fixture
def start_app():
    """start_app(env) -> a running AppProcess; all are stopped after the test."""
    started: list[AppProcess] = []

    def start(env: dict, wait: bool = True) -> AppProcess:
        app = AppProcess(env)
        started.append(app)
        return app.start(wait)

    yield start
    for app in started:
        app.stop()


@pytest.fixture
def app(start_app, mongo_uri, telegram_api):
    return start_app(app_env(mongo_uri, telegram_api, INBOX_LEASE_SECONDS=2))


# ---------------------------------------------------------------- Telegram updates
_update_ids = itertools.count(int(time.time()) % 100000 * 1000)
_message_ids = itertools.count(1)


def tg_edit(original: dict, text: str, edit_date: int | None = None, update_id: int | None = None) -> dict:
    """An edited_message update for the message in `original` (an update made by tg_message)."""
    message = {**original["message"], "text": text, "edit_date": int(time.time()) if edit_date is None else edit_date}
    return {"update_id": next(_update_ids) if update_id is None else update_id, "edited_message": message}


def tg_message(text: str, user_id: int = 111, chat_id: int = -100500, name: str = "Ana",
               date: int | None = None, update_id: int | None = None, thread_id: int | None = None,
               chat_type: str = "supergroup", is_bot: bool = False, reply_to: dict | None = None) -> dict:
    message = {
        "message_id": next(_message_ids),
        "from": {"id": user_id, "is_bot": is_bot, "first_name": name},
        "chat": {"id": chat_id, "type": chat_type, "title": "Ops Team"},
        "date": int(time.time()) if date is None else date,
        "text": text,
    }
    if thread_id is not None:
        message.update(message_thread_id=thread_id, is_topic_message=True)
    if reply_to is not None:  # another tg_message update: this one answers its message
        message["reply_to_message"] = reply_to["message"]
    return {"update_id": next(_update_ids) if update_id is None else update_id, "message": message}


def tg_press(data: str, user_id: int = 111, chat_id: int = -100500, name: str = "Ana", message_id: int = 1) -> dict:
    return {
        "update_id": next(_update_ids),
        "callback_query": {
            "id": f"cb{next(_update_ids)}",
            "from": {"id": user_id, "is_bot": False, "first_name": name},
            "chat_instance": "1",
            "data": data,
            "message": {"message_id": message_id, "date": int(time.time()), "chat": {"id": chat_id, "type": "supergroup"}},
        },
    }
