"""Zones: the names a user types (`/tz X`), and the zones written next to a time in a message
("3pm PT", "15:00 по Москве", "10:00 (Berlin)", "all times CET:").

An abbreviation names a REGION and follows its DST; ambiguous ones are settled toward the chat's
zones (teamops.zonetable says how). "my time"/"local time" is the sender's zone, said.
"""

from __future__ import annotations

import re
from datetime import timedelta, timezone, tzinfo
from functools import lru_cache
from typing import Sequence
from zoneinfo import ZoneInfo

from teamops import zonetable as T

_FIXED_NAME = re.compile(r"UTC([+-])(\d\d):(\d\d)")
_OFFSET_TEXT = re.compile(r"(?:UTC|GMT|UT)?[ \t]*([+\-−±])[ \t]*(\d{1,2})(?::?(\d\d))?", re.I)


@lru_cache(maxsize=1024)
def zone_for(name: str) -> tzinfo:
    """IANA name or "UTC±HH:MM" -> tzinfo (cached). ValueError when unknown."""
    if name == "UTC":
        return timezone.utc
    fixed = _FIXED_NAME.fullmatch(name)
    if fixed:
        delta = timedelta(hours=int(fixed[2]), minutes=int(fixed[3]))
        if delta > timedelta(hours=14) or int(fixed[3]) >= 60:
            raise ValueError(f"offset out of range: {name}")
        return timezone(delta if fixed[1] == "+" else -delta)
    try:
        return ZoneInfo(name)
    except Exception as exc:  # ZoneInfoNotFoundError (a KeyError), ValueError, IsADirectoryError
        raise ValueError(f"unknown time zone: {name}") from exc


def offset_zone(sign: str, hours: int, minutes: int) -> str | None:
    if hours > 14 or minutes >= 60 or (hours == 14 and minutes):
        return None
    if hours == 0 and minutes == 0:
        return "UTC"
    return f"UTC{'+' if sign == '+' else '-'}{hours:02d}:{minutes:02d}"


def abbreviation_zone(abbreviation: str, chat_zones: Sequence[str]) -> str:
    meanings = T.ABBREVIATIONS[abbreviation]
    if chat_zones:
        for _default, members in meanings:
            for zone in chat_zones:
                if zone in members:
                    return zone
    return meanings[0][0]


@lru_cache(maxsize=1)
def _iana_by_lower() -> dict[str, str]:
    import zoneinfo

    return {name.lower(): name for name in zoneinfo.available_timezones() if name != "Factory"}


@lru_cache(maxsize=1)
def zone_names() -> tuple[str, ...]:
    """Every IANA zone name tzdata knows, sorted (for suggestions while typing)."""
    return tuple(sorted(_iana_by_lower().values()))


def is_iana(name: str) -> bool:
    """An IANA zone name exactly as tzdata spells it (aliases such as Asia/Calcutta included)."""
    return _iana_by_lower().get(name.lower()) == name


def resolve_zone(name: str, chat_zones: Sequence[str] = ()) -> str | None:
    """A zone the user typed (`/tz X`, `/zones add X`) -> IANA name or "UTC±HH:MM"; None if unknown.

    Accepts IANA names (any case), UTC/GMT offsets ("UTC+3", "GMT-5", "UTC+05:30", "+0200") and
    the abbreviations of zonetable (ambiguous ones settled toward chat_zones). Cities are
    teamops.cities' job.
    """
    text = (name or "").strip()
    if not text or len(text) > 64:
        return None
    upper = text.upper()
    if upper in T.ABBREVIATIONS:
        return abbreviation_zone(upper, chat_zones)
    offset = _OFFSET_TEXT.fullmatch(text)
    if offset and offset[1] != "±":
        return offset_zone("-" if offset[1] in "-−" else "+", int(offset[2]), int(offset[3] or 0))
    if text.startswith(("+", "-", "−")) or " " in text:
        return None
    if text == "UTC":
        return text
    return _iana_by_lower().get(text.lower())


def _signed(tz: str, found: re.Match) -> str | None:
    """"UTC+3", "GMT-05:30": an offset written on UTC/GMT; on any other abbreviation, nothing."""
    if tz != "UTC":
        return None
    return offset_zone("-" if found.group("sign") in "-−" else "+", int(found.group("oh")), int(found.group("om") or 0))


def zone_after(P, scan: str, pos: int, after_ampm: bool, chat_zones: Sequence[str]):
    """(tz, explicit, end) for a zone written at `pos`, else None; tz None = "my time"."""
    return _known_zone_after(P, scan, pos, after_ampm, chat_zones) or _place_after(P, scan, pos)


# A place the lexicon does not name, read from the city data: "10am Karachi time" (any city of
# 50,000 people or more), "10am in Honolulu" (without "time", only a city of 300,000 or more).
_PLACE_WITH_TIME, _PLACE_ALONE = 50_000, 300_000


def _place_after(P, scan: str, pos: int):
    found = P.place_after.match(scan, pos)
    if not found or not (found.group("time") or found.group("in")):
        return None
    from teamops import cities

    name = " ".join(found.group("name").split())
    folded = cities.fold(name)
    exact = [c for c in cities.search(name) if cities.fold(c.name) == folded]
    if not exact:
        return None
    best = max(exact, key=lambda c: c.population)
    if best.population < (_PLACE_WITH_TIME if found.group("time") else _PLACE_ALONE):
        return None
    if any(c.tz != best.tz and c.population * 3 > best.population for c in exact):
        return None  # "Springfield", "Victoria": no one place of that name stands out
    return best.tz, True, found.end()


def _known_zone_after(P, scan: str, pos: int, after_ampm: bool, chat_zones: Sequence[str]):
    found = P.zone_after.match(scan, pos)
    if not found:
        return None
    end = found.end()
    if found.group("iana"):
        name = found.group("iana")
        try:
            zone_for(name)
        except ValueError:
            return None
        return name, True, end
    abbr = found.group("abbr")
    if abbr:
        upper = abbr.upper()
        if upper not in T.ABBREVIATIONS or upper == "Z":
            return None
        if not abbr.isupper():
            lower = abbr.lower()
            if lower not in T.LOWERCASE_OK and not (after_ampm and lower in T.LOWERCASE_AFTER_AMPM):
                return None
        tz = abbreviation_zone(upper, chat_zones)
        if found.group("sign"):
            tz = _signed(tz, found)
            if tz is None:
                return None
        return tz, True, end
    if found.group("raw"):
        tz = offset_zone("-" if found.group("raw") in "-−" else "+", int(found.group("rh")), int(found.group("rm")))
        return (tz, True, end) if tz else None
    if found.group("my"):
        return None, False, end
    if found.group("phrase"):
        return P.zone_phrases[" ".join(found.group("phrase").lower().split())], True, end
    if found.group("city"):
        city = " ".join(found.group("city").lower().split())
        if city in P.L.city_needs_time and not found.group("time") and not (
                city in P.L.city_capitalised_ok and found.group("city")[0].isupper()
                and not P.capital_word_next.match(scan, end)):
            return None  # "10am central" is a word; "10am Central" a zone, "10:00 Central Station" a place
        return P.L.city_hints[city], True, end
    if found.group("code"):
        return T.CITY_CODES[found.group("code")], True, end
    return None


_ZONE_BEFORE = re.compile(r"(?<![\w])(?P<abbr>[A-ZА-Я]{2,5})(?:(?P<sign>[+\-−])(?P<oh>[0-9]{1,2})(?::?(?P<om>[0-9]{2}))?)?[ \t]*:?[ \t]*\Z")


def zone_before(scan: str, start: int, chat_zones: Sequence[str]):
    """"UTC 15:00", "CET: 10:00": an abbreviation in capitals right before a time."""
    found = _ZONE_BEFORE.search(scan, max(0, start - 16), start)
    if not found:
        return None
    upper = found.group("abbr")
    if upper not in T.ABBREVIATIONS:
        return None
    tz = abbreviation_zone(upper, chat_zones)
    if found.group("sign"):
        tz = _signed(tz, found)
        if tz is None:
            return None
    return tz, found.start()


# Abbreviations that are also everyday words or acronyms do not count apart from a time.
_DETACHED_NOT = frozenset({"GET", "PET", "CAT", "ART", "MET", "EAT", "UT", "AMT", "AST", "SST", "GST", "Z", "ZULU"})
_CLOSE = re.compile(r"[ \t]*\)")
_HEADING_END = re.compile(r"[ \t]*(?:[:)\n]|\Z)")


def apply_detached_zones(P, scan: str, readings, chat_zones: Sequence[str], sentence_of) -> None:
    """A zone written apart from the times: "15:00 standup (UTC+3)", "agenda, all times CET:". In
    brackets it covers the zone-less times of its sentence; after "all times (in)" the whole message."""
    for found in P.detached.finditer(scan):
        zone = zone_after(P, scan, found.end(), True, chat_zones)
        if zone is None:
            continue
        tz, explicit, end = zone
        if tz is None or scan[found.end():end].strip().upper() in _DETACHED_NOT:
            continue
        if found.group("open") and not _CLOSE.match(scan, end):
            continue
        if found.group("all") and not _HEADING_END.match(scan, end):
            continue  # "all times in Paris were booked": a heading ends with ":", ")" or the sentence
        if any(r.start <= found.start() < r.end for r in readings):
            continue  # part of a time's own zone: "15:00 (UTC+3)"
        whole = bool(found.group("all") or found.group("times"))
        sentence = sentence_of(found.start())
        for reading in readings:
            if reading.tz is None and (whole or sentence_of(reading.start) == sentence):
                reading.tz, reading.explicit = tz, explicit
