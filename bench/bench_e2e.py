"""End-to-end benchmark: from a message's POST to its reply at the platform, run by hand:

    .venv/bin/python bench/bench_e2e.py [--only e2e,fair,soak,overload] [--seconds 30] ...

Starts its own SecantusDB server (secantusd-py --standalone, as the embedded default runs it), a
fake Telegram Bot API on loopback that notes when each reply arrives, and the service under uvicorn
(`python app.py`, MONGODB_URI pointing at that server, LOG_LEVEL=WARNING), a fresh app and database
per part. Messages with a time are posted to /hooks/telegram at a steady rate from a pool of
threads (keep-alive connections), each at its scheduled moment; every message's sender has a zone
and TEAM_TIMEZONES is set, so each is answered with one conversion.

  baseline  one message at a time, each after the previous reply: the unloaded reply time; the
            e2e rows are shown against it (same run).
  e2e       --rates (20,100,300 msg/s) for --seconds each, spread over --chats chats: p50/p95/p99
            of POST -> matching reply and of the webhook's own answer (ack), database round trips
            per converted message, exactly-once. Goal: p95 < 150 ms at 100 msg/s.
  fair      one chat alone at --quiet-rate (1/s), then the same chat while another floods at
            --flood-rate (300/s), --fair-seconds each: the quiet chat's p95 with and without flood.
  soak      --soak-rate for --soak-seconds (600): RSS and open fds of the service every 10 s, their
            slope, no error, every message answered exactly once.
  overload  --overload-rates in steps of --overload-seconds without a pause: where 503s begin, the
            ack and reply times of what was taken, and RSS, step by step.

Round trips are counted at the database (serverStatus network.numRequests: one per wire message),
minus its idle rate measured right before (the worker's scans) and the bench's own reads. Exit code
1 when a goal is missed or a message is answered twice or not at all.
"""

from __future__ import annotations

import argparse
import http.client
import itertools
import json
import os
import statistics
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_service import (  # the bench directory is not a package
    HOST, PYTHON, WEBHOOK_SECRET, Processes, app_env, cpu_seconds, free_port, rss_mib, wait_for, wait_tcp,
)

GOAL_P95_MS_AT_100 = 150.0
TEXTS = ["sync at {h}:{m:02d}", "standup {h}:{m:02d} tomorrow?", "call at {h}:{m:02d}", "deploy window {h}:{m:02d}"]


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered) + 0.5) - 1))]


# ----------------------------------------------------------------------------- fake Telegram

class Replies:
    """The Bot API on loopback, HTTP/1.1 keep-alive: sendMessage answers at once and notes when the
    reply to which message arrived."""

    def __init__(self):
        self.lock = threading.Lock()
        self.at: dict[int, list[float]] = {}  # message_id -> arrival times of replies to it
        ids = itertools.count(10_000)
        replies = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                now = time.monotonic()
                if self.path.endswith("/sendMessage"):
                    try:
                        answered = json.loads(raw).get("reply_parameters", {}).get("message_id")
                    except ValueError:
                        answered = None
                    if answered is not None:
                        with replies.lock:
                            replies.at.setdefault(answered, []).append(now)
                body = json.dumps({"ok": True, "result": {"message_id": next(ids)}}).encode()
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
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True).start()

    def first(self, message_id: int) -> float | None:
        with self.lock:
            times = self.at.get(message_id)
            return times[0] if times else None

    def count(self, message_id: int) -> int:
        with self.lock:
            return len(self.at.get(message_id, ()))


# ----------------------------------------------------------------------------- load

_message_ids = itertools.count(1)
_update_ids = itertools.count(int(time.time()) * 1000)


class Sent:
    __slots__ = ("message_id", "chat", "scheduled", "posted", "acked", "status")

    def __init__(self, message_id, chat):
        self.message_id, self.chat = message_id, chat
        self.scheduled = self.posted = self.acked = 0.0
        self.status = 0


def update(chat: int, message_id: int) -> bytes:
    text = TEXTS[message_id % len(TEXTS)].format(h=8 + message_id % 10, m=message_id % 60)
    return json.dumps({
        "update_id": next(_update_ids),
        "message": {"message_id": message_id, "date": int(time.time()), "chat": {"id": chat, "type": "supergroup"},
                    "from": {"id": user_of(chat), "is_bot": False, "first_name": "Ana"}, "text": text},
    }).encode()


def user_of(chat: int) -> int:
    return 500_000 + abs(chat)


class Load:
    """Posts messages at a steady rate: message i at start + i / rate, from `threads` threads."""

    def __init__(self, port: int, rate: float, seconds: float, chats: list[int], threads: int = 16):
        self.port, self.rate, self.chats = port, rate, chats
        self.total = max(1, int(rate * seconds))
        self.threads = min(threads, self.total)
        self.sent: list[Sent] = []
        self._next = itertools.count()
        self._lock = threading.Lock()

    def run(self, start: float | None = None) -> "Load":
        self.start = start if start is not None else time.monotonic() + 0.1
        workers = [threading.Thread(target=self._post_loop, daemon=True) for _ in range(self.threads)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        return self

    def _post_loop(self):
        conn = http.client.HTTPConnection(HOST, self.port, timeout=15)
        headers = {"Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET}
        while True:
            with self._lock:
                index = next(self._next)
            if index >= self.total:
                break
            chat = self.chats[index % len(self.chats)]
            sent = Sent(next(_message_ids), chat)
            body = update(chat, sent.message_id)
            sent.scheduled = self.start + index / self.rate
            pause = sent.scheduled - time.monotonic()
            if pause > 0:
                time.sleep(pause)
            sent.posted = time.monotonic()
            try:
                conn.request("POST", "/hooks/telegram", body=body, headers=headers)
                answer = conn.getresponse()
                answer.read()
                sent.status = answer.status
            except (OSError, http.client.HTTPException):
                sent.status = -1
                conn.close()
                conn = http.client.HTTPConnection(HOST, self.port, timeout=15)
            sent.acked = time.monotonic()
            with self._lock:
                self.sent.append(sent)
        conn.close()


def drain(replies: Replies, sent: list[Sent], timeout: float) -> float:
    """Wait until every accepted message has a reply (or `timeout`); seconds waited."""
    started = time.monotonic()
    waiting = [s for s in sent if s.status == 200]
    while waiting and time.monotonic() - started < timeout:
        waiting = [s for s in waiting if replies.first(s.message_id) is None]
        if waiting:
            time.sleep(0.1)
    return time.monotonic() - started


class Summary:
    def __init__(self, replies: Replies, sent: list[Sent]):
        self.sent = len(sent)
        self.accepted = [s for s in sent if s.status == 200]
        self.refused = sum(1 for s in sent if s.status == 503)
        self.errors = sum(1 for s in sent if s.status not in (200, 503))
        self.ack_ms = [(s.acked - s.posted) * 1000 for s in sent]
        self.late = sum(1 for s in sent if s.posted - s.scheduled > 0.05)  # the generator fell behind
        self.reply_ms, self.missing, self.twice = [], 0, 0
        for s in self.accepted:
            first = replies.first(s.message_id)
            if first is None:
                self.missing += 1
                continue
            self.reply_ms.append((first - s.posted) * 1000)
            if replies.count(s.message_id) > 1:
                self.twice += 1

    def ok(self) -> bool:
        return self.missing == 0 and self.twice == 0 and self.errors == 0


# ----------------------------------------------------------------------------- processes

class Bench:
    def __init__(self, args, procs: Processes, tmp: Path):
        self.args, self.procs, self.tmp = args, procs, tmp
        self.db_port = free_port()
        self.db = procs.start("secantusdb", [
            str(Path(PYTHON).with_name("secantusd-py")), "--host", HOST, "--port", str(self.db_port),
            "--storage-path", str(tmp / "db"), "--standalone", "--sync-on-commit", "--log-level", "WARNING"])
        wait_tcp(self.db_port, self.db, time.perf_counter())
        from pymongo import MongoClient

        self.client = MongoClient(f"mongodb://{HOST}:{self.db_port}/?directConnection=true", tz_aware=True)
        self.replies = Replies()
        self.app = None
        self.parts = itertools.count(1)

    def round_trips(self) -> int:
        return self.client.admin.command("serverStatus")["network"]["numRequests"]

    def start_app(self, chats: list[int], **extra) -> None:
        if self.app is not None:
            self.procs.stop(self.app)
        name = f"e2e_{next(self.parts)}"
        database = self.client[name]
        database.users.insert_many([{"platform": "telegram", "user_id": str(user_of(c)), "tz": "Europe/Lisbon",
                                     "source": "command"} for c in chats])
        env = app_env(os.environ, f"mongodb://{HOST}:{self.db_port}/{name}?directConnection=true", self.replies.port)
        env["LOG_LEVEL"] = self.args.log_level
        env.update({k: str(v) for k, v in extra.items()})
        self.app_port = free_port()
        self.app = self.procs.start(name, [PYTHON, "app.py", "--host", HOST, "--port", str(self.app_port)], env)
        wait_for(self.app_port, "GET", "/ready", self.app, time.perf_counter(), timeout=30)
        self.app_log = name

    def idle_rate(self, seconds: float = 5.0) -> float:
        """Round trips per second the service makes while idle (its scans), as the bench counts them."""
        before = self.round_trips()
        time.sleep(seconds)
        return (self.round_trips() - before - 1) / seconds

    def service_log_lines(self, level: str) -> int:
        text = (self.procs.logs / f"{self.app_log}.log").read_text(errors="replace")
        return sum(1 for line in text.splitlines() if f" {level} " in line)


def chats_list(n: int, base: int = -1_000_000) -> list[int]:
    return [base - i for i in range(n)]


# ----------------------------------------------------------------------------- parts

def part_baseline_and_e2e(bench: Bench, args) -> bool:
    chats = chats_list(args.chats)
    bench.start_app(chats)
    base = []
    for n in range(args.baseline_messages):  # one at a time: the reply time with nothing else going on
        load = Load(bench.app_port, 1000, 0.001, [chats[n % len(chats)]], threads=1).run()
        drain(bench.replies, load.sent, 10)
        base.extend(load.sent)
        time.sleep(0.05)
    baseline = Summary(bench.replies, base)
    b50, b95 = pct(baseline.reply_ms, 50), pct(baseline.reply_ms, 95)
    print(f"\nbaseline: {len(base)} messages one at a time: reply p50 {b50:.1f} ms, p95 {b95:.1f} ms, "
          f"ack p50 {pct(baseline.ack_ms, 50):.1f} ms")
    ok = baseline.ok()
    print(f"\ne2e: {args.seconds:.0f} s per rate over {len(chats)} chats (ratios: p95 / baseline p95)")
    print(f"{'rate/s':>7} {'sent':>6} {'200':>6} {'503':>5} {'late':>5} | {'reply p50':>9} {'p95':>7} {'p99':>7} "
          f"{'x base':>6} | {'ack p50':>7} {'p95':>6} {'p99':>6} | {'db rt/msg':>9} {'cpu% app':>8} {'db':>4} {'bench':>5} "
          f"{'RSS MiB':>7} | once")
    for rate in args.rates:
        idle = bench.idle_rate(3)
        before, started = bench.round_trips(), time.monotonic()
        cpu_before = (cpu_seconds(bench.app.pid), cpu_seconds(bench.db.pid), sum(os.times()[:2]))
        load = Load(bench.app_port, rate, args.seconds, chats, threads=args.threads).run()
        drain(bench.replies, load.sent, args.drain_seconds)
        elapsed = time.monotonic() - started
        cpu_after = (cpu_seconds(bench.app.pid), cpu_seconds(bench.db.pid), sum(os.times()[:2]))
        cpu, db_cpu, own_cpu = ((b - a) / elapsed * 100 for a, b in zip(cpu_before, cpu_after, strict=True))
        trips = bench.round_trips() - before - 1 - idle * elapsed
        s = Summary(bench.replies, load.sent)
        per = trips / max(1, len(s.reply_ms))
        once = "yes" if s.ok() else f"NO (missing {s.missing}, twice {s.twice}, errors {s.errors})"
        print(f"{rate:>7.0f} {s.sent:>6} {len(s.accepted):>6} {s.refused:>5} {s.late:>5} | {pct(s.reply_ms, 50):>9.1f} "
              f"{pct(s.reply_ms, 95):>7.1f} {pct(s.reply_ms, 99):>7.1f} {pct(s.reply_ms, 95) / b95:>6.2f} | "
              f"{pct(s.ack_ms, 50):>7.1f} {pct(s.ack_ms, 95):>6.1f} {pct(s.ack_ms, 99):>6.1f} | {per:>9.1f} "
              f"{cpu:>8.0f} {db_cpu:>4.0f} {own_cpu:>5.0f} {rss_mib(bench.app.pid)[0]:>7.1f} | {once}")
        ok = ok and s.ok()
        if rate == 100:
            goal = pct(s.reply_ms, 95) < GOAL_P95_MS_AT_100
            print(f"        goal at 100 msg/s: reply p95 < {GOAL_P95_MS_AT_100:.0f} ms: {'met' if goal else 'MISSED'}")
            ok = ok and goal
    print(f"service log: {bench.service_log_lines('WARNING')} WARNING, {bench.service_log_lines('ERROR')} ERROR lines")
    return ok


def part_fair(bench: Bench, args) -> bool:
    flood_chat, quiet_chat = -2_000_001, -2_000_002
    bench.start_app([flood_chat, quiet_chat])
    alone = Load(bench.app_port, args.quiet_rate, args.fair_seconds, [quiet_chat], threads=1).run()
    drain(bench.replies, alone.sent, 10)
    start = time.monotonic() + 0.2
    flood = Load(bench.app_port, args.flood_rate, args.fair_seconds, [flood_chat], threads=args.threads)
    quiet = Load(bench.app_port, args.quiet_rate, args.fair_seconds, [quiet_chat], threads=1)
    flooding = threading.Thread(target=flood.run, args=(start,), daemon=True)
    flooding.start()
    quiet.run(start + 0.5)
    flooding.join()
    drain(bench.replies, quiet.sent, 10)
    drained = drain(bench.replies, flood.sent, args.drain_seconds)
    a, q, f = Summary(bench.replies, alone.sent), Summary(bench.replies, quiet.sent), Summary(bench.replies, flood.sent)
    print(f"\nfair: quiet chat at {args.quiet_rate:g}/s, {args.fair_seconds:.0f} s alone, then beside a chat "
          f"flooding at {args.flood_rate:g}/s")
    print(f"  quiet alone       : n={len(a.reply_ms)} reply p50 {pct(a.reply_ms, 50):.1f} ms, p95 "
          f"{pct(a.reply_ms, 95):.1f} ms, max {max(a.reply_ms, default=float('nan')):.1f} ms")
    print(f"  quiet beside flood: n={len(q.reply_ms)} reply p50 {pct(q.reply_ms, 50):.1f} ms, p95 "
          f"{pct(q.reply_ms, 95):.1f} ms, max {max(q.reply_ms, default=float('nan')):.1f} ms; "
          f"p95 ratio {pct(q.reply_ms, 95) / pct(a.reply_ms, 95):.2f}; refused {q.refused}")
    print(f"  flood: sent {f.sent} (late {f.late}), taken {len(f.accepted)}, refused 503 {f.refused}, errors {f.errors}; "
          f"every taken one answered once: {'yes' if f.ok() else f'NO (missing {f.missing}, twice {f.twice})'} "
          f"(backlog drained {drained:.0f} s after the flood)")
    return a.ok() and q.ok() and f.ok() and q.refused == 0


def fds(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


def slope_per_minute(samples: list[tuple[float, float]]) -> float:
    if len(samples) < 2:
        return float("nan")
    xs, ys = [t for t, _ in samples], [v for _, v in samples]
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    den = sum((x - mx) ** 2 for x in xs)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / den * 60 if den else float("nan")


def part_soak(bench: Bench, args) -> bool:
    chats = chats_list(args.chats, -3_000_000)
    bench.start_app(chats)
    pid = bench.app.pid
    rss, open_fds, stop = [], [], threading.Event()
    t0 = time.monotonic()

    def sample():
        while True:
            now = time.monotonic() - t0
            rss.append((now, rss_mib(pid)[0]))
            open_fds.append((now, fds(pid)))
            if stop.wait(args.sample_seconds):
                return

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    load = Load(bench.app_port, args.soak_rate, args.soak_seconds, chats, threads=args.threads).run()
    drain(bench.replies, load.sent, args.drain_seconds)
    stop.set()
    sampler.join()
    s = Summary(bench.replies, load.sent)
    half = [x for x in rss if x[0] >= rss[-1][0] / 2]
    print(f"\nsoak: {args.soak_rate:g} msg/s for {args.soak_seconds:.0f} s over {len(chats)} chats, sampled every "
          f"{args.sample_seconds:g} s ({len(rss)} samples)")
    print(f"  RSS MiB: first {rss[0][1]:.1f}, last {rss[-1][1]:.1f}, max {max(v for _, v in rss):.1f}; slope "
          f"{slope_per_minute(rss):+.3f} MiB/min (second half {slope_per_minute(half):+.3f})")
    print(f"  open fds: first {open_fds[0][1]:.0f}, last {open_fds[-1][1]:.0f}, max {max(v for _, v in open_fds):.0f}; "
          f"slope {slope_per_minute(open_fds):+.3f} /min")
    print(f"  sent {s.sent} (late {s.late}), 200 {len(s.accepted)}, 503 {s.refused}, errors {s.errors}; reply p50 "
          f"{pct(s.reply_ms, 50):.1f} ms p95 {pct(s.reply_ms, 95):.1f} ms p99 {pct(s.reply_ms, 99):.1f} ms; "
          f"answered exactly once: {'all' if s.ok() else f'NO (missing {s.missing}, twice {s.twice})'}")
    errors = bench.service_log_lines("ERROR")
    print(f"  service log: {bench.service_log_lines('WARNING')} WARNING, {errors} ERROR lines")
    print("  rss samples:", " ".join(f"{v:.1f}" for _, v in rss))
    print("  fd samples:", " ".join(f"{v:.0f}" for _, v in open_fds))
    return s.ok() and s.refused == 0 and errors == 0


def part_overload(bench: Bench, args) -> bool:
    chats = chats_list(args.chats, -4_000_000)
    bench.start_app(chats)
    print(f"\noverload: steps of {args.overload_seconds:.0f} s over {len(chats)} chats, no pause between them")
    print(f"{'rate/s':>7} {'sent/s':>7} {'200/s':>6} {'503 %':>6} | {'ack p50':>7} {'p99':>7} {'max':>7} | "
          f"{'reply p50':>9} {'p95':>8} | {'RSS MiB':>7} {'cpu %':>6}")
    loads, ok = [], True
    for rate in args.overload_rates:
        cpu_before, started = cpu_seconds(bench.app.pid), time.monotonic()
        load = Load(bench.app_port, rate, args.overload_seconds, chats, threads=args.threads).run()
        elapsed = time.monotonic() - started
        cpu = (cpu_seconds(bench.app.pid) - cpu_before) / elapsed * 100
        loads.append((rate, load, elapsed, cpu, rss_mib(bench.app.pid)[0]))
    drain(bench.replies, [s for _, load, *_ in loads for s in load.sent], args.drain_seconds)
    for rate, load, elapsed, cpu, rss in loads:
        s = Summary(bench.replies, load.sent)
        print(f"{rate:>7.0f} {s.sent / elapsed:>7.0f} {len(s.accepted) / elapsed:>6.0f} {100 * s.refused / s.sent:>6.1f} | "
              f"{pct(s.ack_ms, 50):>7.1f} {pct(s.ack_ms, 99):>7.1f} {max(s.ack_ms):>7.1f} | "
              f"{pct(s.reply_ms, 50):>9.1f} {pct(s.reply_ms, 95):>8.1f} | {rss:>7.1f} {cpu:>6.0f}"
              + ("" if s.ok() else f"  NOT ONCE (missing {s.missing}, twice {s.twice}, errors {s.errors})"))
        ok = ok and s.ok()
    print(f"service log: {bench.service_log_lines('WARNING')} WARNING, {bench.service_log_lines('ERROR')} ERROR lines")
    return ok


def main(argv: list[str]) -> int:
    floats = lambda text: [float(x) for x in text.split(",") if x]  # noqa: E731
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", default="e2e,fair,soak,overload", help="parts to run, comma-separated")
    parser.add_argument("--rates", type=floats, default=[20, 100, 300])
    parser.add_argument("--seconds", type=float, default=30.0, help="per e2e rate")
    parser.add_argument("--chats", type=int, default=50)
    parser.add_argument("--threads", type=int, default=16, help="posting threads")
    parser.add_argument("--baseline-messages", type=int, default=40)
    parser.add_argument("--quiet-rate", type=float, default=1.0)
    parser.add_argument("--flood-rate", type=float, default=300.0)
    parser.add_argument("--fair-seconds", type=float, default=30.0)
    parser.add_argument("--soak-rate", type=float, default=25.0, help="a rate the machine holds")
    parser.add_argument("--soak-seconds", type=float, default=600.0)
    parser.add_argument("--sample-seconds", type=float, default=10.0)
    parser.add_argument("--overload-rates", type=floats, default=[200, 400, 600, 900, 1200])
    parser.add_argument("--overload-seconds", type=float, default=15.0)
    parser.add_argument("--log-level", default="WARNING", help="the service's LOG_LEVEL")
    parser.add_argument("--keep-logs", help="copy the service logs to this directory at the end")
    parser.add_argument("--drain-seconds", type=float, default=120.0, help="how long to wait for the last replies")
    args = parser.parse_args(argv)
    parts = {"e2e": part_baseline_and_e2e, "fair": part_fair, "soak": part_soak, "overload": part_overload}
    chosen = [p.strip() for p in args.only.split(",") if p.strip()]
    unknown = [p for p in chosen if p not in parts]
    if unknown:
        parser.error(f"unknown part(s): {', '.join(unknown)}")
    ok = True
    with tempfile.TemporaryDirectory(prefix="bench-e2e-") as tmp:
        logs = Path(tmp) / "logs"
        logs.mkdir()
        procs = Processes(logs)
        try:
            bench = Bench(args, procs, Path(tmp))
            print(f"bench_e2e: SecantusDB on :{bench.db_port}, fake Telegram on :{bench.replies.port}, "
                  f"{os.cpu_count()} CPUs; logs in {logs} (removed at exit)")
            for name in chosen:
                ok = parts[name](bench, args) and ok
        finally:
            procs.stop_all()
            if args.keep_logs:
                import shutil

                shutil.copytree(logs, args.keep_logs, dirs_exist_ok=True)
    print("\nresult:", "ok" if ok else "FAILED (see above)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
