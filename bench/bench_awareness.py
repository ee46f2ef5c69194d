"""What working-hours marks add to a conversion, run by hand: `python bench/bench_awareness.py`.

Builds the reply for one message in chats of 3 and of 20 members (the mentions found once, as
the assistant does) with marks (`people` from the members' zones and hours) and without, in the
same run, and prints each one's median and the ratio. Also times /overlap for those chats. The
goal: marks add under 25 µs to a 20-member chat's reply (ratio ≤ 1.5), far below one database
round trip; /overlap under 50 ms (it runs off the event loop).
"""

from __future__ import annotations

import statistics
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from teamops import mentions, wording, working_hours

NOW = datetime(2027, 1, 13, 10, 0, tzinfo=timezone.utc)
ZONES = ["Europe/Lisbon", "America/New_York", "Asia/Tokyo", "America/Los_Angeles", "Europe/Berlin",
         "Asia/Kolkata", "Australia/Sydney"]
ROUNDS = 2000


def chat_of(size: int) -> dict:
    members = {}
    for index in range(size):
        member = {"name": f"member{index}", "tz": ZONES[index % len(ZONES)]}
        if index % 4 == 1:
            member["hours"] = working_hours.parse("12-20")
        members[str(index)] = member
    return {"members": members}


def median_us(build, rounds: int = ROUNDS) -> float:
    runs = []
    for _ in range(rounds):
        started = time.perf_counter()
        build()
        runs.append(time.perf_counter() - started)
    return statistics.median(runs) * 1e6


def main() -> None:
    found = mentions.find_mentions("sync at 15:30 tomorrow?", "Europe/Lisbon", NOW, ZONES)
    print(f"{'chat':>10} {'plain µs':>10} {'marked µs':>10} {'ratio':>6} {'overlap ms':>11}")
    for size in (3, 20):
        row(found, size)


def row(found, size: int) -> None:
    chat = chat_of(size)
    zones = sorted({m["tz"] for m in chat["members"].values()})
    plain = median_us(lambda: wording.conversion(found, zones, NOW, "24h"))
    marked = median_us(lambda: wording.conversion(found, zones, NOW, "24h",
                                                  people=working_hours.people_by_zone(chat, "0")))
    people = [(m["name"], m["tz"], working_hours.of(m)) for m in chat["members"].values()]
    overlap = median_us(lambda: working_hours.overlap(people, NOW, 30, 5, "Europe/Lisbon"), 20) / 1000
    print(f"{size:>7} m. {plain:>10.1f} {marked:>10.1f} {marked / plain:>6.2f} {overlap:>11.1f}")


if __name__ == "__main__":
    main()
