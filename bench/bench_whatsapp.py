"""WhatsApp webhook benchmark, beside Telegram's in the same run, from the repo root:

    .venv/bin/python bench/bench_whatsapp.py [--seconds 10] [--connections 32] [--rounds 3]

The same design as bench_slack.py (whose wrk runner and HMAC in Lua it reuses): rounds of bare /
Telegram / WhatsApp without a time, alternating, against one app process serving both; then one
with-time run each against a fresh app process on a database of its own, the inbox checked to
grow by wrk's count. Every WhatsApp request is a notification shaped like platforms.md's sample
(one text message, a new wamid per with-time request), signed as Meta signs it
(X-Hub-Signature-256: HMAC-SHA256 of the raw body with the app secret): per request in the
with-time run, once per no-time run (never stored, so repeats cost the service what new ones
would). Goals are bench_service.py's (no time >= 70 % of bare, with time >= 25 %).
Needs `wrk` (apt-get install -y wrk) and secantusd-py; everything started here stops on exit.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
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
    WITH_TIME_TEXT,
    Processes,
    free_port,
    inbox_counts,
    wait_for,
    wait_tcp,
)
from bench_slack import SHA256_LUA, TELEGRAM_SECRET, Wrk, give_telegram_writer_a_zone, start_app

APP_SECRET = "bench-whatsapp-app-secret"
PHONE_NUMBER_ID = "106540352242922"

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
  if platform == "whatsapp" then hmac_key(secret) end
end

function request()
  counter = counter + 1
  local id = base + counter * threads + index
  local body
  if platform == "whatsapp" then
    if prepared and not fresh then return prepared end
    body = string.format(
      '{"object":"whatsapp_business_account","entry":[{"id":"102290129340398","changes":[{"field":"messages",' ..
      '"value":{"messaging_product":"whatsapp","metadata":{"display_phone_number":"15550783881",' ..
      '"phone_number_id":"106540352242922"},"contacts":[{"profile":{"name":"Ana"},"wa_id":"16505551234",' ..
      '"user_id":"US.1000"}],"messages":[{"from":"16505551234","from_user_id":"US.1000","id":"wamid.B%d",' ..
      '"timestamp":"%d","type":"text","text":{"body":"%s"}}]}}]}]}',
      id, os.time(), text)
    prepared = wrk.format(nil, path, {["X-Hub-Signature-256"] = "sha256=" .. hmac_hex(body)}, body)
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

HOOKS = {"telegram": ("/hooks/telegram", TELEGRAM_SECRET), "whatsapp": ("/hooks/whatsapp", APP_SECRET)}


class FakeApis:
    """Telegram's Bot API and the Graph API on one loopback port, every call counted."""

    def __init__(self):
        counts = self.counts = {"telegram": 0, "whatsapp": 0}
        lock = threading.Lock()

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                platform = "whatsapp" if self.path.startswith("/v") else "telegram"
                with lock:
                    counts[platform] += 1
                answer = ({"messaging_product": "whatsapp", "messages": [{"id": "wamid.OUT"}]} if platform == "whatsapp"
                          else {"ok": True, "result": {"message_id": 1}})
                body = json.dumps(answer).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

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


def app_env(mongodb_uri: str, api_port: int, work: Path) -> dict:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("TELEGRAM_", "SLACK_", "WHATSAPP_", "MONGODB_", "TEAM_")) and k != "PYTHONDONTWRITEBYTECODE"}
    env.update(
        MONGODB_URI=mongodb_uri,
        VERIFY_TOKEN_SECRET="bench-verify-token-secret-0123456789",
        TELEGRAM_BOT_TOKEN="123456:bench-token",
        TELEGRAM_WEBHOOK_SECRET=TELEGRAM_SECRET,
        TELEGRAM_API_BASE=f"http://{HOST}:{api_port}",
        TELEGRAM_BOT_USERNAME="bench_bot",
        WHATSAPP_APP_SECRET=APP_SECRET,
        WHATSAPP_ACCESS_TOKEN="EAAbench-token",
        WHATSAPP_PHONE_NUMBER_ID=PHONE_NUMBER_ID,
        WHATSAPP_API_BASE=f"http://{HOST}:{api_port}",
        TEAM_TIMEZONES="Asia/Tokyo,America/New_York",
        LOG_LEVEL="WARNING",
        PYTHONUNBUFFERED="1",
        PYTHONPYCACHEPREFIX=str(work / "pycache"),
    )
    return env


def give_writers_zones(mongodb_uri: str) -> None:
    """Both writers have a zone, so both workers answer every message with a time."""
    from pymongo import MongoClient

    give_telegram_writer_a_zone(mongodb_uri)
    client = MongoClient(mongodb_uri, serverSelectionTimeoutMS=5000)
    try:
        client.get_default_database().users.update_one(
            {"platform": "whatsapp", "user_id": "US-1000"},
            {"$set": {"tz": "Europe/Berlin", "source": "command", "aliases": ["16505551234"]}}, upsert=True)
    finally:
        client.close()


def load_runs(procs: Processes, env: dict, wrk: Wrk, db_uri, args) -> dict:
    out: dict = {"bare": [], "telegram": [], "whatsapp": [], "with_time": {}, "inbox": {}}
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
        give_writers_zones(uri)
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
    pair = median([w.rps / t.rps for t, w in zip(load["telegram"], load["whatsapp"], strict=True)])
    rows.append(("  whatsapp / telegram, no time", "", "", f"{pair:.0%}", "", ""))
    for platform in HOOKS:
        run = load["with_time"][platform]
        ratio = run.rps / bare_rps
        rows.append((f"{platform} webhook, with time", f"{run.rps:,.0f} req/s", f"bare {bare_rps:,.0f} req/s",
                     f"{ratio:.0%} of bare",
                     f">= {GOAL_WITH_TIME_RATIO:.0%}  {'ok' if ratio >= GOAL_WITH_TIME_RATIO else 'MISSED'}",
                     f"{run.cpu_us[0]:.0f} us"))
    with_time = load["with_time"]
    rows.append(("  whatsapp / telegram, with time", "", "", f"{with_time['whatsapp'].rps / with_time['telegram'].rps:.0%}",
                 "", ""))
    header = ("what", "measured", "baseline", "ratio", "goal", "server CPU/req")
    widths = [max(len(row[i]) for row in rows + [header]) for i in range(len(header))]
    line = lambda cells: "  ".join(cell.ljust(width) for cell, width in zip(cells, widths, strict=True)).rstrip()  # noqa: E731
    print()
    print(f"WhatsApp and Telegram webhooks, one app process: {os.cpu_count()} CPUs, wrk -t{args.threads} "
          f"-c{args.connections} -d{args.seconds:g}s, {args.rounds} bare/telegram/whatsapp no-time rounds, then one "
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
    print(f"fake API calls in the whole run: Telegram {calls['telegram']:,}, WhatsApp {calls['whatsapp']:,}")
    if not sane:
        print("SANITY CHECK FAILED: non-2xx answers, socket errors or an inbox that did not grow by wrk's count")
    return sane


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="each wrk run (default 10)")
    parser.add_argument("--warmup", type=float, default=2.0, help="wrk warm-up before each kind of run (default 2)")
    parser.add_argument("--connections", type=int, default=32, help="wrk connections (default 32)")
    parser.add_argument("--rounds", type=int, default=3, help="bare/telegram/whatsapp no-time rounds (default 3)")
    parser.add_argument("--threads", type=int, default=1, help="wrk threads (default 1)")
    args = parser.parse_args(argv)
    if not shutil.which("wrk"):
        print("wrk is not installed: apt-get install -y wrk", file=sys.stderr)
        return 2
    exe = shutil.which("secantusd-py", path=os.path.dirname(PYTHON)) or shutil.which("secantusd-py")
    if not exe:
        print("secantusd-py is not installed (requirements-dev.txt)", file=sys.stderr)
        return 2
    work = Path(tempfile.mkdtemp(prefix="bench-whatsapp-"))
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
