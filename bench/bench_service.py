"""Service benchmark, run by hand from the repo root:

    .venv/bin/python bench/bench_service.py [--seconds 10] [--connections 32]

Measures, each next to a baseline measured in the same run, and prints one table against the goals:
  cold start     process start -> first 200 on /health with MONGODB_URI set (median of --runs),
                 vs bench/bare_app.py (process start -> first answered request) and `python -c pass`;
                 goal <= 0.3 s. The embedded database's start (MONGODB_URI unset) is reported apart.
  throughput     wrk on POST /hooks/telegram: a message with no time (no database call), goal >= 70 %
                 of the bare endpoint; a message with a time (inbox write, a new update_id on every
                 request), goal >= 25 % of it. Checks the inbox grew by what wrk reports and that no
                 non-2xx answers or socket errors occurred.
  memory         VmRSS of the app process after the load runs, vs the bare app's after its load;
                 goal <= 60 MiB.

Needs `wrk` (Debian: apt-get install -y wrk) and secantusd-py (requirements-dev.txt). Everything
it starts (a SecantusDB server, the app, the bare app, a fake Telegram Bot API on loopback) is
stopped on exit; all traffic stays on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import http.client
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
HOST = "127.0.0.1"
WEBHOOK_SECRET = "bench-webhook-secret"
BOT_TOKEN = "123456:bench-token"
CHAT_ID = -100500

GOAL_COLD_START_S = 0.3
GOAL_RSS_MIB = 60.0
GOAL_NO_TIME_RATIO = 0.70
GOAL_WITH_TIME_RATIO = 0.25

NO_TIME_TEXT = "good morning team"
WITH_TIME_TEXT = "sync at 15:30"

# One wrk script for all three loads. A new update_id on every request (base + counter * threads +
# thread number), so no with-time request is a duplicate; `date` is the script's start.
WRK_SCRIPT = r"""
local path, secret, text, base = "/", "", "", 0
local counter, threads = 0, 1
local next_index = 0
index = 0  -- a global: setup() sets it in each thread's own Lua state

function setup(thread)
  thread:set("index", next_index)
  next_index = next_index + 1
end

function init(args)
  path, secret, text, base = args[1], args[2], args[3], tonumber(args[4])
  threads = tonumber(args[5])
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
  if secret ~= "" then wrk.headers["X-Telegram-Bot-Api-Secret-Token"] = secret end
end

function request()
  counter = counter + 1
  local body = string.format(
    '{"update_id":%d,"message":{"message_id":%d,"date":%d,' ..
    '"chat":{"id":%d,"type":"supergroup"},"from":{"id":111,"is_bot":false,"first_name":"Ana"},' ..
    '"text":"%s"}}',
    base + counter * threads + index, counter, os.time(), %(chat_id)d, text)
  return wrk.format(nil, path, nil, body)
end
""".replace("%(chat_id)d", str(CHAT_ID))


# ----------------------------------------------------------------------------- processes

class Processes:
    """Everything this run started, each in its own process group, stopped in reverse order."""

    def __init__(self, logs: Path):
        self.logs = logs
        self.started: list[subprocess.Popen] = []

    def start(self, name: str, argv: list[str], env: dict | None = None) -> subprocess.Popen:
        log = open(self.logs / f"{name}.log", "ab")
        process = subprocess.Popen(
            argv, cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        process.bench_name = name  # type: ignore[attr-defined]
        self.started.append(process)
        return process

    def stop(self, process: subprocess.Popen, timeout: float = 10.0) -> None:
        if process.poll() is None:
            try:
                os.killpg(process.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                pass
        # The group may hold a child (the embedded database): make sure it is gone too.
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        if process.poll() is None:
            process.wait(timeout=5)
        if process in self.started:
            self.started.remove(process)

    def stop_all(self) -> None:
        for process in reversed(list(self.started)):
            self.stop(process)

    def tail(self, name: str, lines: int = 15) -> str:
        try:
            return "\n".join((self.logs / f"{name}.log").read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def request(port: int, method: str, path: str, body: bytes = b"", timeout: float = 1.0) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        conn.request(method, path, body=body or None, headers={"Content-Type": "application/json"})
        answer = conn.getresponse()
        return answer.status, answer.read()
    finally:
        conn.close()


def _poll(probe, what: str, process: subprocess.Popen, started: float, timeout: float, interval: float) -> float:
    """Seconds from `started` until `probe()` is true; polls every `interval`, bounded in count and time."""
    deadline = started + timeout
    for _ in range(int(timeout / interval) + 1):
        if process.poll() is not None:
            raise RuntimeError(f"{process.bench_name} exited with code {process.returncode} before {what}")
        try:
            if probe():
                return time.perf_counter() - started
        except OSError:
            pass
        if time.perf_counter() > deadline:
            break
        time.sleep(interval)
    raise RuntimeError(f"{process.bench_name}: no {what} within {timeout:.0f} s")


def wait_for(port: int, method: str, path: str, process: subprocess.Popen, started: float,
             accept=lambda status, body: status == 200, timeout: float = 20.0, interval: float = 0.002) -> float:
    """Seconds from `started` until `accept` holds for an answer to METHOD PATH."""
    return _poll(lambda: accept(*request(port, method, path)), f"answer to {method} {path}", process, started, timeout, interval)


def wait_tcp(port: int, process: subprocess.Popen, started: float, timeout: float = 20.0, interval: float = 0.002) -> float:
    """Seconds from `started` until the port accepts a connection."""

    def accepts() -> bool:
        with socket.create_connection((HOST, port), timeout=0.2):
            return True

    return _poll(accepts, "accepted connection", process, started, timeout, interval)


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of one process (all its threads) so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mib(pid: int) -> tuple[float, float]:
    """(VmRSS, VmHWM) of one process in MiB."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            fields[name] = int(value.split()[0]) / 1024
    return fields.get("VmRSS", float("nan")), fields.get("VmHWM", float("nan"))


# ----------------------------------------------------------------------------- fake Telegram

class FakeTelegram:
    """The Bot API on loopback: every method answers {"ok":true,"result":{}} and is counted."""

    def __init__(self):
        counts = self.counts = {"requests": 0}
        lock = threading.Lock()

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with lock:
                    counts["requests"] += 1
                body = b'{"ok":true,"result":{}}'
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


# ----------------------------------------------------------------------------- wrk

class WrkResult:
    def __init__(self, output: str):
        self.output = output
        self.rps = _float(r"Requests/sec:\s+([\d.]+)", output)
        self.requests = int(_float(r"(\d+) requests in", output))
        self.non_2xx = int(_float(r"Non-2xx or 3xx responses:\s+(\d+)", output, default=0))
        errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
        self.socket_errors = sum(int(n) for n in errors.groups()) if errors else 0
        self.latency_ms = _latency_ms(output)
        self.cpu_us: list[float] = []  # CPU microseconds per request, per sampled process


def _float(pattern: str, text: str, default: float | None = None) -> float:
    found = re.search(pattern, text)
    if found:
        return float(found.group(1))
    if default is not None:
        return default
    raise RuntimeError(f"wrk output without {pattern!r}:\n{text}")


def _latency_ms(output: str) -> float:
    found = re.search(r"Latency\s+([\d.]+)(us|ms|s)\b", output)
    if not found:
        return float("nan")
    return float(found.group(1)) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[found.group(2)]


class Wrk:
    def __init__(self, script: Path, threads: int, connections: int):
        self.script = script
        self.threads = threads
        self.connections = connections
        self.next_base = int(time.time()) * 1000  # update_ids never seen by this database before

    def run(self, port: int, path: str, text: str, seconds: float, secret: str = "", pids: tuple[int, ...] = ()) -> WrkResult:
        """One wrk run; `pids`: processes whose CPU time per answered request is recorded."""
        base, self.next_base = self.next_base, self.next_base + 100_000_000
        argv = [
            "wrk", f"-t{self.threads}", f"-c{self.connections}", f"-d{max(1, round(seconds))}s", "--latency",
            "--timeout", "5s", "-s", str(self.script), f"http://{HOST}:{port}",
            "--", path, secret, text, str(base), str(self.threads),
        ]
        cpu_before = [cpu_seconds(pid) for pid in pids]
        done = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + 60, cwd=ROOT)
        cpu_after = [cpu_seconds(pid) for pid in pids]
        if done.returncode != 0:
            raise RuntimeError(f"wrk failed ({done.returncode}): {done.stderr.strip() or done.stdout.strip()}")
        result = WrkResult(done.stdout)
        result.cpu_us = [(after - before) * 1e6 / max(result.requests, 1) for before, after in zip(cpu_before, cpu_after, strict=True)]
        return result


# ----------------------------------------------------------------------------- the measurements

def app_env(base: dict, mongodb_uri: str | None, telegram_port: int, data_dir: Path | None = None) -> dict:
    env = dict(base)
    for name in ("MONGODB_URI", "MONGODB_DB", "DATA_DIR", "PORT", "PUBLIC_BASE_URL"):
        env.pop(name, None)
    env.update(
        VERIFY_TOKEN_SECRET="bench-verify-token-secret-0123456789",
        TELEGRAM_BOT_TOKEN=BOT_TOKEN,
        TELEGRAM_WEBHOOK_SECRET=WEBHOOK_SECRET,
        TELEGRAM_API_BASE=f"http://{HOST}:{telegram_port}",
        TELEGRAM_BOT_USERNAME="bench_bot",
        TEAM_TIMEZONES="Asia/Tokyo,America/New_York",
        LOG_LEVEL="WARNING",
        PYTHONUNBUFFERED="1",
    )
    if mongodb_uri:
        env["MONGODB_URI"] = mongodb_uri
    if data_dir is not None:
        env["DATA_DIR"] = str(data_dir)
    return env


def cold_starts(procs: Processes, env: dict, runs: int) -> dict[str, list[float]]:
    """Interleaved rounds after one discarded warm-up round (page cache, bytecode cache):
    the app, the bare app and `python -c pass` with bytecode cached (as a deployed service
    restarts), and the app again compiling its own modules on every start (PYTHONDONTWRITEBYTECODE=1
    and no __pycache__ next to them, as in a read-only or PYTHONDONTWRITEBYTECODE container)."""
    times: dict[str, list[float]] = {"app": [], "bare": [], "python": [], "app_uncached": []}
    uncached_env = {k: v for k, v in env.items() if k != "PYTHONPYCACHEPREFIX"}
    uncached_env["PYTHONDONTWRITEBYTECODE"] = "1"
    health = lambda status, body: status == 200 and b'"ok"' in body  # noqa: E731
    answered = lambda status, body: 200 <= status < 300  # noqa: E731

    def app_start(app_env: dict) -> float:
        port = free_port()
        started = time.perf_counter()
        app = procs.start("app-cold", [PYTHON, "app.py", "--host", HOST, "--port", str(port)], app_env)
        try:
            return wait_for(port, "GET", "/health", app, started, health)
        finally:
            procs.stop(app)

    for round_number in range(runs + 1):
        took = app_start(env)
        port = free_port()
        started = time.perf_counter()
        bare = procs.start("bare-cold", [PYTHON, "bench/bare_app.py", "--host", HOST, "--port", str(port)], env)
        try:
            bare_took = wait_for(port, "POST", "/", bare, started, answered)
        finally:
            procs.stop(bare)
        started = time.perf_counter()
        subprocess.run([PYTHON, "-c", "pass"], check=True, timeout=30, env=env)
        python_took = time.perf_counter() - started
        uncached_took = app_start(uncached_env)
        if round_number:
            times["app"].append(took)
            times["bare"].append(bare_took)
            times["python"].append(python_took)
            times["app_uncached"].append(uncached_took)
    return times


def embedded_starts(procs: Processes, env: dict, work: Path, runs: int) -> dict[str, list[float]]:
    """MONGODB_URI unset: the app starts SecantusDB itself. Also the database server alone."""
    times: dict[str, list[float]] = {"health": [], "ready": [], "server": []}
    exe = shutil.which("secantusd-py", path=os.path.dirname(PYTHON)) or shutil.which("secantusd-py")
    ready = lambda status, body: status == 200 and b'"mongodb":true' in body.replace(b" ", b"")  # noqa: E731
    for round_number in range(runs + 1):
        data_dir = work / "embedded"  # the same dir every run, like restarts of `make run`
        port = free_port()
        started = time.perf_counter()
        app = procs.start("app-embedded", [PYTHON, "app.py", "--host", HOST, "--port", str(port)], {**env, "DATA_DIR": str(data_dir)})
        try:
            health_took = wait_for(port, "GET", "/health", app, started, timeout=30, interval=0.005)
            ready_took = wait_for(port, "GET", "/ready", app, started, ready, timeout=30, interval=0.005)
        finally:
            procs.stop(app)
        port = free_port()
        started = time.perf_counter()
        server = procs.start("secantus-alone", [exe, "--host", HOST, "--port", str(port), "--storage-path",
                                                str(work / "alone-db"), "--standalone", "--sync-on-commit",
                                                "--log-level", "WARNING"])
        try:
            server_took = wait_tcp(port, server, started, timeout=30, interval=0.005)
        finally:
            procs.stop(server)
        if round_number:
            times["health"].append(health_took)
            times["ready"].append(ready_took)
            times["server"].append(server_took)
    return times


def inbox_counts(mongodb_uri: str) -> dict[str, int]:
    from pymongo import MongoClient

    client = MongoClient(mongodb_uri, serverSelectionTimeoutMS=5000)
    try:
        inbox = client.get_default_database().inbox
        counts = {"total": inbox.count_documents({})}
        for state in ("pending", "working", "done"):
            counts[state] = inbox.count_documents({"state": state})
        return counts
    finally:
        client.close()


def insert_ceiling(mongodb_uri: str, seconds: float, concurrency: int) -> float:
    """Inbox-shaped inserts per second straight from pymongo, no app: what the database allows."""
    import asyncio
    from datetime import datetime, timezone

    from pymongo import AsyncMongoClient

    async def measure() -> float:
        client = AsyncMongoClient(mongodb_uri, serverSelectionTimeoutMS=5000)
        try:
            inbox = client.get_default_database().get_collection("ceiling_inbox")
            await inbox.create_index([("platform", 1), ("event_id", 1)], unique=True)
            await inbox.create_index([("state", 1), ("due_at", 1)])
            await inbox.create_index("created_at", expireAfterSeconds=7 * 24 * 3600)
            done = 0
            stop = time.perf_counter() + seconds

            async def writer(k: int) -> None:
                nonlocal done
                for i in range(10_000_000):  # bounded; ends at `stop`
                    if time.perf_counter() >= stop:
                        return
                    now = datetime.now(timezone.utc)
                    await inbox.insert_one({
                        "platform": "telegram", "event_id": f"{k}-{i}", "state": "pending", "due_at": now,
                        "created_at": now, "attempts": 0,
                        "event": {"message": "sync at 15:30", "chat_id": str(CHAT_ID), "user_id": "111"},
                    })
                    done += 1

            started = time.perf_counter()
            await asyncio.gather(*(writer(k) for k in range(concurrency)))
            return done / (time.perf_counter() - started)
        finally:
            await client.close()

    return asyncio.run(measure())


def load_runs(procs: Processes, env: dict, wrk: Wrk, mongodb_uri: str, db_pid: int, args) -> dict:
    """Both servers up at once (the idle one costs nothing); bare and no-time runs alternate so
    machine noise hits both alike; the with-time run comes last because it leaves the worker a
    backlog that keeps the app and the database busy afterwards."""
    seconds, warmup = args.seconds, args.warmup
    out: dict = {"bare": [], "no_time": []}
    bare_port, app_port = free_port(), free_port()
    bare = procs.start("bare-load", [PYTHON, "bench/bare_app.py", "--host", HOST, "--port", str(bare_port)])
    app = procs.start("app-load", [PYTHON, "app.py", "--host", HOST, "--port", str(app_port)], env)
    try:
        wait_for(bare_port, "POST", "/", bare, time.perf_counter(), lambda status, body: status == 200)
        ready = lambda status, body: status == 200 and b'"mongodb":true' in body.replace(b" ", b"")  # noqa: E731
        wait_for(app_port, "GET", "/ready", app, time.perf_counter(), ready, timeout=30, interval=0.01)
        time.sleep(0.5)  # let the start-up index creation finish
        out["app_rss_idle"] = rss_mib(app.pid)
        wrk.run(bare_port, "/", NO_TIME_TEXT, warmup)
        wrk.run(app_port, "/hooks/telegram", NO_TIME_TEXT, warmup, WEBHOOK_SECRET)
        for _ in range(args.rounds):
            out["bare"].append(wrk.run(bare_port, "/", NO_TIME_TEXT, seconds, pids=(bare.pid,)))
            out["no_time"].append(wrk.run(app_port, "/hooks/telegram", NO_TIME_TEXT, seconds, WEBHOOK_SECRET, (app.pid,)))
        out["bare_rss"] = rss_mib(bare.pid)
        procs.stop(bare)

        out["ceiling"] = insert_ceiling(mongodb_uri, min(seconds, 5.0), args.connections)
        wrk.run(app_port, "/hooks/telegram", WITH_TIME_TEXT, warmup, WEBHOOK_SECRET)
        time.sleep(0.5)  # requests in flight when the warm-up stopped
        before = inbox_counts(mongodb_uri)
        out["with_time"] = wrk.run(app_port, "/hooks/telegram", WITH_TIME_TEXT, seconds, WEBHOOK_SECRET, (app.pid, db_pid))
        out["app_rss"] = rss_mib(app.pid)
        time.sleep(0.5)
        after = inbox_counts(mongodb_uri)
        out["inbox_before"] = before
        out["inbox_added"] = after["total"] - before["total"]
        out["inbox_after"] = after
    finally:
        procs.stop(app)
        procs.stop(bare)
    return out


# ----------------------------------------------------------------------------- the report

def verdict(ok: bool) -> str:
    return "ok" if ok else "MISSED"


def median(values: list[float]) -> float:
    return statistics.median(values)


def spread(values: list[float]) -> str:
    return f"{min(values) * 1000:.0f}-{max(values) * 1000:.0f} ms"


def report(args, cold: dict, embedded: dict | None, load: dict, telegram_requests: int) -> bool:
    rows: list[tuple[str, str, str, str, str]] = []
    app_s, bare_s, python_s = median(cold["app"]), median(cold["bare"]), median(cold["python"])
    rows.append(("cold start: app /health 200", f"{app_s:.3f} s", f"bare app {bare_s:.3f} s",
                 f"x{app_s / bare_s:.2f} of bare", f"<= {GOAL_COLD_START_S} s  {verdict(app_s <= GOAL_COLD_START_S)}"))
    rows.append(("  python -c pass", f"{python_s:.3f} s", "", f"app = x{app_s / python_s:.1f}", ""))
    rows.append(("  app minus bare app", f"{app_s - bare_s:+.3f} s", "", "", ""))
    uncached_s = median(cold["app_uncached"])
    rows.append(("  app, own modules uncached", f"{uncached_s:.3f} s", "", f"x{uncached_s / bare_s:.2f} of bare",
                 f"(info)  {verdict(uncached_s <= GOAL_COLD_START_S)}"))
    bare_rps = median([r.rps for r in load["bare"]])
    no_time_rps = median([r.rps for r in load["no_time"]])
    # Each no-time run against the bare run just before it; the median of those ratios.
    no_time_ratio = median([n.rps / b.rps for b, n in zip(load["bare"], load["no_time"], strict=True)])
    rows.append(("webhook, no time", f"{no_time_rps:,.0f} req/s", f"bare {bare_rps:,.0f} req/s",
                 f"{no_time_ratio:.0%} of bare", f">= {GOAL_NO_TIME_RATIO:.0%}  {verdict(no_time_ratio >= GOAL_NO_TIME_RATIO)}"))
    # Server CPU per answered request hardly moves with what else the machine is running.
    bare_cpu = median([r.cpu_us[0] for r in load["bare"]])
    no_time_cpu = median([r.cpu_us[0] for r in load["no_time"]])
    rows.append(("  server CPU per request", f"{no_time_cpu:.0f} us", f"bare {bare_cpu:.0f} us",
                 f"bare/app = {bare_cpu / no_time_cpu:.0%}", "(noise-proof check)"))
    with_time = load["with_time"]
    with_time_ratio = with_time.rps / bare_rps
    rows.append(("webhook, with time (+write)", f"{with_time.rps:,.0f} req/s", f"bare {bare_rps:,.0f} req/s",
                 f"{with_time_ratio:.0%} of bare", f">= {GOAL_WITH_TIME_RATIO:.0%}  {verdict(with_time_ratio >= GOAL_WITH_TIME_RATIO)}"))
    rows.append(("  database insert ceiling", f"{load['ceiling']:,.0f} ins/s", "pymongo, no app",
                 f"with time = {with_time.rps / load['ceiling']:.0%}", ""))
    app_rss, app_hwm = load["app_rss"]
    bare_rss, _ = load["bare_rss"]
    rows.append(("RSS after load (VmRSS)", f"{app_rss:.1f} MiB", f"bare {bare_rss:.1f} MiB",
                 f"x{app_rss / bare_rss:.2f} of bare", f"<= {GOAL_RSS_MIB:.0f} MiB  {verdict(app_rss <= GOAL_RSS_MIB)}"))
    rows.append(("  app peak (VmHWM) / idle", f"{app_hwm:.1f} MiB", f"idle {load['app_rss_idle'][0]:.1f} MiB", "", ""))

    header = ("what", "measured", "baseline", "ratio", "goal")
    widths = [max(len(row[i]) for row in rows + [header]) for i in range(5)]
    line = lambda cells: "  ".join(cell.ljust(width) for cell, width in zip(cells, widths, strict=True)).rstrip()  # noqa: E731
    print()
    print(f"Team Ops Assistant service benchmark: {os.cpu_count()} CPUs, wrk -t{args.threads} -c{args.connections} "
          f"-d{args.seconds:g}s ({args.rounds} bare/no-time pairs, then 1 with-time run), cold start median of "
          f"{len(cold['app'])}, database SecantusDB {'in memory' if args.db_memory else 'on disk'}")
    print(line(header))
    print(line(tuple("-" * w for w in widths)))
    for row in rows:
        print(line(row))
    print()
    print(f"cold start spread: app {spread(cold['app'])}, bare app {spread(cold['bare'])}, "
          f"python -c pass {spread(cold['python'])}")
    if embedded:
        print(f"embedded database (MONGODB_URI unset, median of {len(embedded['health'])}, not in the cold-start goal): "
              f"/health 200 after {median(embedded['health']):.3f} s, /ready mongodb true after "
              f"{median(embedded['ready']):.3f} s; secantusd-py alone accepts connections after "
              f"{median(embedded['server']):.3f} s")
    print()
    print("wrk runs        req/s   requests  non-2xx  socket errors  mean latency  CPU us/request (server[, db])")
    runs = [(f"bare {n + 1}", r) for n, r in enumerate(load["bare"])]
    runs += [(f"no time {n + 1}", r) for n, r in enumerate(load["no_time"])]
    runs.append(("with time", with_time))
    for label, r in runs:
        cpu = ", ".join(f"{us:,.0f}" for us in r.cpu_us)
        print(f"  {label:<12} {r.rps:>7,.0f}  {r.requests:>9,}  {r.non_2xx:>7}  {r.socket_errors:>13}  {r.latency_ms:>9.2f} ms  {cpu}")
    added, requests = load["inbox_added"], with_time.requests
    before, after = load["inbox_before"], load["inbox_after"]
    print(f"inbox: {before['total']:,} documents before the with-time run, +{added:,} during it for {requests:,} "
          f"requests wrk counted ({added - requests:+,}: written, answer not counted when wrk stopped); after it: "
          f"pending {after['pending']:,}, working {after['working']:,}, done {after['done']:,}; "
          f"fake Telegram API calls in the whole run: {telegram_requests:,}")
    clean = all(r.non_2xx == 0 and r.socket_errors == 0 for _, r in runs)
    counted = 0 <= added - requests <= args.connections
    if not clean:
        print("SANITY CHECK FAILED: non-2xx answers or socket errors (see the wrk runs above)")
    if not counted:
        print("SANITY CHECK FAILED: the inbox did not grow by the number of requests wrk counted")
    return clean and counted


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="each wrk run (default 10)")
    parser.add_argument("--warmup", type=float, default=2.0, help="wrk warm-up before each run (default 2)")
    parser.add_argument("--connections", type=int, default=32, help="wrk connections (default 32)")
    parser.add_argument("--rounds", type=int, default=3, help="bare/no-time run pairs (default 3)")
    parser.add_argument("--threads", type=int, default=1, help="wrk threads (default 1: leave the CPUs to the server)")
    parser.add_argument("--runs", type=int, default=7, help="cold starts to take the median of (default 7)")
    parser.add_argument("--embedded-runs", type=int, default=3, help="embedded-database starts (default 3; 0 skips)")
    parser.add_argument("--db-memory", action="store_true", help="benchmark database in memory (default: on disk)")
    args = parser.parse_args(argv)
    if not shutil.which("wrk"):
        print("wrk is not installed: apt-get install -y wrk", file=sys.stderr)
        return 2
    if args.threads > args.connections:
        parser.error("--threads must not exceed --connections")

    work = Path(tempfile.mkdtemp(prefix="bench-service-"))
    (work / "logs").mkdir()
    procs = Processes(work / "logs")
    script = work / "webhook.lua"
    script.write_text(WRK_SCRIPT)
    exe = shutil.which("secantusd-py", path=os.path.dirname(PYTHON)) or shutil.which("secantusd-py")
    if not exe:
        print("secantusd-py is not installed (requirements-dev.txt)", file=sys.stderr)
        return 2
    try:
        with FakeTelegram() as telegram:
            db_port = free_port()
            storage = ":memory:" if args.db_memory else str(work / "db")
            db = procs.start("secantusd", [exe, "--host", HOST, "--port", str(db_port), "--storage-path", storage,
                                           "--standalone", "--log-level", "WARNING"])
            wait_tcp(db_port, db, time.perf_counter(), timeout=30)
            mongodb_uri = f"mongodb://{HOST}:{db_port}/bench?directConnection=true"
            # Children keep their bytecode under the run's temp dir: cached after the first start,
            # and nothing is written into the repo.
            base_env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
            base_env["PYTHONPYCACHEPREFIX"] = str(work / "pycache")
            env = app_env(base_env, mongodb_uri, telegram.port)
            print("cold starts ...", flush=True)
            cold = cold_starts(procs, env, args.runs)
            embedded = None
            if args.embedded_runs > 0:
                print("embedded database starts ...", flush=True)
                embedded = embedded_starts(procs, app_env(base_env, None, telegram.port), work, args.embedded_runs)
            print("load runs ...", flush=True)
            wrk = Wrk(script, args.threads, args.connections)
            load = load_runs(procs, env, wrk, mongodb_uri, db.pid, args)
            sane = report(args, cold, embedded, load, telegram.counts["requests"])
            return 0 if sane else 1
    except Exception:
        for log in sorted((work / "logs").glob("*.log")):
            print(f"--- {log.stem} log (last lines):\n{procs.tail(log.stem)}", file=sys.stderr)
        raise
    finally:
        procs.stop_all()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
