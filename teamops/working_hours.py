"""Members' working hours: reading `/hours`, marking a converted time that is night or outside
someone's hours, and finding the windows when a chat's members overlap (`/overlap`).

Hours are kept as a small dict on the user (and copied onto each chat membership, like the zone):
{"start": minutes, "end": minutes, "days": [0..6]} (Monday = 0), or {"off": True} for someone who
does not want to be marked. A member with no hours stored has the default: 09:00-18:00 Mon-Fri.
An `end` at or before `start` is a shift that runs past midnight (22-06).
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

DEFAULT = {"start": 9 * 60, "end": 18 * 60, "days": [0, 1, 2, 3, 4]}
NIGHT_START, NIGHT_END = 22 * 60, 7 * 60  # 22:00-07:00 local is night, for anyone
NIGHT, HOME = "\U0001f319", "\U0001f3e0"  # 🌙 🏠
DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
SLOT_MINUTES = 15  # /overlap looks at the hours in steps of this
MAX_WINDOWS = 5

_TIME = r"(\d{1,2})(?:[:.h](\d{2}))?"
_RANGE = re.compile(rf"^{_TIME}\s*(?:-|–|to)\s*{_TIME}$")
_DAYS = re.compile(r"^([a-z]{3})[a-z]*(?:\s*-\s*([a-z]{3})[a-z]*)?$")


class HoursError(ValueError):
    """What was typed after /hours cannot be read (the message says how to write it)."""


def parse(text: str) -> dict:
    """`9-18`, `08:30-17:00 mon-thu`, `22-06 sun-thu`, `off`, `default` -> stored hours."""
    words = text.strip().lower()
    if words in ("off", "none"):
        return {"off": True}
    if words in ("on", "default", "reset"):
        return dict(DEFAULT)
    head, _, rest = words.partition(" ")
    if head and not head[0].isdigit():
        raise HoursError("Start with the hours: /hours 9-18, /hours 08:30-17:00 mon-thu, or /hours off.")
    found = _RANGE.match(head.replace(" ", ""))
    if not found:
        raise HoursError("I couldn't read those hours. Try /hours 9-18 or /hours 08:30-17:00 mon-thu.")
    sh, sm, eh, em = (int(g) if g else 0 for g in found.groups())
    if sh > 24 or eh > 24 or sm > 59 or em > 59 or (sh == 24 and sm) or (eh == 24 and em):
        raise HoursError("Hours go from 0:00 to 24:00. Try /hours 9-18.")
    start, end = sh * 60 + sm, eh * 60 + em
    if start % 1440 == end % 1440 and start != end:
        start, end = 0, 1440
    if start == end:
        raise HoursError("Those hours are empty. Try /hours 9-18.")
    days = parse_days(rest) if rest.strip() else list(DEFAULT["days"])
    return {"start": start, "end": end, "days": days}


def parse_days(text: str) -> list[int]:
    days: set[int] = set()
    for part in re.split(r"[,\s]+(?![-–])", text.strip().replace("–", "-")):
        part = part.strip()
        if not part:
            continue
        found = _DAYS.match(part.replace(" ", ""))
        if not found or found.group(1) not in DAY_NAMES or (found.group(2) and found.group(2) not in DAY_NAMES):
            raise HoursError("Write days as mon-fri, sun-thu or mon,wed,fri.")
        first = DAY_NAMES.index(found.group(1))
        last = DAY_NAMES.index(found.group(2)) if found.group(2) else first
        day = first
        while True:
            days.add(day)
            if day == last:
                break
            day = (day + 1) % 7
    return sorted(days)


def of(member: dict) -> dict:
    """The hours that apply to a member (or user) record."""
    return member.get("hours") or DEFAULT


def describe(hours: dict) -> str:
    """"09:00-18:00 Mon-Fri", for answers."""
    if hours.get("off"):
        return "off (never marked)"
    days = hours["days"]
    if days == [0, 1, 2, 3, 4]:
        which = "Mon\u2013Fri"
    elif days == list(range(7)):
        which = "every day"
    else:
        which = ", ".join(DAY_NAMES[d].capitalize() for d in days)
    return f"{_hhmm(hours['start'])}\u2013{_hhmm(hours['end'])} {which}"


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def working(hours: dict, local: datetime) -> bool:
    """Is `local` (the member's wall clock) inside their hours? A shift past midnight belongs to
    the day it starts on."""
    if hours.get("off"):
        return True
    minute = local.hour * 60 + local.minute
    start, end, days = hours["start"], hours["end"], hours["days"]
    if start < end:
        return local.weekday() in days and start <= minute < end
    if minute >= start:
        return local.weekday() in days
    return minute < end and (local.weekday() - 1) % 7 in days


def is_night(local: datetime) -> bool:
    minute = local.hour * 60 + local.minute
    return minute >= NIGHT_START or minute < NIGHT_END


def mark(local: datetime, people) -> tuple[str, list[str]]:
    """The mark for one zone line: (NIGHT or HOME or "", the names it applies to). `people` are
    (name, hours) of the members in that zone; someone whose hours cover the time (a night shift)
    or who turned marks off is never marked."""
    away = [name for name, hours in people if not working(hours, local)]
    if not away:
        return "", []
    return (NIGHT if is_night(local) else HOME), away


def names(people: list[str], most: int = 3) -> str:
    """"Ana, Bo, Cy +3 more": short in a big chat."""
    unique = sorted(set(people), key=str.casefold)
    shown = ", ".join(unique[:most])
    return shown + (f" +{len(unique) - most} more" if len(unique) > most else "")


def people_by_zone(chat: dict, leave_out: str = "") -> dict[str, list[tuple[str, dict]]]:
    """zone -> [(name, hours)] of the chat's members with a zone, `leave_out` (the writer) aside."""
    found: dict[str, list[tuple[str, dict]]] = {}
    for user_id, member in (chat.get("members") or {}).items():
        if member.get("tz") and user_id != leave_out:
            found.setdefault(member["tz"], []).append((member.get("name") or "someone", of(member)))
    return found


# ----------------------------------------------------------------------------- /overlap
_DURATION = re.compile(r"^(\d+(?:[.,]\d+)?)\s*(h|hr|hrs|hours?|m|min|mins|minutes?)?$")


def parse_overlap(args: str) -> tuple[int, int]:
    """`[duration] [days]` -> (minutes, working days): "1h", "90m", "45", "1.5h 10", "2h 3d".
    A bare number from 15 up is minutes, below that working days."""
    minutes, days = 30, 5
    for word in args.lower().replace("days", "d").replace("day", "d").split():
        if word.endswith("d") and word[:-1].isdigit():
            days = int(word[:-1])
            continue
        found = _DURATION.match(word)
        if not found:
            raise HoursError("Use /overlap [duration] [days]: /overlap, /overlap 1h, /overlap 45m 10.")
        value, unit = float(found.group(1).replace(",", ".")), found.group(2) or ""
        if unit.startswith("h"):
            minutes = round(value * 60)
        elif unit or value >= 15:
            minutes = round(value)
        else:
            days = int(value)
    if not 15 <= minutes <= 8 * 60:
        raise HoursError("A meeting from 15 minutes to 8 hours: /overlap 30m, /overlap 2h.")
    if not 1 <= days <= 14:
        raise HoursError("Look 1 to 14 working days ahead: /overlap 1h 10.")
    return minutes, days


class Window:
    """A stretch of time in which a meeting of the asked length fits for everyone but `left_out`."""

    def __init__(self, start: datetime, end: datetime, left_out: tuple[str, ...]):
        self.start, self.end, self.left_out = start, end, left_out


def overlap(people: list[tuple[str, str, dict]], now: datetime, minutes: int, days: int,
            day_zone: str = "UTC") -> tuple[list[Window], datetime]:
    """The best windows for a meeting of `minutes` in the next `days` working days (Mon-Fri in
    `day_zone`, today included). `people`: (name, zone, hours). Every instant is turned into each
    member's wall clock with its real offset on that date, so a clock change is counted where it
    happens. Best first: fewest people left out, then soonest; at most MAX_WINDOWS. Also returns
    the end of the span searched."""
    from teamops.mentions import zone_for

    step = timedelta(minutes=SLOT_MINUTES)
    first = now.astimezone(timezone.utc).replace(second=0, microsecond=0)
    first += timedelta(minutes=-first.minute % SLOT_MINUTES)
    home = zone_for(day_zone)
    day, counted = now.astimezone(home).date(), 0
    while True:
        if day.weekday() < 5:
            counted += 1
            if counted == days:
                break
        day += timedelta(days=1)
    last = datetime(day.year, day.month, day.day, tzinfo=home) + timedelta(days=1)
    slots = max(0, int((last - first) / step))
    # Members with the same zone and hours share one pass over the slots.
    groups: dict[tuple, tuple[str, dict, list[str]]] = {}
    for name, tz, hours in people:
        key = (tz, repr(sorted(hours.items())))
        groups.setdefault(key, (tz, hours, []))[2].append(name)
    free: list[tuple[list[str], list[bool]]] = []
    for tz, hours, group in groups.values():
        zone = zone_for(tz)
        free.append((group, [working(hours, (first + i * step).astimezone(zone)) for i in range(slots)]))
    need = -(-minutes // SLOT_MINUTES)
    everyone = sum(len(g) for g, _ in free)
    # For each possible start: who cannot make the whole meeting.
    starts: list[tuple[str, ...] | None] = []
    for i in range(slots - need + 1):
        out = tuple(sorted(n for group, row in free if not all(row[i:i + need]) for n in group))
        starts.append(out if len(out) < everyone else None)
    windows: list[Window] = []
    i = 0
    while i < len(starts):
        if starts[i] is None:
            i += 1
            continue
        j = i
        while j + 1 < len(starts) and starts[j + 1] == starts[i]:
            j += 1
        begin = first + i * step
        windows.append(Window(begin, first + j * step + timedelta(minutes=minutes), starts[i]))
        i = j + 1
    windows = [w for w in windows if w.start >= now - step]
    windows.sort(key=lambda w: (len(w.left_out), w.start))
    best = windows[:MAX_WINDOWS]
    fewest = len(best[0].left_out) if best else 0
    return [w for w in best if len(w.left_out) == fewest] or best, last
