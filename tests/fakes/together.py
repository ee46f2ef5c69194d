"""A fake of Together AI's OpenAI-compatible chat completions, a real HTTP server on loopback.

It answers each question (the user message's content) with what the test registered for that
text, else with `default`; `script` overrides the next answers in order: a status to return
(429, 500), a number of seconds to hang before answering, or raw content (garbage JSON). Every
request is recorded whole, headers included, so a test can check what was sent."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class FakeTogether:
    def __init__(self):
        self.calls: list[dict] = []
        self.answers: dict[str, object] = {}  # question -> content (a dict is sent as JSON)
        self.default: object = {"times": []}
        self.script: list[tuple[str, object]] = []  # ("status", 429) | ("hang", 5.0) | ("raw", "not json")
        self.in_flight = 0
        self.lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                question = body["messages"][-1]["content"]
                with fake.lock:
                    step = fake.script.pop(0) if fake.script else ("answer", None)
                    fake.calls.append({"path": self.path, "headers": dict(self.headers), "body": body, "step": step[0]})
                    fake.in_flight += 1
                try:
                    kind, value = step
                    if kind == "hang":
                        time.sleep(value)
                    if kind == "status":
                        self._send(value, {"error": {"message": "fake", "type": "fake"}})
                        return
                    if kind == "raw":
                        content = value
                    else:
                        answer = fake.answers.get(question, fake.default)
                        content = answer if isinstance(answer, str) else json.dumps(answer)
                    self._send(200, {
                        "id": "fake-1", "object": "chat.completion", "created": int(time.time()),
                        "model": body.get("model"),
                        "choices": [{"index": 0, "finish_reason": "stop",
                                     "message": {"role": "assistant", "content": content}}],
                        "usage": {"prompt_tokens": 250, "completion_tokens": 30, "total_tokens": 280},
                    })
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (its timeout): nothing to answer
                finally:
                    with fake.lock:
                        fake.in_flight -= 1

            def _send(self, status: int, payload: dict):
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True  # a hanging answer never holds up the test's end
        self.base = f"http://127.0.0.1:{self.server.server_port}/v1"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def next(self, kind: str, value, times: int = 1) -> None:
        with self.lock:
            self.script.extend([(kind, value)] * times)

    def questions(self) -> list[str]:
        with self.lock:
            return [c["body"]["messages"][-1]["content"] for c in self.calls]

    def close(self):
        self.server.shutdown()
        self.server.server_close()
