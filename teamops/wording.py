"""What the assistant says, as platform-neutral spans: conversions, prompts, command answers.

Written for a phone screen: one line per zone, the time first (digits line up well enough in any
font), a flag and a place name a person recognises, the zone's UTC offset at that instant, and a
plain "next day" / "previous day" where the date changes.
"""

from __future__ import annotations

import logging
import os
import re
from datetime import datetime, timedelta, timezone
from functools import lru_cache

from teamops import working_hours
from teamops.events import TIME, WEEKDAY_TIME, Moment, Span

log = logging.getLogger("teamops.wording")

WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


@lru_cache(maxsize=1)
def _zone_countries() -> dict[str, str]:
    """IANA zone -> ISO country code, from tzdata's zone.tab (read once, on first reply)."""
    import tzdata

    path = os.path.join(os.path.dirname(tzdata.__file__), "zoneinfo", "zone.tab")
    countries: dict[str, str] = {}
    try:
        with open(path, encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("#"):
                    continue
                parts = line.rstrip("\n").split("\t")
                if len(parts) >= 3:
                    countries[parts[2]] = parts[0]
    except OSError:
        pass
    return countries


def flag(tz: str) -> str:
    code = _zone_countries().get(tz, "")
    if len(code) != 2:
        return ""
    return "".join(chr(0x1F1E6 + ord(ch) - ord("A")) for ch in code.upper())


def labelled(tz: str, text: str) -> str:
    """`text` behind the zone's country flag, when the zone has one."""
    mark = flag(tz)
    return f"{mark} {text}" if mark else text


def place(tz: str) -> str:
    """A readable place for a zone: "America/Argentina/Buenos_Aires" -> "Buenos Aires"."""
    if tz.startswith(("UTC+", "UTC-")) or tz in ("UTC", "Etc/UTC", "GMT"):
        return "UTC" if tz in ("Etc/UTC", "GMT") else tz
    return tz.rsplit("/", 1)[-1].replace("_", " ")


def offset_label(moment: datetime) -> str:
    """UTC offset of an aware instant, e.g. "UTC+5:30", "UTC−5", "UTC" (true minus sign)."""
    delta = moment.utcoffset() or timedelta(0)
    minutes = int(delta.total_seconds() // 60)
    if minutes == 0:
        return "UTC"
    sign = "+" if minutes > 0 else "\u2212"
    hours, mins = divmod(abs(minutes), 60)
    return f"UTC{sign}{hours}" + (f":{mins:02d}" if mins else "")


def clock(moment: datetime, time_format: str) -> str:
    if time_format == "12h":
        hour = moment.hour % 12 or 12
        suffix = "AM" if moment.hour < 12 else "PM"
        return f"{hour}:{moment.minute:02d} {suffix}" if moment.minute else f"{hour} {suffix}"
    return f"{moment.hour:02d}:{moment.minute:02d}"


_AM_PM = re.compile(r"(?i)\d\s*(?:[ap]\.?m\b\.?)")


def format_of(mentions) -> str:
    """A chat without a /format choice gets replies in the style the writer used: 3pm -> 12h."""
    return "12h" if any(_AM_PM.search(m.text) for m in mentions) else "24h"


def day_label(moment: datetime) -> str:
    return f"{WEEKDAYS[moment.weekday()]} {moment.day} {MONTHS[moment.month - 1]}"


def _day_shift(converted: datetime, source: datetime) -> str:
    days = (converted.date() - source.date()).days
    if days == 0:
        return ""
    word = "next day" if days == 1 else "previous day" if days == -1 else f"{days:+d} days"
    return f" ({WEEKDAYS[converted.weekday()]}, {word})"


@lru_cache(maxsize=1024)
def _loadable(tz: str) -> bool:
    """A stored zone this build cannot load (renamed away in a tzdata update, or bad data) is
    left out of replies rather than failing every message of the chat."""
    from teamops.mentions import zone_for

    try:
        zone_for(tz)
        return True
    except ValueError:
        log.warning("skipping a zone that does not load")
        return False


def _zone_key(tz: str, instant: datetime) -> tuple:
    from teamops.mentions import zone_for

    local = instant.astimezone(zone_for(tz))
    return (local.utcoffset(), place(tz))


def conversion(mentions, zones, today: datetime | None = None, time_format: str = "24h",
               guessed: bool = False, people: dict | None = None) -> tuple[Span, ...]:
    """The reply for one message's mentions, or () when no mention has another zone to show.

    `zones` are the chat's IANA zones; each mention lists every zone but its own. `today` is the
    moment the message was sent (aware), used to decide whether the header needs a date.
    `guessed`: the mentions are the language model's reading, and each one says so ("≈ read …"),
    so the writer can see it and correct it. `people`: zone -> [(name, hours)] of the members to
    mark (working_hours.people_by_zone): a zone line that is night for them starts with 🌙, one
    outside their hours with 🏠 and their names; a night for anyone also leads the reply, so a
    time proposed in the middle of someone's night is hard to miss.
    """
    from teamops.mentions import zone_for

    spans: list[Span] = []
    shown: set = set()
    for mention in mentions:
        start = mention.utc()
        end = mention.end_utc()
        if (start, end) in shown:
            continue  # "14:00 CET (8am ET)": one moment written twice is answered once
        shown.add((start, end))
        source_zone = zone_for(mention.tz)
        source_start = start.astimezone(source_zone)
        others = sorted({z for z in zones if z != mention.tz and _loadable(z)}, key=lambda z: _zone_key(z, start))
        if not others:
            continue
        if spans:
            spans.append(Span("\n\n"))
        head = clock(source_start, time_format)
        if end is not None:
            head += "\u2013" + clock(end.astimezone(source_zone), time_format)
        nights: list[str] = []
        head_mark, head_names = _marked(source_start, people, mention.tz)
        if head_mark == working_hours.NIGHT:
            nights.append(f"{clock(source_start, time_format)} {place(mention.tz)} ({working_hours.names(head_names)})")
        lead = len(spans)
        spans.append(Span(head, bold=True))
        where = f" {labelled(mention.tz, place(mention.tz))}"
        sender_today = (today or start).astimezone(source_zone).date()
        if mention.day_explicit or source_start.date() != sender_today:
            where += f", {day_label(source_start)}"
        if head_mark == working_hours.HOME:
            where += f" {head_mark} {working_hours.names(head_names)}"
        spans.append(Span(where))
        notes = _notes(mention, source_start, time_format, guessed)
        if notes:
            spans.append(Span(f"\n{notes}"))
        spans.extend(reader_clock(start, end, time_format))
        for tz in others:
            zone = zone_for(tz)
            local_start = start.astimezone(zone)
            line = clock(local_start, time_format)
            if end is not None:
                line += "\u2013" + clock(end.astimezone(zone), time_format)
            label = labelled(tz, place(tz))
            symbol, away = _marked(local_start, people, tz)
            spans.append(Span("\n"))
            if symbol:
                spans.append(Span(symbol + " "))
            spans.append(Span(line, bold=True))
            spans.append(Span(f"  {label} ({offset_label(local_start)}){_day_shift(local_start, source_start)}"))
            if symbol == working_hours.HOME:
                spans.append(Span(f" \u00b7 {working_hours.names(away)}"))
            elif symbol:
                nights.append(f"{clock(local_start, time_format)} {place(tz)} ({working_hours.names(away)})")
        if nights:
            # Night for someone: said first, in one line, before anything else about this time.
            spans.insert(lead, Span(f"{working_hours.NIGHT} " + "; ".join(nights) + "\n", bold=True))
    return tuple(spans)


def _marked(local: datetime, people: dict | None, tz: str) -> tuple[str, list[str]]:
    if not people or tz not in people:
        return "", []
    return working_hours.mark(local, people[tz])


def reader_clock(start: datetime, end: datetime | None, time_format: str) -> tuple[Span, ...]:
    """The line that shows the moment on each reader's own clock, whatever zone they are in (or
    never told us): moments a client renders in its reader's zone, with UTC text as the fallback."""
    start_utc = start.astimezone(timezone.utc)
    line = [
        Span("\n\U0001f552 on your clock: ", reader_clock=True),
        Span(
            f"{WEEKDAYS[start_utc.weekday()]} {clock(start_utc, time_format)} UTC",
            moment=Moment(int(start_utc.timestamp()), WEEKDAY_TIME),
            reader_clock=True,
        ),
    ]
    if end is not None:
        end_utc = end.astimezone(timezone.utc)
        line.append(Span("\u2013", reader_clock=True))
        line.append(Span(f"{clock(end_utc, time_format)} UTC", moment=Moment(int(end_utc.timestamp()), TIME), reader_clock=True))
    return tuple(line)


def _notes(mention, source_start: datetime, time_format: str, guessed: bool = False) -> str:
    notes = []
    if guessed:
        notes.append(f"\u2248 read \u201c{mention.text.strip()}\u201d as {clock(source_start, time_format)}")
    elif mention.inferred:
        notes.append(f"(read \u201c{mention.text.strip()}\u201d as {clock(source_start, time_format)})")
    if mention.dst == "nonexistent":
        notes.append(
            f"(clocks spring forward in {place(mention.tz)} that day: "
            f"{clock(mention.local, time_format)} does not exist, read as {clock(source_start, time_format)})"
        )
    elif mention.dst == "ambiguous":
        notes.append(
            f"(clocks fall back in {place(mention.tz)} that day: "
            f"{clock(mention.local, time_format)} happens twice, read as the first, {offset_label(source_start)})"
        )
    return " ".join(notes)


def verify_prompt(user_name: str) -> tuple[Span, ...]:
    return (
        Span(f"{user_name}, which time zone are you in? "),
        Span("Tap the button", bold=True),
        Span(" to set it from your browser and I will convert the times you write for everyone here. Or send /tz and your city."),
    )


def zone_set(user_name: str | None, tz: str, now: datetime | None = None) -> tuple[Span, ...]:
    from teamops.mentions import zone_for

    local = (now or datetime.now(timezone.utc)).astimezone(zone_for(tz))
    return (
        Span(f"{user_name} is on " if user_name else "Time zone set: "),
        Span(tz, bold=True),
        Span(f" (now {clock(local, '24h')}, {offset_label(local)})."),
    )


def now_in_zones(zones, now: datetime, time_format: str = "24h") -> tuple[Span, ...]:
    from teamops.mentions import zone_for

    spans: list[Span] = [Span("Now:", bold=True)]
    utc_now = now.astimezone(timezone.utc)
    for tz in sorted({z for z in zones if _loadable(z)}, key=lambda z: _zone_key(z, utc_now)):
        local = utc_now.astimezone(zone_for(tz))
        label = labelled(tz, place(tz))
        spans.append(Span("\n"))
        spans.append(Span(clock(local, time_format), bold=True))
        spans.append(Span(f"  {label}, {WEEKDAYS[local.weekday()]} ({offset_label(local)})"))
    return tuple(spans)


def zone_list(chat: dict, team_zones=()) -> tuple[Span, ...]:
    """The chat's zones, each with who is in it, ordered by offset now."""
    from teamops.mentions import zone_for

    people: dict[str, list[str]] = {}
    for member in (chat.get("members") or {}).values():
        if member.get("tz"):
            people.setdefault(member["tz"], []).append(member.get("name") or "someone")
    extra = set(chat.get("extra_zones") or ()) | set(team_zones)
    zones = set(people) | extra
    if not zones:
        return (Span("No zones here yet. Each member can set theirs with /tz; /zones add Asia/Tokyo adds one for the chat."),)
    now = datetime.now(timezone.utc)
    spans: list[Span] = [Span("Zones in this chat:", bold=True)]
    for tz in sorted((z for z in zones if _loadable(z)), key=lambda z: _zone_key(z, now)):
        local = now.astimezone(zone_for(tz))
        who = ", ".join(sorted(people.get(tz, [])))
        if tz in extra:
            who = f"{who}, added for the chat" if who else "added for the chat"
        spans.append(Span("\n"))
        spans.append(Span(labelled(tz, tz), bold=True))
        spans.append(Span(f" ({offset_label(local)}): {who}"))
    unknown = [m.get("name") or "someone" for m in (chat.get("members") or {}).values() if not m.get("tz")]
    if unknown:
        spans.append(Span(f"\nZone not set yet: {', '.join(sorted(unknown))}"))
    return tuple(spans)


def relocation_question(user_name: str, tz: str) -> tuple[Span, ...]:
    return (Span(f"{user_name}, should I switch your zone to "), Span(tz, bold=True), Span("?"))


def place_guess(user_name: str, place: str, label: str) -> tuple[Span, ...]:
    """The language model's reading of a place the city data did not know, offered for a yes."""
    return (
        Span(f"{user_name}, \u2248 \u201c{place[:60]}\u201d looks like "),
        Span(label, bold=True),
        Span(" to me. Set it as your zone?"),
    )


# ----- team awareness: working hours, /overlap, "not a time" -----
def hours_are(user_name: str, hours: dict, chosen: bool) -> tuple[Span, ...]:
    said = working_hours.describe(hours)
    if hours.get("off"):
        return (Span(f"{user_name}, your working hours are "), Span("off", bold=True),
                Span(": conversions never mark you. /hours 9-18 turns them back on."))
    tail = "" if chosen else " (the default; set yours with /hours 08:30-17:00 mon-thu)"
    return (Span(f"{user_name}, your working hours are "), Span(said, bold=True),
            Span(f" in your zone{tail}. Outside them a converted time shows {working_hours.HOME}, "
                 f"at night {working_hours.NIGHT}. /hours off: never marked."))


def learned(shapes) -> tuple[Span, ...]:
    if not shapes:
        return (Span("I haven't learned any \u201cnot a time\u201d patterns here. React \u274c to one of my "
                     "conversions (or answer it \u201cnot a time\u201d) and I'll stay silent on that pattern here."),)
    listed = ", ".join(f"\u201c{shape}\u201d" for shape in sorted(shapes)[:20])
    more = f" +{len(shapes) - 20} more" if len(shapes) > 20 else ""
    return (Span("Not times here", bold=True),
            Span(f" (# is any digit; learned from \u274c): {listed}{more}. /zones unlearn forgets them."))


def unlearned(count: int) -> tuple[Span, ...]:
    return (Span(f"Forgot {count} \u201cnot a time\u201d pattern{'s' if count != 1 else ''}: I convert them here again."),)


def overlap(windows, zones, minutes: int, days: int, counted: int, time_format: str = "24h",
            unset=(), opted_out=()) -> tuple[Span, ...]:
    """/overlap's answer: each window in every zone of the chat, and as a moment on the reader's
    own clock. A window is a stretch in which a meeting of `minutes` fits anywhere."""
    from teamops.mentions import zone_for

    length = f"{minutes // 60} h" + (f" {minutes % 60} min" if minutes % 60 else "") if minutes >= 60 else f"{minutes} min"
    if not windows:
        return (Span(f"No {length} when even two of the {counted} members here are all at work in the next "
                     f"{days} working days."),)
    left_out = windows[0].left_out
    if left_out:
        head = (f"No {length} when all {counted} are at work in the next {days} working days. "
                f"Closest, leaving out {working_hours.names(list(left_out))}:")
    else:
        head = f"{length} when all {counted} are at work, next {days} working days (best first):"
    spans: list[Span] = [Span(head, bold=True)]
    for number, window in enumerate(windows, 1):
        start_utc = window.start.astimezone(timezone.utc)
        spans.append(Span(f"\n\n{number}."))
        if window.left_out and window.left_out != left_out:
            spans.append(Span(f" (without {working_hours.names(list(window.left_out))})"))
        spans.extend(reader_clock(window.start, window.end, time_format))
        for tz in sorted({z for z in zones if _loadable(z)}, key=lambda z: _zone_key(z, start_utc)):
            zone = zone_for(tz)
            local, local_end = window.start.astimezone(zone), window.end.astimezone(zone)
            spans.append(Span("\n"))
            spans.append(Span(f"{clock(local, time_format)}\u2013{clock(local_end, time_format)}", bold=True))
            spans.append(Span(f"  {labelled(tz, place(tz))}, {WEEKDAYS[local.weekday()]} ({offset_label(local)})"))
    if unset or opted_out:
        spans.append(Span("\n\n"))
        if unset:
            spans.append(Span(f"Not counted, zone unknown: {working_hours.names(list(unset))}. "))
        if opted_out:
            spans.append(Span(f"Not counted, hours off: {working_hours.names(list(opted_out))}."))
    return tuple(spans)


# ----- clock-change notices -----
def _span_of(delta: timedelta) -> str:
    minutes = abs(int(delta.total_seconds() // 60))
    hours, rest = divmod(minutes, 60)
    return f"{hours} h" + (f" {rest} min" if rest else "") if hours else f"{rest} min"


def _apart(delta: timedelta, other: str) -> str:
    if not delta:
        return f"on the same time as {place(other)}"
    return f"{_span_of(delta)} {'ahead of' if delta > timedelta(0) else 'behind'} {place(other)}"


def clock_change(tz: str, instant: datetime, comparisons) -> str:
    """One zone's change, against the chat's other zones whose difference to it changes:
    "From Sun 14 Mar, New York is 4 h behind Lisbon instead of 5 h (for 2 weeks)"."""
    from teamops.mentions import zone_for

    local = instant.astimezone(zone_for(tz))
    parts = []
    for other, old, new, until, _ in comparisons[:3]:
        part = _apart(new, other)
        same_side = (old > timedelta(0)) == (new > timedelta(0)) and old and new
        part += f" instead of {_span_of(old)}" if same_side else f" instead of {_apart(old, other)}"
        if until is not None:
            hours = (until - instant).total_seconds() / 3600
            days = round(hours / 24)
            if hours < 36:
                part += f" (for {round(hours)} h)"
            else:
                part += f" (for {days} days)" if days < 14 else f" (for {round(days / 7)} weeks)"
        parts.append(part)
    if len(comparisons) > 3:
        parts.append(f"{len(comparisons) - 3} more zones")
    joined = parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]
    return f"From {day_label(local)}, {place(tz)} is {joined}."


def clock_notice(sentences) -> tuple[Span, ...]:
    return (Span("\u23f0 Clocks change soon. ", bold=True), Span("\n".join(sentences)))
