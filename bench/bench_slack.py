"""Slack webhook benchmark, beside Telegram's in the same run, from the repo root:

    .venv/bin/python bench/bench_slack.py [--seconds 10] [--connections 32] [--rounds 3]

wrk POSTs to the app (MONGODB_URI set, LOG_LEVEL=WARNING) and to the bare endpoint
(bench/bare_app.py, app.py's uvicorn settings), all measured in this run:
  no time    rounds of bare / Telegram / Slack, alternating, against one app process serving both
             webhooks: a message without a time (no database call); each webhook against the bare
             run just before it, and Slack against Telegram.
  with time  Telegram, then Slack, each against a fresh app process on a database of its own (so
             neither meets the other's backlog): a message with a time (one inbox write each), a
             new update_id / message ts on every request; each against the bare endpoint and Slack
             against Telegram; the inbox must grow by what wrk counted.
Goals are bench_service.py's (no time >= 70 % of bare, with time >= 25 %).
Every Slack request is signed as Slack signs it (v0 HMAC-SHA256, computed in wrk's Lua): for
each request of a with-time run (each needs its own message ts), once per no-time run (the same
signed request again and again: never stored, it costs the service what a new one would, and
wrk's ~30 us of Lua per signature stays off the CPUs the service is measured on).
Needs `wrk` (apt-get install -y wrk) and secantusd-py; everything started here stops on exit.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_service import (  # the shared process, wrk and database helpers
    GOAL_NO_TIME_RATIO,
    GOAL_WITH_TIME_RATIO,
    HOST,
    NO_TIME_TEXT,
    PYTHON,
    ROOT,
    WITH_TIME_TEXT,
    Processes,
    WrkResult,
    cpu_seconds,
    free_port,
    inbox_counts,
    wait_for,
    wait_tcp,
)

TELEGRAM_SECRET = "bench-webhook-secret"
SLACK_SECRET = "bench-slack-signing-secret"
SLACK_TOKEN = "xoxb-bench-token"

SHA256_LUA = r"""
local bit = require("bit")
local band, bor, bxor, bnot, rshift, lshift, ror, tobit =
  bit.band, bit.bor, bit.bxor, bit.bnot, bit.rshift, bit.lshift, bit.ror, bit.tobit
local K = {
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
}
local w = {}
local function be32(v)
  return string.char(band(rshift(v, 24), 255), band(rshift(v, 16), 255), band(rshift(v, 8), 255), band(v, 255))
end
local function sha256(msg)
  local len = #msg
  msg = msg .. "\128" .. string.rep("\0", (55 - len) % 64) .. "\0\0\0\0" .. be32(len * 8)
  local h0, h1, h2, h3, h4, h5, h6, h7 =
    0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19
  for chunk = 1, #msg, 64 do
    for i = 0, 15 do
      local a, b, c, d = msg:byte(chunk + i * 4, chunk + i * 4 + 3)
      w[i] = bor(lshift(a, 24), lshift(b, 16), lshift(c, 8), d)
    end
    for i = 16, 63 do
      local x, y = w[i - 15], w[i - 2]
      w[i] = tobit(w[i - 16] + bxor(ror(x, 7), ror(x, 18), rshift(x, 3)) + w[i - 7]
                   + bxor(ror(y, 17), ror(y, 19), rshift(y, 10)))
    end
    local a, b, c, d, e, f, g, h = h0, h1, h2, h3, h4, h5, h6, h7
    for i = 0, 63 do
      local t1 = tobit(h + bxor(ror(e, 6), ror(e, 11), ror(e, 25)) + bxor(band(e, f), band(bnot(e), g)) + K[i + 1] + w[i])
      local t2 = tobit(bxor(ror(a, 2), ror(a, 13), ror(a, 22)) + bxor(band(a, b), band(a, c), band(b, c)))
      h, g, f, e, d, c, b, a = g, f, e, tobit(d + t1), c, b, a, tobit(t1 + t2)
    end
    h0, h1, h2, h3 = tobit(h0 + a), tobit(h1 + b), tobit(h2 + c), tobit(h3 + d)
    h4, h5, h6, h7 = tobit(h4 + e), tobit(h5 + f), tobit(h6 + g), tobit(h7 + h)
  end
  return be32(h0) .. be32(h1) .. be32(h2) .. be32(h3) .. be32(h4) .. be32(h5) .. be32(h6) .. be32(h7)
end
local ipad, opad
local function hmac_key(key)
  key = key .. string.rep("\0", 64 - #key)
  ipad = key:gsub(".", function(ch) return string.char(bxor(ch:byte(), 0x36)) end)
  opad = key:gsub(".", function(ch) return string.char(bxor(ch:byte(), 0x5c)) end)
end
local function hmac_hex(msg)
  return (sha256(opad .. sha256(ipad .. msg)):gsub(".", function(ch) return string.format("%02x", ch:byte()) end))
end
"""

# One script for every load. args: path platform secret text base threads fresh. A new id on
# every request (base + counter * threads + thread index), so no with-time request is a
# duplicate. `fresh` "0": one signed Slack request made at the start and sent again and again (a
# message without a time is never stored, so repeats cost the service what new ones would), which
# keeps wrk's own HMAC work off the two CPUs the service is measured on.
WRK_SCRIPT = SHA256_LUA + r"""
local path, platform, secret, text, base, fresh = "/", "", "", "", 0, true
local counter, threads = 0, 1
local next_index = 0
local prepared = nil
index = 0  -- a global: setup() sets it in each thread's own Lua state

function setup(thread)
  thread:set("index", next_index)
  next_index = next_index + 1
end

function init(args)
  path, platform, secret, text, base = args[1], args[2], args[3], args[4], tonumber(args[5])
  threads = tonumber(args[6])
  fresh = args[7] ~= "0"
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
  if platform == "telegram" then wrk.headers["X-Telegram-Bot-Api-Secret-Token"] = secret end
  if platform == "slack" then hmac_key(secret) end
end

function request()
  counter = counter + 1
  local id = base + counter * threads + index
  local body
  if platform == "slack" then
    if prepared and not fresh then return prepared end
    local now = os.time()
    body = string.format(
      '{"token":"x","team_id":"T0BENCH","api_app_id":"A0BENCH","type":"event_callback",' ..
      '"event_id":"Ev%d","event_time":%d,"event":{"type":"message","channel":"C0BENCH","user":"U0ANA",' ..
      '"text":"%s","ts":"%d.%d","channel_type":"channel","team":"T0BENCH",' ..
      '"user_profile":{"display_name":"Ana","real_name":"Ana"}}}',
      id, now, text, now, id)
    local stamp = tostring(now)
    prepared = wrk.format(nil, path, {["X-Slack-Request-Timestamp"] = stamp,
                                      ["X-Slack-Signature"] = "v0=" .. hmac_hex("v0:" .. stamp .. ":" .. body)}, body)
    return prepared
  end
  body = string.format(
    '{"update_id":%d,"message":{"message_id":%d,"date":%d,' ..
    '"chat":{"id":-100500,"type":"supergroup"},"from":{"id":111,"is_bot":false,"first_name":"Ana"},' ..
    '"text":"%s"}}',
    id, counter, os.time(), text)
  return wrk.format(nil, path, nil, body)
end
"""


class FakeApis:
    """Telegram's Bot API and Slack's Web API on one loopback port, every call counted."""

    def __init__(self):
        counts = self.counts = {"telegram": 0, "slack": 0}
        lock = threading.Lock()
        answers = {
            "auth.test": {"ok": True, "team_id": "T0BENCH", "user_id": "U0BOT"},
            "users.info": {"ok": True, "user": {"id": "U0ANA", "name": "ana", "tz": "Europe/Berlin",
                                                "profile": {"display_name": "Ana"}}},
            "conversations.members": {"ok": True, "members": ["U0ANA"], "response_metadata": {"next_cursor": ""}},
        }

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                method = self.path.partition("?")[0].rsplit("/", 1)[-1]
                platform = "slack" if self.path.startswith("/api/") else "telegram"
                with lock:
                    counts[platform] += 1
                answer = answers.get(method, {"ok": True, "ts": "1.1", "result": {}})
                body = json.dumps(answer).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer((HOST, 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


class Wrk:
    def __init__(self, script: Path, threads: int, connections: int):
        self.script = script
        self.threads = threads
        self.connections = connections
        self.next_base = int(time.time()) * 1000  # ids never seen by this database before

    def run(self, port: int, path: str, platform: str, secret: str, text: str, seconds: float,
            pids: tuple[int, ...] = ()) -> WrkResult:
        base, self.next_base = self.next_base, self.next_base + 100_000_000
        fresh = "0" if text == NO_TIME_TEXT else "1"
        argv = ["wrk", f"-t{self.threads}", f"-c{self.connections}", f"-d{max(1, round(seconds))}s", "--latency",
                "--timeout", "5s", "-s", str(self.script), f"http://{HOST}:{port}",
                "--", path, platform, secret, text, str(base), str(self.threads), fresh]
        cpu_before = [cpu_seconds(pid) for pid in pids]
        done = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + 60, cwd=ROOT)
        cpu_after = [cpu_seconds(pid) for pid in pids]
        if done.returncode != 0:
            raise RuntimeError(f"wrk failed ({done.returncode}): {done.stderr.strip() or done.stdout.strip()}")
        result = WrkResult(done.stdout)
        result.cpu_us = [(after - before) * 1e6 / max(result.requests, 1) for before, after in zip(cpu_before, cpu_after, strict=True)]
        return result


HOOKS = {"telegram": ("/hooks/telegram", TELEGRAM_SECRET), "slack": ("/hooks/slack/events", SLACK_SECRET)}


def app_env(mongodb_uri: str, api_port: int, work: Path) -> dict:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("TELEGRAM_", "SLACK_", "MONGODB_", "TEAM_")) and k != "PYTHONDONTWRITEBYTECODE"}
    env.update(
        MONGODB_URI=mongodb_uri,
        VERIFY_TOKEN_SECRET="bench-verify-token-secret-0123456789",
        TELEGRAM_BOT_TOKEN="123456:bench-token",
        TELEGRAM_WEBHOOK_SECRET=TELEGRAM_SECRET,
        TELEGRAM_API_BASE=f"http://{HOST}:{api_port}",
        TELEGRAM_BOT_USERNAME="bench_bot",
        SLACK_SIGNING_SECRET=SLACK_SECRET,
        SLACK_BOT_TOKEN=SLACK_TOKEN,
        SLACK_API_BASE=f"http://{HOST}:{api_port}/api",
        TEAM_TIMEZONES="Asia/Tokyo,America/New_York",
        LOG_LEVEL="WARNING",
        PYTHONUNBUFFERED="1",
        PYTHONPYCACHEPREFIX=str(work / "pycache"),
    )
    return env


def give_telegram_writer_a_zone(mongodb_uri: str) -> None:
    """Slack's writer has a profile zone, so each of its messages gets a reply: Telegram's writer
    gets a zone too, so both workers do the same work behind the webhook."""
    from pymongo import MongoClient

    client = MongoClient(mongodb_uri, serverSelectionTimeoutMS=5000)
    try:
        client.get_default_database().users.update_one(
            {"platform": "telegram", "user_id": "111"}, {"$set": {"tz": "Europe/Berlin", "source": "command"}}, upsert=True)
    finally:
        client.close()


def start_app(procs: Processes, env: dict, name: str):
    port = free_port()
    app = procs.start(name, [PYTHON, "app.py", "--host", HOST, "--port", str(port)], env)
    ready = lambda status, body: status == 200 and b'"mongodb":true' in body.replace(b" ", b"")  # noqa: E731
    wait_for(port, "GET", "/ready", app, time.perf_counter(), ready, timeout=30, interval=0.01)
    time.sleep(0.5)  # let the start-up index creation finish
    return app, port


def load_runs(procs: Processes, env: dict, wrk: Wrk, db_uri, args) -> dict:
    """No-time rounds against one app process serving both webhooks; then each with-time run
    against a fresh app process on a database of its own, so neither meets the other's backlog."""
    out: dict = {"bare": [], "telegram": [], "slack": [], "with_time": {}, "inbox": {}}
    bare_port = free_port()
    bare = procs.start("bare-load", [PYTHON, "bench/bare_app.py", "--host", HOST, "--port", str(bare_port)])
    app, app_port = start_app(procs, {**env, "MONGODB_URI": db_uri("no_time")}, "app-no-time")
    try:
        wait_for(bare_port, "POST", "/", bare, time.perf_counter(), lambda status, body: status == 200)
        wrk.run(bare_port, "/", "", "", NO_TIME_TEXT, args.warmup)
        for platform, (path, secret) in HOOKS.items():
            wrk.run(app_port, path, platform, secret, NO_TIME_TEXT, args.warmup)
        for _ in range(args.rounds):
            out["bare"].append(wrk.run(bare_port, "/", "", "", NO_TIME_TEXT, args.seconds, (bare.pid,)))
            for platform, (path, secret) in HOOKS.items():
                out[platform].append(wrk.run(app_port, path, platform, secret, NO_TIME_TEXT, args.seconds, (app.pid,)))
    finally:
        procs.stop(app)
        procs.stop(bare)
    for platform, (path, secret) in HOOKS.items():
        uri = db_uri(f"with_time_{platform}")
        give_telegram_writer_a_zone(uri)
        app, app_port = start_app(procs, {**env, "MONGODB_URI": uri}, f"app-{platform}")
        try:
            wrk.run(app_port, path, platform, secret, WITH_TIME_TEXT, args.warmup)
            time.sleep(0.5)  # requests in flight when the warm-up stopped
            before = inbox_counts(uri)["total"]
            out["with_time"][platform] = wrk.run(app_port, path, platform, secret, WITH_TIME_TEXT, args.seconds, (app.pid,))
            time.sleep(0.5)
            out["inbox"][platform] = inbox_counts(uri)["total"] - before
        finally:
            procs.stop(app)
    return out


def report(args, load: dict, calls: dict) -> bool:
    median = statistics.median
    bare_rps = median([r.rps for r in load["bare"]])
    rows = []
    for platform in HOOKS:
        rps = median([r.rps for r in load[platform]])
        ratio = median([n.rps / b.rps for b, n in zip(load["bare"], load[platform], strict=True)])
        cpu = median([r.cpu_us[0] for r in load[platform]])
        rows.append((f"{platform} webhook, no time", f"{rps:,.0f} req/s", f"bare {bare_rps:,.0f} req/s",
                     f"{ratio:.0%} of bare", f">= {GOAL_NO_TIME_RATIO:.0%}  {'ok' if ratio >= GOAL_NO_TIME_RATIO else 'MISSED'}",
                     f"{cpu:.0f} us"))
    pair = median([s.rps / t.rps for t, s in zip(load["telegram"], load["slack"], strict=True)])
    rows.append(("  slack / telegram, no time", "", "", f"{pair:.0%}", "", ""))
    for platform in HOOKS:
        run = load["with_time"][platform]
        ratio = run.rps / bare_rps
        rows.append((f"{platform} webhook, with time", f"{run.rps:,.0f} req/s", f"bare {bare_rps:,.0f} req/s",
                     f"{ratio:.0%} of bare",
                     f">= {GOAL_WITH_TIME_RATIO:.0%}  {'ok' if ratio >= GOAL_WITH_TIME_RATIO else 'MISSED'}",
                     f"{run.cpu_us[0]:.0f} us"))
    slack_with, telegram_with = load["with_time"]["slack"], load["with_time"]["telegram"]
    rows.append(("  slack / telegram, with time", "", "", f"{slack_with.rps / telegram_with.rps:.0%}", "", ""))
    header = ("what", "measured", "baseline", "ratio", "goal", "server CPU/req")
    widths = [max(len(row[i]) for row in rows + [header]) for i in range(len(header))]
    line = lambda cells: "  ".join(cell.ljust(width) for cell, width in zip(cells, widths, strict=True)).rstrip()  # noqa: E731
    print()
    print(f"Slack and Telegram webhooks, one app process: {os.cpu_count()} CPUs, wrk -t{args.threads} "
          f"-c{args.connections} -d{args.seconds:g}s, {args.rounds} bare/telegram/slack no-time rounds, then one "
          f"with-time run each (median ratios of each run against the bare run just before it)")
    print(line(header))
    print(line(tuple("-" * w for w in widths)))
    for row in rows:
        print(line(row))
    print()
    runs = [(f"bare {n + 1}", r) for n, r in enumerate(load["bare"])]
    for platform in HOOKS:
        runs += [(f"{platform} {n + 1}", r) for n, r in enumerate(load[platform])]
        runs.append((f"{platform} +time", load["with_time"][platform]))
    print("wrk runs          req/s   requests  non-2xx  socket errors  mean latency")
    for label, r in runs:
        print(f"  {label:<14} {r.rps:>7,.0f}  {r.requests:>9,}  {r.non_2xx:>7}  {r.socket_errors:>13}  {r.latency_ms:>9.2f} ms")
    sane = all(r.non_2xx == 0 and r.socket_errors == 0 for _, r in runs)
    for platform in HOOKS:
        added, requests = load["inbox"][platform], load["with_time"][platform].requests
        counted = 0 <= added - requests <= args.connections
        sane = sane and counted
        print(f"{platform} with time (its own app process and database): inbox +{added:,} for {requests:,} "
              f"requests wrk counted{'' if counted else '  SANITY CHECK FAILED'}")
    print(f"fake API calls in the whole run: Telegram {calls['telegram']:,}, Slack {calls['slack']:,}")
    if not sane:
        print("SANITY CHECK FAILED: non-2xx answers, socket errors or an inbox that did not grow by wrk's count")
    return sane


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="each wrk run (default 10)")
    parser.add_argument("--warmup", type=float, default=2.0, help="wrk warm-up before each kind of run (default 2)")
    parser.add_argument("--connections", type=int, default=32, help="wrk connections (default 32)")
    parser.add_argument("--rounds", type=int, default=3, help="bare/telegram/slack no-time rounds (default 3)")
    parser.add_argument("--threads", type=int, default=1, help="wrk threads (default 1)")
    args = parser.parse_args(argv)
    if not shutil.which("wrk"):
        print("wrk is not installed: apt-get install -y wrk", file=sys.stderr)
        return 2
    exe = shutil.which("secantusd-py", path=os.path.dirname(PYTHON)) or shutil.which("secantusd-py")
    if not exe:
        print("secantusd-py is not installed (requirements-dev.txt)", file=sys.stderr)
        return 2
    work = Path(tempfile.mkdtemp(prefix="bench-slack-"))
    (work / "logs").mkdir()
    procs = Processes(work / "logs")
    script = work / "webhooks.lua"
    script.write_text(WRK_SCRIPT)
    try:
        with FakeApis() as apis:
            db_port = free_port()
            db = procs.start("secantusd", [exe, "--host", HOST, "--port", str(db_port), "--storage-path",
                                           str(work / "db"), "--standalone", "--log-level", "WARNING"])
            wait_tcp(db_port, db, time.perf_counter(), timeout=30)
            db_uri = lambda name: f"mongodb://{HOST}:{db_port}/{name}?directConnection=true"  # noqa: E731
            print("load runs ...", flush=True)
            load = load_runs(procs, app_env(db_uri("unused"), apis.port, work), Wrk(script, args.threads, args.connections),
                             db_uri, args)
            return 0 if report(args, load, apis.counts) else 1
    except Exception:
        for log in sorted((work / "logs").glob("*.log")):
            print(f"--- {log.stem} log (last lines):\n{procs.tail(log.stem)}", file=sys.stderr)
        raise
    finally:
        procs.stop_all()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
