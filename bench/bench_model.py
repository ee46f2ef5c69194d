"""The model fallback on the test corpus, run by hand from the repo root:

    .venv/bin/python bench/bench_model.py [--price-in 0.18] [--price-out 0.18] [--fake]

First, with no network at all: how many of the test corpus's messages the engine would hand to
the model (mentions.might_hold_unread_time, as the assistant asks it), split into the no-time
look-alikes (goal: under 1 %), the messages the rules read right (goal: none) and those the
rules miss. The test corpus is what the rules read well, so it holds few of the phrases the model
is for: bench/data/model_tail.txt adds that long tail (same format), and its flagged messages
join the ones asked. Then, with TOGETHER_API_KEY set (TOGETHER_API_BASE and TOGETHER_MODEL as for
the service), engine + fallback over every flagged message, twice (the second pass must come
from the cache): accuracy against the labels, calls made, cache hits, p50/p95 latency, tokens, and
the estimated cost per 1,000 questions and per 1,000 chat messages at the corpus's flag rate
(prices in USD per million tokens, --price-in/--price-out: check Together's pricing page for
the model you use). Without a key it says so and exits 0. `--fake` runs the same path against
the test suite's fake server answering with the labels (a perfect model), offline: accuracy
short of 100 % there means the checks threw away right readings.

Needs secantus (requirements-dev.txt) for the cache's database, unless MONGODB_URI is set.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
import uuid
from datetime import timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TAIL = ROOT / "bench" / "data" / "model_tail.txt"
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

import test_mentions as corpus  # noqa: E402  (the corpus reader the tests use)

from teamops import config as config_module  # noqa: E402
from teamops import mentions  # noqa: E402
from teamops.model_reading import MAX_TEXT_CHARS, ModelReader, check_times, sent_text  # noqa: E402
from teamops.store import Store  # noqa: E402


def flagged(case) -> bool:
    found = mentions.find_mentions(case.text, case.tz, case.now)
    return len(case.text) <= MAX_TEXT_CHARS and mentions.might_hold_unread_time(case.text, found)


def oracle(case) -> dict:
    """What a model that reads like the labels would answer (zones named in the text excepted:
    the labels do not say which words name them)."""
    times = []
    for item in case.expected:
        if item["tz_explicit"]:
            continue
        today = case.now.astimezone(mentions.zone_for(item["tz"])).date()
        end = item["end_local"]
        times.append({"span": item["text"], "time": f"{item['local']:%H:%M}", "end": f"{end:%H:%M}" if end else None,
                      "day": (item["local"].date() - today).days or None, "zone": None, "zone_span": None})
    return {"times": times}


def _instants(items) -> list[tuple]:
    return sorted((i["local"], i["end_local"], i["tz"]) for i in items)


class TimedClient:
    """The reader's client, with each call's latency and tokens kept for the figures."""

    def __init__(self, client):
        self.client = client
        self.calls: list = []

    async def complete(self, *args, **kw):
        completion = await self.client.complete(*args, **kw)
        self.calls.append(completion)
        return completion

    def close(self):
        self.client.close()


async def run(cases, config, uri: str) -> dict:
    store = Store(uri, "bench_model")
    await store.ensure_indexes()
    reader = ModelReader(store, config)
    reader.client = TimedClient(reader.client)
    figures = {"right": 0, "asked": 0, "cache": 0, "failed": {}, "consult_ms": [], "second_pass_cache": 0}
    for number, case in enumerate(cases):
        started = time.perf_counter()
        answer, source = await reader.consult("times", sent_text(case.text)[0], f"bench|{number % 40}")
        figures["consult_ms"].append((time.perf_counter() - started) * 1000)
        figures["asked"] += source == "model"
        figures["cache"] += source == "cache"
        if answer is None:
            figures["failed"][source] = figures["failed"].get(source, 0) + 1
        rules = mentions.find_mentions(case.text, case.tz, case.now)
        readings = check_times(case.text, answer, rules, case.tz, case.now.astimezone(timezone.utc))[0] if answer else []
        got = [{"local": m.local, "end_local": m.end_local, "tz": m.tz} for m in list(rules) + readings]
        figures["right"] += _instants(got) == _instants(case.expected)
    for case in cases:  # the same phrases again: every one must come from the cache
        _, source = await reader.consult("times", sent_text(case.text)[0], "bench|again")
        figures["second_pass_cache"] += source == "cache"
    figures["calls"] = reader.client.calls
    reader.close()
    await store.close()
    return figures


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else 0.0


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="bench_model.py")
    parser.add_argument("--price-in", type=float, default=0.18, help="USD per million input tokens")
    parser.add_argument("--price-out", type=float, default=0.18, help="USD per million output tokens")
    parser.add_argument("--fake", action="store_true", help="ask the test suite's fake server instead")
    args = parser.parse_args(argv)

    cases = corpus._load()
    negatives = [c for c in cases if c.negative]
    read_right = [c for c in cases if not c.negative and corpus._matches(c)]
    missed = [c for c in cases if not c.negative and not corpus._matches(c)]
    sent_negatives = [c for c in negatives if flagged(c)]
    sent_right = [c for c in read_right if flagged(c)]
    sent_missed = [c for c in missed if flagged(c)]
    share = len(sent_negatives) / len(negatives)
    print(f"corpus: {len(cases)} messages; the engine would hand to the model:")
    print(f"  no-time look-alikes   {len(sent_negatives):4d} of {len(negatives):4d}  {share:6.2%}  "
          f"(goal < 1 %: {'met' if share < 0.01 else 'MISSED'})")
    print(f"  times the rules read  {len(sent_right):4d} of {len(read_right):4d}  (goal: none)")
    print(f"  times the rules miss  {len(sent_missed):4d} of {len(missed):4d}  (what the model can add)")
    ask = sent_negatives + sent_missed + sent_right
    flag_rate = len(ask) / len(cases)
    tail = corpus._load(TAIL)
    sent_tail = [c for c in tail if flagged(c)]
    print(f"long tail ({TAIL.relative_to(ROOT)}): {len(sent_tail)} of {len(tail)} flagged "
          f"({sum(not c.negative for c in sent_tail)} with a time, {sum(c.negative for c in sent_tail)} look-alikes)")
    ask += sent_tail

    fake = None
    env = dict(os.environ)
    if args.fake:
        from fakes.together import FakeTogether

        fake = FakeTogether()
        for case in ask:
            fake.answers[sent_text(case.text)[0]] = oracle(case)
        env.update(TOGETHER_API_KEY="fake", TOGETHER_API_BASE=fake.base)
    if not env.get("TOGETHER_API_KEY", "").strip():
        print("TOGETHER_API_KEY is not set: no model calls made (set it, or use --fake, for accuracy, "
              "latency and cost).")
        return 0
    env.setdefault("VERIFY_TOKEN_SECRET", "bench-" + "x" * 16)
    config = config_module.load(env)
    server = None
    uri = env.get("MONGODB_URI", "").strip()
    if not uri:
        import secantus

        server = secantus.SecantusDBServer(storage_path=":memory:", replica_set_name=None)
        server.start()
        uri = f"mongodb://127.0.0.1:{server.port}/bench_{uuid.uuid4().hex[:8]}?directConnection=true"
    try:
        figures = asyncio.run(run(ask, config, uri))
    finally:
        if server is not None:
            server.stop()
        if fake is not None:
            fake.close()

    calls = figures["calls"]
    call_ms = [c.ms for c in calls]
    tokens_in = sum(c.prompt_tokens for c in calls)
    tokens_out = sum(c.completion_tokens for c in calls)
    per_call = ((tokens_in * args.price_in + tokens_out * args.price_out) / 1e6 / len(calls)) if calls else 0.0
    right_before = sum(_instants(corpus._observed(c)) == _instants(c.expected) for c in ask)
    print(f"\nmodel {config.together_model} at {config.together_api_base}"
          + (" (the fake, answering with the labels)" if fake else ""))
    print(f"  flagged messages      {len(ask)}  ({len(ask) - len(sent_tail)} of the test corpus, "
          f"{flag_rate:.2%} of it; {len(sent_tail)} of the long tail)")
    print(f"  right, rules alone    {right_before} of {len(ask)}")
    print(f"  right, rules + model  {figures['right']} of {len(ask)}  ({figures['right'] / max(1, len(ask)):.1%})")
    print(f"  calls made            {len(calls)}   cache hits {figures['cache']} (first pass), "
          f"{figures['second_pass_cache']} of {len(ask)} (second pass)")
    if figures["failed"]:
        print("  no answer             " + ", ".join(f"{k} {v}" for k, v in sorted(figures["failed"].items())))
    if calls:
        print(f"  call latency          p50 {statistics.median(call_ms):.0f} ms   p95 {percentile(call_ms, 0.95):.0f} ms")
    print(f"  whole question        p50 {statistics.median(figures['consult_ms']):.0f} ms   "
          f"p95 {percentile(figures['consult_ms'], 0.95):.0f} ms (cache, breaker, caps and call)")
    if calls:
        print(f"  tokens per call       {tokens_in / len(calls):.0f} in, {tokens_out / len(calls):.0f} out")
        print(f"  est. cost             ${per_call * 1000:.4f} per 1,000 questions; "
              f"${per_call * 1000 * flag_rate:.5f} per 1,000 chat messages at the test corpus's flag rate "
              f"(at ${args.price_in}/${args.price_out} per M tokens in/out)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
