"""Discord Gateway worker benchmark, run by hand from the repo root:

    .venv/bin/python bench/bench_gateway.py [--seconds 180] [--messages 50]

What a long-running `python app.py discord-gateway` costs while idle: its resident memory (VmRSS)
and CPU over a window of `--seconds`, connected to a fake Gateway on loopback that heartbeats at
Discord's real interval (41.25 s) and a fake REST API, with SecantusDB as its database. Printed next
to two baselines measured in the same run, over the same window:
  bare        `python -c "import hikari"` then sleep: the interpreter with the Gateway library loaded
  web         the web service (`python app.py`) idle, on the same database
After the window, `--messages` channel messages with a time are sent through the Gateway and each
must be answered once (a check that the idle process still works; memory is shown again after).
Goals: idle CPU <= 0.5 % of one core; VmRSS after the messages <= 120 MiB (Render's smallest
worker has 512 MB). Exit code 1 when a goal or the check fails.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from fakes.discord import APPLICATION_ID, BOT_TOKEN, FakeDiscord  # noqa: E402
from fakes.discord_gateway import FakeGateway, message  # noqa: E402

HOST = "127.0.0.1"
HEARTBEAT_MS = 41250  # what Discord's HELLO says today
GOAL_CPU_PERCENT = 0.5
GOAL_RSS_MIB = 120.0
EPOCH_MS = 1420070400000
CHANNEL, GUILD, AUTHOR = "645027906669510667", "290926798626357999", "53908232506183680"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def wait(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise SystemExit(f"timed out after {timeout}s waiting for {what}")


def ready(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://{HOST}:{port}/ready", timeout=1) as answer:
            return answer.status == 200
    except OSError:
        return False


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=180.0, help="the idle window")
    parser.add_argument("--messages", type=int, default=50, help="messages sent after the window")
    args = parser.parse_args()
    exe = shutil.which("secantusd-py", path=os.path.dirname(sys.executable)) or shutil.which("secantusd-py")
    if not exe:
        print("secantusd-py is not installed (requirements-dev.txt)", file=sys.stderr)
        return 2
    rest = FakeDiscord()
    gateway = FakeGateway(BOT_TOKEN, APPLICATION_ID, heartbeat_ms=HEARTBEAT_MS, guilds=(GUILD,))
    rest.gateway_url = gateway.url
    work = Path(tempfile.mkdtemp(prefix="bench-gateway-"))
    db_port, web_port = free_port(), free_port()
    procs: dict[str, subprocess.Popen] = {}
    logs = {}
    try:
        procs["db"] = subprocess.Popen([exe, "--host", HOST, "--port", str(db_port), "--storage-path",
                                        str(work / "db"), "--standalone", "--log-level", "WARNING"],
                                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "DISCORD_", "MONGODB_"))}
        env.update(MONGODB_URI=f"mongodb://{HOST}:{db_port}/bench?directConnection=true", VERIFY_TOKEN_SECRET="b" * 32,
                   DISCORD_APPLICATION_ID=APPLICATION_ID, DISCORD_BOT_TOKEN=BOT_TOKEN, DISCORD_API_BASE=rest.base,
                   TEAM_TIMEZONES="America/New_York,Asia/Tokyo", LOG_LEVEL="WARNING", PYTHONUNBUFFERED="1")

        def start(name: str, argv: list[str]) -> None:
            logs[name] = open(work / f"{name}.log", "wb")
            procs[name] = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=logs[name], stderr=subprocess.STDOUT)

        start("bare", [sys.executable, "-c", "import hikari, time; time.sleep(1e6)"])
        start("web", [sys.executable, "app.py", "--host", HOST, "--port", str(web_port)])
        start("gateway", [sys.executable, "app.py", "discord-gateway"])
        wait(lambda: gateway.live, 60, "the gateway process to connect")
        wait(lambda: ready(web_port), 60, "the web service's /ready")
        time.sleep(10)  # let start-up settle (imports done, first heartbeats, the first inbox scans)
        measured = ("bare", "web", "gateway")
        rss_start = {name: rss_mib(procs[name].pid) for name in measured}
        cpu_start = {name: cpu_seconds(procs[name].pid) for name in measured}
        peak = dict(rss_start)
        began = time.monotonic()
        print(f"idle window: {args.seconds:.0f} s (Gateway heartbeat every {HEARTBEAT_MS / 1000:.2f} s) ...", flush=True)
        while time.monotonic() - began < args.seconds:
            time.sleep(min(5.0, max(0.0, args.seconds - (time.monotonic() - began))))
            for name in measured:
                peak[name] = max(peak[name], rss_mib(procs[name].pid))
        elapsed = time.monotonic() - began
        cpu = {name: cpu_seconds(procs[name].pid) - cpu_start[name] for name in measured}
        rss_end = {name: rss_mib(procs[name].pid) for name in measured}
        heartbeats = gateway.heartbeats

        from pymongo import MongoClient

        with MongoClient(env["MONGODB_URI"]) as client:  # the writer has a zone: one reply per message
            client.get_default_database().users.insert_one({"platform": "discord", "user_id": AUTHOR,
                                                            "tz": "Europe/Berlin", "source": "command"})
        for n in range(args.messages):
            snowflake = str(((int(time.time() * 1000) - EPOCH_MS) << 22) | n)
            gateway.dispatch("MESSAGE_CREATE", message(f"sync at {9 + n % 8}:30 CET?", CHANNEL, AUTHOR,
                                                       guild=GUILD, message_id=snowflake))
        replies = wait(lambda: len(rest.matching("POST", f"/channels/{CHANNEL}/messages")) >= args.messages or None,
                       120, f"{args.messages} replies") if args.messages else True
        time.sleep(2)
        answered = len(rest.matching("POST", f"/channels/{CHANNEL}/messages"))
        rss_after = rss_mib(procs["gateway"].pid)
        del replies

        print(f"{'process':<10} {'VmRSS start':>12} {'end':>8} {'peak':>8} {'CPU s':>8} {'CPU %':>7}")
        for name in measured:
            percent = 100 * cpu[name] / elapsed
            print(f"{name:<10} {rss_start[name]:>9.1f} MiB {rss_end[name]:>8.1f} {peak[name]:>8.1f} "
                  f"{cpu[name]:>8.2f} {percent:>6.3f}%")
        g = "gateway"
        for base in ("bare", "web"):
            ratio_cpu = f"x{cpu[g] / cpu[base]:.2f}" if cpu[base] > 0 else f"n/a ({base} used no measurable CPU)"
            print(f"gateway / {base:<5} VmRSS x{rss_end[g] / rss_end[base]:.2f}   CPU {ratio_cpu}")
        print(f"heartbeats during the window: {heartbeats} (one a {HEARTBEAT_MS / 1000:.0f} s)")
        print(f"after {args.messages} messages: answered {answered}, gateway VmRSS {rss_after:.1f} MiB")
        cpu_percent = 100 * cpu[g] / elapsed
        goals = [
            (cpu_percent <= GOAL_CPU_PERCENT, f"idle CPU {cpu_percent:.3f} % <= {GOAL_CPU_PERCENT} % of a core"),
            (rss_after <= GOAL_RSS_MIB, f"VmRSS {rss_after:.1f} MiB <= {GOAL_RSS_MIB:.0f} MiB"),
            (answered == args.messages, f"each of {args.messages} messages answered once (got {answered})"),
            (len(gateway.identifies) == 1, f"one session all along (IDENTIFYs: {len(gateway.identifies)})"),
        ]
        for ok, text in goals:
            print(f"{'PASS' if ok else 'FAIL'}  {text}")
        return 0 if all(ok for ok, _ in goals) else 1
    finally:
        for process in reversed(list(procs.values())):
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(15)
                except subprocess.TimeoutExpired:
                    process.kill()
        for handle in logs.values():
            handle.close()
        gateway.close()
        rest.close()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
