"""The webhook's latency when the language model hangs, run by hand from the repo root:

    .venv/bin/python bench/bench_model_webhook.py [--requests 200] [--chats 10] [--rounds 3] [--interval 0.05]

Starts a SecantusDB server, a fake Telegram Bot API and a fake Together API on loopback, and the
service under uvicorn (the test suite's parts), in four configurations: no key (the baseline: the
product without the fallback), the model answering at once, the model hanging on every call with
the default breaker, and hanging with the breaker kept shut (every question waits out its whole
timeout). They take turns for --rounds rounds, so a machine that gets busier or quieter moves
all alike. Each run posts the same mix of Telegram updates, one every --interval seconds: messages the rules
cannot read (each a new question for the model, so none comes from the cache; without a key the
webhook does not even store them) between messages with a time the rules read. Prints p50/p95 of
the webhook's round trip per kind and run as ratios to the baseline (goal: a hanging model adds
nothing, since it is only ever asked in the worker), and how many of the rules' replies were
delivered while the model hung (goal: all of them).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from conftest import AppProcess, FakeTelegram, app_env, tg_message, wait_for  # noqa: E402
from fakes.together import FakeTogether  # noqa: E402

UNREAD = "nos vemos tres y media, equipo {n}"  # the rules leave it unread: a question for the model
READ = "sync at 15:30, team {n}"


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def one_run(name: str, server_port: int, requests: int, chats: int, interval: float, hang: bool, model: bool = True,
            **settings) -> dict:
    from pymongo import MongoClient

    uri = f"mongodb://127.0.0.1:{server_port}/bench_{uuid.uuid4().hex[:8]}?directConnection=true"
    with MongoClient(uri) as client:
        db = client.get_default_database()
        for chat in range(chats):
            db.users.insert_one({"platform": "telegram", "user_id": str(5000 + chat), "tz": "Europe/Madrid"})
            db.chats.insert_one({"platform": "telegram", "chat_id": str(-200000 - chat),
                                 "extra_zones": ["Asia/Tokyo"], "members": {}})
    telegram, together = FakeTelegram(), FakeTogether()
    together.default = {"times": [{"span": "tres y media", "time": "15:30", "end": None, "day": None,
                                   "zone": None, "zone_span": None}]}
    if hang:
        together.next("hang", 60.0, times=requests)
    if model:
        settings.update(TOGETHER_API_KEY="bench", TOGETHER_API_BASE=together.base)
    env = app_env(uri, telegram, LOG_LEVEL="WARNING", **{k: str(v) for k, v in settings.items()})
    app = AppProcess(env).start()
    latency: dict[str, list[float]] = {"unread": [], "read": []}
    try:
        for n in range(20):  # warm-up: imports, first connections, the city table
            app.telegram(tg_message(READ.format(n=n), user_id=5000, chat_id=-200000))
        wait_for(lambda: len(telegram.sent()) >= 20, 30, what="the warm-up replies")
        before = len(telegram.sent())
        start = time.perf_counter()
        for n in range(requests):
            # Paced, not back to back: each update then meets the service in the same state
            # whatever the run did for the one before, and only the model's behaviour differs.
            pause = start + n * interval - time.perf_counter()
            if pause > 0:
                time.sleep(pause)
            chat = n % chats
            kind = "unread" if n % 2 == 0 else "read"
            text = (UNREAD if kind == "unread" else READ).format(n=n)
            update = tg_message(text, user_id=5000 + chat, chat_id=-200000 - chat)
            started = time.perf_counter()
            response = app.telegram(update)
            latency[kind].append((time.perf_counter() - started) * 1000)
            assert response.status == 200, response.status
        reads = requests // 2
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            rules_replies = [m for m in telegram.sent()[before:] if "\u2248" not in m.get("text", "")]
            if len(rules_replies) >= reads:
                break
            time.sleep(0.1)
        delivered = len([m for m in telegram.sent()[before:] if "\u2248" not in m.get("text", "")])
        hung_at_end = together.in_flight
    finally:
        app.stop()
        telegram.close()
        together.close()
    print(f"  {name}: done ({len(together.calls)} model calls made)")
    return {"latency": latency, "delivered": delivered, "reads": reads, "hung": hung_at_end}


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="bench_model_webhook.py")
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--chats", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--interval", type=float, default=0.05, help="seconds between updates")
    args = parser.parse_args(argv)
    import secantus

    server = secantus.SecantusDBServer(storage_path=":memory:", replica_set_name=None)
    server.start()
    configs = {
        "no model (no key)": dict(hang=False, model=False),
        "model answers at once": dict(hang=False),
        "model hangs, breaker on": dict(hang=True),
        "model hangs, breaker shut": dict(hang=True, MODEL_BREAKER_FAILURES=1_000_000),
    }
    runs = {name: {"latency": {"unread": [], "read": []}, "delivered": 0, "reads": 0} for name in configs}
    try:
        for round_number in range(args.rounds):
            names = list(configs)
            turn = round_number % len(names)
            names = names[turn:] + names[:turn]  # the configurations take turns at going first
            for name in names:
                result = one_run(f"round {round_number + 1}, {name}", server.port, args.requests, args.chats,
                                 args.interval, **configs[name])
                for kind in ("unread", "read"):
                    runs[name]["latency"][kind] += result["latency"][kind]
                runs[name]["delivered"] += result["delivered"]
                runs[name]["reads"] += result["reads"]
    finally:
        server.stop()
    base = runs["no model (no key)"]["latency"]
    print(f"\nwebhook round trip, {args.requests} updates per run x {args.rounds} rounds, one every "
          f"{args.interval * 1000:.0f} ms ({args.chats} chats)")
    print(f"{'run':28} {'kind':7} {'p50 ms':>7} {'p95 ms':>7} {'p50 ×':>6} {'p95 ×':>6}  rules' replies delivered")
    ok = True
    for name, run in runs.items():
        for kind in ("unread", "read"):
            values = run["latency"][kind]
            p50, p95 = statistics.median(values), percentile(values, 0.95)
            r50, r95 = p50 / statistics.median(base[kind]), p95 / percentile(base[kind], 0.95)
            delivered = f"{run['delivered']}/{run['reads']}" if kind == "read" else ""
            print(f"{name:28} {kind:7} {p50:7.1f} {p95:7.1f} {r50:6.2f} {r95:6.2f}  {delivered}")
        ok &= run["delivered"] == run["reads"]
    print("goal: the hanging runs near the baseline (1.00 is no change), every rules' reply delivered: "
          + ("met" if ok else "MISSED"))
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
