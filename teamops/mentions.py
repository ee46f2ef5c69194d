"""The time-mention engine: finds the clock times a chat message mentions and resolves each one to
a wall-clock date and time in a zone (issue 3). Hand-built and table-driven; the words it knows
are in teamops.zonetable.

Reading rules (the reply and `app.py parse` follow the same ones):
- H:MM without am/pm is 24-hour. Four digits are a time only with Z/UTC/GMT ("1500Z").
- A bare hour needs a cue: at, @, around, till, until, before, after, o'clock, -ish, a zone, a
  day part, Russian в/к/около/после, German um/gegen/ab/bis/Uhr, French à/vers/dès, Spanish
  "a las", Portuguese às/até; a range starter (from, between, с, от, von, de, entre, das) only
  counts when a range follows. Never when a counted noun follows ("at 3 retries", "в 3 раза").
  13-23 is that hour; 1-12 takes a day part when one is written ("в 7 вечера" = 19:00),
  otherwise the business-hours reading between 08:00 and 19:59 (8-11 -> morning, 12 -> noon,
  1-7 -> afternoon/evening), marked `inferred`. A leading zero ("at 07") is read literally.
- "15h", "15h30" (French/Portuguese) are 24-hour; without a cue only 13h-23h and HhMM from 7h
  count, because "2h meeting" and "1h30" are durations. "15.30" needs a cue, am/pm or a zone.
- Day: today in the zone the time is expressed in; tomorrow +1, the day after tomorrow +2,
  yesterday -1; a weekday is its next occurrence with today counting ("next <weekday>" skips
  today); "Mar 5", "5 марта", "5. März", "le 5 mars", "5 de marzo", an ISO date
  "2025-03-05 15:00" and a dotted day.month written right before the time ("5.03 15:00") set the
  date; a month-day without a year is its first occurrence at most 60 days back ("Mar 5" written
  in July is next March; "Jun 20" written on Jul 1 is last month's). A day word
  covers every time of its sentence; with several, each time takes the nearest one.
  "midnight" (and "полночь", "minuit", ...) is the end of its day: "at midnight" is the coming
  one, "Friday midnight" the night into Saturday; "12am" and "00:00" are the start of the day.
  "on the 15th" is the next 15th, today counting.
  Out of scope: numeric d/m and m/d dates ("03/05"), "next week", "in 2 days".
- A range is one mention. A bare start takes the end's am/pm or day part unless that puts it
  after the end ("11-1pm" = 11:00-13:00); a bare end is the first reading after the start; an
  end before the start is on the next day.
- A zone written after the last time of a sentence also covers the zone-less times before it
  in that sentence ("10am or 2pm PT"). Abbreviations name a region and follow its DST; see
  zonetable for the ambiguity rule. "my time"/"local time" is the sender's zone (not explicit).
- Never read: inline code and fenced code blocks, URLs, <@user>/<#channel>/<t:...> tokens,
  lines quoted with ">" (a quote was converted when it was first posted), our own conversion
  replies pasted back (see _BOT_LINE), file:line:col, versions, IPs, prices, percentages,
  scores, ratios (16:10 aspect ratio), verses (John 3:16), clock times with seconds (log stamps),
  durations and relative times.

DST rule, for every zone with transitions: a wall time that does not exist (spring forward) is
read with the offset in force before the gap, i.e. shifted forward by the gap (02:30 -> 03:30
in New York); a wall time that happens twice (fall back) is the first occurrence (fold=0, the
daylight-saving offset). Both are flagged in Mention.dst; `local` keeps the time as written.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from datetime import date, datetime, timedelta, timezone, tzinfo
from functools import lru_cache
from typing import Sequence
from zoneinfo import ZoneInfo

import msgspec

from teamops import zonetable as T


class Mention(msgspec.Struct, frozen=True):
    text: str  # TEXT[start:end]
    start: int
    end: int
    local: datetime  # naive wall-clock start, in `tz`
    tz: str  # IANA name, "UTC", or a fixed offset "UTC+05:30" / "UTC-05:00"
    tz_explicit: bool  # the message named the zone
    inferred: bool  # an hour was guessed (bare hour read as business hours)
    end_local: datetime | None = None  # ranges only, same tz
    day_explicit: bool = False  # a day word, weekday or date applied
    dst: str | None = None  # None | "nonexistent" | "ambiguous", of the start

    def zone(self) -> tzinfo:
        return zone_for(self.tz)

    def utc(self) -> datetime:
        """The UTC instant of the start; DST gaps and overlaps resolved as the module says."""
        return self.local.replace(tzinfo=zone_for(self.tz)).astimezone(timezone.utc)

    def end_utc(self) -> datetime | None:
        if self.end_local is None:
            return None
        return self.end_local.replace(tzinfo=zone_for(self.tz)).astimezone(timezone.utc)


# ----------------------------------------------------------------------------------------------
# Zones
# ----------------------------------------------------------------------------------------------

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


def _offset_zone(sign: str, hours: int, minutes: int) -> str | None:
    if hours > 14 or minutes >= 60 or (hours == 14 and minutes):
        return None
    if hours == 0 and minutes == 0:
        return "UTC"
    return f"UTC{'+' if sign == '+' else '-'}{hours:02d}:{minutes:02d}"


def _abbreviation_zone(abbreviation: str, chat_zones: Sequence[str]) -> str:
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
        return _abbreviation_zone(upper, chat_zones)
    offset = _OFFSET_TEXT.fullmatch(text)
    if offset and offset[1] != "±":
        return _offset_zone("-" if offset[1] in "-−" else "+", int(offset[2]), int(offset[3] or 0))
    if text.startswith(("+", "-", "−")) or " " in text:
        return None
    if text == "UTC":
        return text
    return _iana_by_lower().get(text.lower())


# ----------------------------------------------------------------------------------------------
# What never counts: code, links, platform tokens, quotes, our own replies pasted back
# ----------------------------------------------------------------------------------------------

_MASK = re.compile(
    r"```[\s\S]*?(?:```|\Z)"  # fenced code; an unclosed fence runs to the end
    r"|^[ \t]*~~~[\s\S]*?(?:^[ \t]*~~~|\Z)"  # the other Markdown fence
    r"|`[^`\n]*`"  # inline code
    r"|<(?:[@#!]|t:|a?:\w+:)[^<>\n]*>"  # <@U0PM12> <#C1|general> <!here> <t:1700000000:t> <:emoji:1>
    r"|<https?://[^<>\s]*>"
    r"|(?:https?|ftp)://[^\s<>\"]+"
    r"|(?<![\w.])www\.[^\s<>\"]+"
    r"|(?<![\w.\-])[\w-]+(?:\.[\w-]+)*\.(?:com|org|net|io|dev|app|ru|de|fr|co|me|ly|gl|gg|so|ai|sh"
    r"|xyz|eu|uk|us|info|be|to|tv|es|pt|it|nl|pl|ua|by|kz)/[^\s<>\"]*"  # bare link with a path
    r"|^[ \t]*>[^\n]*",  # quoted line (Telegram/Slack/Discord markdown)
    re.M | re.I,
)
_NOT_NEWLINE = re.compile(r"[^\n]")

# Our own conversion lines (teamops.wording): "10:30  🇺🇸 New York (UTC−5)", "• 10:30 New York
# (UTC−5)". A line counts as ours when it carries a "(UTC…)" label AND looks like a reply line:
# it starts with "•", or its leading clock is followed by two spaces, or it uses the true minus
# sign U+2212 that people do not type. Such lines, the header line right above a block of them
# ("15:30 Lisbon, Mon 30 Nov"), our "(read …)"/"(clocks …)" notes and our "🕒 on your clock: …"
# line are not read. A user's own
# "15:00 standup (UTC+3)" is none of these and is read. "→" alone is not a signal: people write
# "standup 10:00 → 11:00" to announce a move.
_UTC_LABEL = re.compile(r"\(UTC(?:[+\u2212]\d{1,2}(?::\d\d)?)?\)")
_REPLY_CLOCK = re.compile(
    r"[ \t>]*(?:•[ \t]*)?\d{1,2}(?::\d\d)?(?:[ \t]?[AP]M)?(?:\u2013\d{1,2}(?::\d\d)?(?:[ \t]?[AP]M)?)?"
)


def _mask(text: str) -> str:
    """The text with everything that must not be read blanked out (same length, same lines)."""
    if "`" in text or "<" in text or ">" in text or "/" in text or "www." in text or "~~~" in text:
        text = _MASK.sub(lambda m: _NOT_NEWLINE.sub(" ", m.group()), text)
    if "(UTC" in text:
        text = _mask_replies(text)
    return text


def _is_reply_line(line: str) -> bool:
    if not _UTC_LABEL.search(line):
        return False
    stripped = line.lstrip(" \t>")
    if stripped.startswith("•") or "\u2212" in line:
        return True
    clock = _REPLY_CLOCK.match(line)
    return bool(clock and line.startswith("  ", clock.end()) and clock.end() > len(line) - len(stripped))


def _mask_replies(text: str) -> str:
    lines = text.split("\n")
    ours = [_is_reply_line(line) for line in lines]
    if not any(ours):
        return text
    notes = [line.strip(" \t>").startswith(("(read ", "(clocks ", "\U0001f552 ")) for line in lines]
    for index in range(len(lines) - 1, -1, -1):
        if ours[index] or notes[index] or not _REPLY_CLOCK.match(lines[index]):
            continue
        below = index + 1
        while below < len(lines) and notes[below]:
            below += 1
        if below < len(lines) and ours[below]:
            ours[index] = True  # the header above a block of our lines ("15:30 🇩🇪 Berlin, Wed 2 Jul")
    for index, note in enumerate(notes):
        ours[index] = ours[index] or note
    return "\n".join(" " * len(line) if mine else line for line, mine in zip(lines, ours))


# ----------------------------------------------------------------------------------------------
# Clock atoms
# ----------------------------------------------------------------------------------------------

_WORD_TIMES = {
    "noon": 12, "midday": 12, "полдень": 12, "midi": 12, "mediodía": 12, "mediodia": 12,
    "meio-dia": 12, "midnight": 0, "полночь": 0, "minuit": 0, "medianoche": 0, "meia-noite": 0,
    "mitternacht": 0,
}
_DIGIT = re.compile(r"[0-9]")
_DIGIT_RUN = re.compile(r"[0-9]+")
_WORD_TIME_RE = re.compile(r"noon|midnight|midday|полдень|полночь|midi|minuit|mediod|medianoche|meio-dia"
                           r"|meia-noite|mitternacht|час[ \t]+(?:дня|ночи)")


def _has_word_time(text: str) -> bool:
    lower = text.lower()
    return ("noon" in lower or "midn" in lower or "midd" in lower or "midi" in lower or "minuit" in lower
            or "medi" in lower or "mitternacht" in lower or "meio-dia" in lower or "meia-noite" in lower
            or "полдень" in lower or "полночь" in lower or "час дня" in lower or "час ночи" in lower)


_CLOCK = (
    r"(?P<h>2[0-4]|[01]?[0-9])"
    r"(?:"
    r":(?P<m>[0-5][0-9])(?P<s>:[0-5][0-9])?"
    r"|\.(?P<d>[0-5][0-9])"
    r"|(?P<hs>[hHч])(?P<hm>[0-5][0-9])?"
    r"|(?P<m4>[0-5][0-9])(?=[ ]?(?:Z|UTC|GMT)\b)"
    r")?"
    r"(?![0-9]|[.,:/][0-9])"
)
_WORD_ATOM = (r"(?P<word>noon|midnight|midday|полдень|полночь|midi|minuit|mediod[ií]a|medianoche|meio-dia|meia-noite"
              r"|mitternacht|час(?=[ \t]+(?:дня|ночи)(?!\w)))(?!\w)")
# The first clock of a mention, tried only where a digit run or a time word starts; the character
# before it must not glue it to a word, a number, a path, a price or an id (checked in Python, so
# the scan itself stays a plain digit search).
_FIRST = re.compile(
    r"(?:(?P<iso>(?P<Y>(?:19|20)[0-9]{2})-(?P<Mo>[01][0-9])-(?P<D>[0-3][0-9])[T ])?" + _CLOCK + "|" + _WORD_ATOM + ")",
    re.I,
)
_GLUE_BEFORE = frozenset(".,:/\\$€£¥₽#&=+-'’−_")
_NEXT = re.compile(_CLOCK + "|" + _WORD_ATOM, re.I)
# The context patterns (zones, day parts, day words) are big alternations built from zonetable;
# they are compiled on the first message that holds a digit, not at import, so importing this
# module stays cheap for the service's cold start.
_LAZY: dict[str, tuple[str, int]] = {}
_ZONE_AFTER = _DAY_PART = _DAY_PART_ADJACENT = _BEFORE_GAP = _DAY_REF = _GERMAN_AM = None


def _source(pattern: str, flags: int = 0) -> tuple[str, int]:
    return pattern, flags


def _compile_context() -> None:
    compiled = {name: re.compile(pattern, flags) for name, (pattern, flags) in _LAZY.items()}
    globals().update(compiled)


_MERIDIEM = re.compile(r"[ \t]?(?P<mer>[aApP])(?:\.[ \t]?[mM]\.?|[mM])(?![a-zA-Z0-9])")
_LAZY["_GERMAN_AM"] = _source(r"[ \t]+(?:Montag|Dienstag|Mittwoch|Donnerstag|Freitag|Samstag|Sonntag|Wochenende"
                        r"|Morgen|Abend|Nachmittag|Vormittag|Mittag|[0-9]{1,2}\.)")
_SUFFIX = re.compile(
    r"[ \t]?(?:(?P<oc>o['’]?[ \t]?clock|uhr|-?ish|h(?![\w]))|(?P<hw>часов|часа|час|ч\.?|heures?|horas?(?![ \t]+de[ \t])|hs))(?![\w])",
    re.I,
)
_TWELVE_WORD = re.compile(r"[ \t]+(?P<w>noon|midnight)(?!\w)", re.I)


_MER_START = frozenset("aApP")
_SUFFIX_START = frozenset("oOuU-iIhHчЧ")


class _Clock:
    """One clock time as written: "15:30", "3pm", "at 3", "15h", "noon"."""

    __slots__ = ("start", "end", "h", "mi", "form", "mer", "suffix", "zone", "day", "lead_zero")

    def __init__(self, start, end, h, mi, form, mer=None, suffix=None, zone=None, day=None, lead_zero=False):
        self.start, self.end, self.h, self.mi, self.form = start, end, h, mi, form
        self.mer, self.suffix, self.zone, self.day, self.lead_zero = mer, suffix, zone, day, lead_zero

    @property
    def strong(self) -> bool:
        """A time by its shape alone, whatever the words around it."""
        return self.form in ("colon", "four", "word") or self.mer is not None or self.suffix == "oc"

    @property
    def bare(self) -> bool:
        return self.form == "bare" and self.mer is None and self.suffix is None


_RU_DASH_CUES = frozenset("в во к с со от до после около".split())
_DASH_MINUTES = frozenset(("00", "15", "30", "45"))


def _read_clock(scan: str, m: re.Match, dash_minutes: bool = False) -> _Clock | None:
    """The clock at `m` with its am/pm, suffix and Z; None when it is glued to something else.

    `dash_minutes` allows the Russian "в 15-00" (only after в/к/с/до/…, only :00/:15/:30/:45)."""
    iso = m.group("iso") if "iso" in m.re.groupindex else None
    start = m.start()
    word = m.group("word")
    if word:
        lower = word.lower()
        if lower == "midi" and word.isupper():
            return None  # MIDI, the file format
        if lower == "час":  # "в час дня" = "в 1 час дня": one o'clock, the day part follows
            return _Clock(start, m.end(), 1, 0, "bare", suffix="hw")
        return _Clock(start, m.end(), _WORD_TIMES.get(lower, 12), 0, "word", suffix=lower)
    hour_text = m.group("h")
    h = int(hour_text)
    if m.group("m") is not None:
        form, mi = "colon", int(m.group("m"))
        if m.group("s"):
            return None  # 1:23:45 is a duration or a video position; 09:58:01 a log line's stamp
    elif m.group("d") is not None:
        form, mi = "dot", int(m.group("d"))
    elif m.group("hs") is not None:
        form, mi = "h", int(m.group("hm") or 0)
    elif m.group("m4") is not None:
        if len(hour_text) != 2:
            return None
        form, mi = "four", int(m.group("m4"))
    else:
        form, mi = "bare", 0
        end = m.end()
        if dash_minutes and scan[end:end + 1] == "-" and scan[end + 1:end + 3] in _DASH_MINUTES \
                and not scan[end + 3:end + 4].isdigit():
            form, mi = "colon", int(scan[end + 1:end + 3])
    if h == 24 and not (form == "colon" and mi == 0):
        return None
    clock = _Clock(start, m.end(), h, mi, form, lead_zero=len(hour_text) == 2 and hour_text[0] == "0")
    if form == "colon" and m.group("m") is None:
        clock.end = m.end() + 3  # the dash minutes
    if iso:
        try:
            clock.day = date(int(m.group("Y")), int(m.group("Mo")), int(m.group("D")))
        except ValueError:
            return None
    pos = clock.end
    if form in ("colon", "four") and scan.startswith("Z", pos) and not _word_char_at(scan, pos + 1):
        clock.zone = "UTC"
        pos += 1
    following = scan[pos:pos + 2]
    if clock.zone is None and form in ("colon", "bare", "dot") and (following[:1] in _MER_START or following[1:2] in _MER_START):
        mer = _MERIDIEM.match(scan, pos)
        if mer and not (mer.group().lstrip()[:2] in ("am", "Am") and _GERMAN_AM.match(scan, mer.end())):
            letter = mer.group("mer").lower()
            if form != "colon" and not 1 <= h <= 12:
                return None
            if 1 <= h <= 12 or h == 0:
                clock.mer = letter
            pos = mer.end()
    if clock.mer is None and form != "h" and clock.zone is None and (
            following[:1] in _SUFFIX_START or following[1:2] in _SUFFIX_START):
        suffix = _SUFFIX.match(scan, pos)
        if suffix:
            clock.suffix = "oc" if suffix.group("oc") else "hw"
            pos = suffix.end()
            if form == "bare" and suffix.group().strip().lower() in ("h", "hs"):
                clock.form = "h"
                clock.suffix = None
    if h == 12 and mi == 0 and clock.mer is None and form in ("bare", "colon"):
        twelve = _TWELVE_WORD.match(scan, pos)
        if twelve:
            clock.form, clock.h, clock.suffix = "word", (0 if twelve.group("w").lower() == "midnight" else 12), "12"
            pos = twelve.end()
    if _word_char_at(scan, pos) or scan[pos:pos + 1] in ("%", "‰", "°", "$", "€", "£", "¥", "₽", "_"):
        return None  # glued to a word or a unit: "3x", "10k", "3rd", "15%", "2h30m"
    if clock.form == "h" and h > 23:
        return None
    clock.end = pos
    return clock


def _word_char_at(text: str, pos: int) -> bool:
    return pos < len(text) and (text[pos].isalnum() or text[pos] == "_")


# ----------------------------------------------------------------------------------------------
# Context: cues before, ranges, zones and day parts after
# ----------------------------------------------------------------------------------------------

_PREV_WORDS_REVERSED = re.compile(
    r"[ \t]*[~≈]?[ \t]*(?P<w2>[^\W\d_]+(?:['’][^\W\d_]+)?|@)(?![\w'’])(?:[ \t]+(?P<w1>[^\W\d_]+(?:['’][^\W\d_]+)?)(?![\w'’]))?"
)
_SINGLE_CUES = frozenset("""
at around arround till til until untill before after ab um gegen bis à vers dès avant après
jusqu'à jusqu’à às até pelas в во к около после @ ca circa approx
""".split())
_RANGE_CUES = frozenset("from von de desde das с со от".split())
_BETWEEN_CUES = frozenset("between zwischen entre между".split())
_ARTICLE_CUES = {"a": "single", "sobre": "single", "hacia": "single", "hasta": "single", "desde": "range",
                 "de": "range", "entre": "between"}
_OR_WORDS = frozenset("or или oder ou o and и und y e et".split())
_AND_WORDS = frozenset("and и und y e et".split())
_DURATION_BEFORE = frozenset("""
for took takes take lasted lasts in en pendant durant dans during per every chaque toutes tous
after über für seit nach por durante em cada за через на
""".split())
_RU_COUNTED_STEMS = ("раз", "клик", "поток", "ряд", "слой", "уров", "строк", "символ", "байт", "бит", "цикл",
                     "круг", "этаж", "класс", "человек", "люд", "штук", "шт", "дн", "недел", "месяц", "год",
                     "лет", "минут", "секунд", "процент", "тысяч", "рубл", "доллар", "евро", "задач",
                     "тикет", "попыт", "этап", "шаг", "итерац", "раунд", "балл", "очк", "пункт", "сервер",
                     "под", "нод", "гб", "мб", "кб", "стран", "вопрос", "ответ", "коммит", "файл", "мест",
                     "глав", "случа", "город", "рук", "чат", "канал", "клиент", "пользовател")

_RANGE_SEP = re.compile(
    r"[ \t]*(?:(?P<dash>[-–—‐−~])|(?P<w>to|till|til|until|thru|through|до|bis|à|a|às|as|até|ate|al|hasta"
    r"|y|e|et|and|и|und)(?![\w]))[ \t]*(?:(?:las|la|os|les|the)[ \t]+)?",
    re.I,
)
_NEXT_WORD = re.compile(r"[ \t]*\(?[ \t]*(?P<w>[^\W\d_]+|%)")
_CLOCK_AFTER_DASH = re.compile(r"[-–/][0-9]")

_CITY_ALTERNATION = "|".join(re.escape(c) for c in sorted(T.CITY_HINTS, key=len, reverse=True))
_RU_ALTERNATION = "|".join(re.escape(c) for c in sorted(T.RU_CITY_HINTS, key=len, reverse=True))
_ROMANCE_ALTERNATION = "|".join(re.escape(c) for c in sorted(T.ROMANCE_ZONE_PHRASES, key=len, reverse=True))
_LAZY["_ZONE_AFTER"] = _source(
    r"[ \t]*(?P<open>\([ \t]*)?(?:"
    r"(?P<iana>(?:Africa|America|Antarctica|Asia|Atlantic|Australia|Europe|Indian|Pacific|Etc)/[A-Za-z_\-]+(?:/[A-Za-z_\-]+)?)"
    r"|(?i:(?P<my>my[ \t]+(?:time(?:[ \t]?zone)?|tz)|local[ \t]+time|по[ \t]+моему(?:[ \t]+времени)?"
    r"|по[ \t]+местному(?:[ \t]+времени)?|моего[ \t]+времени))(?![\w])"
    r"|(?i:по[ \t]+(?P<ru>" + _RU_ALTERNATION + r"))(?![\w])"
    r"|(?i:(?P<rom>" + _ROMANCE_ALTERNATION + r"))(?![\w])"
    r"|(?i:(?P<in>in[ \t]+)?(?P<city>" + _CITY_ALTERNATION + r"))(?![\w])(?i:(?P<time>[ \t]+time))?"
    r"|(?P<code>NY|LA|SF|DC)(?![\w])(?i:(?P<ctime>[ \t]+time))?"
    r"|(?P<raw>[+\-−])(?P<rh>[0-9]{2}):?(?P<rm>[0-9]{2})(?![\w])"
    r"|(?P<abbr>[^\W\d_]{1,5})(?:[ \t]?(?P<sign>[+\-−])[ \t]?(?P<oh>[0-9]{1,2})(?::?(?P<om>[0-9]{2}))?)?(?![\w])"
    r")(?(open)[ \t]*\))"
)
_CAPITAL_WORD_NEXT = re.compile(r"[ \t]+[A-Z]")
_ZONE_BEFORE = re.compile(r"(?<![\w])(?P<abbr>[A-ZА-Я]{2,5})(?:(?P<sign>[+\-−])(?P<oh>[0-9]{1,2})(?::?(?P<om>[0-9]{2}))?)?[ \t]*:?[ \t]*\Z")

_DAY_PART_WORDS = "|".join(re.escape(p) for p in sorted(T.DAY_PARTS, key=len, reverse=True))
_LAZY["_DAY_PART"] = _source(
    r"(?<![\w])(?:(?P<greeting>good[ \t]+morning|good[ \t]+evening|guten[ \t]+morgen|buenos[ \t]+d[ií]as"
    r"|bom[ \t]+dia|доброе[ \t]+утро|добрый[ \t]+вечер)|(?P<part>" + _DAY_PART_WORDS + r"))(?![\w])",
    re.I,
)
_LAZY["_DAY_PART_ADJACENT"] = _source(
    r"[ \t]*(?:" + "|".join(re.escape(p) for p in sorted(T.DAY_PART_CUES, key=len, reverse=True)) + r")(?![\w])",
    re.I,
)
_LAZY["_BEFORE_GAP"] = _source(r"[\s,]*(?:(?:at|around|about|by|@|в|к|около|um|gegen|à|vers|a[ \t]+las|às|ab)[ \t]*)?[~≈]?[ \t]*\Z", re.I)
_AFTER_GAP = re.compile(r"[\s,]*(?:[^\W\d]+[\s,]+){0,2}\Z")
_CUT = re.compile(r"[0-9.!?;\n]")


def _prev_words(scan: str, start: int) -> tuple[str, str]:
    """The two words right before `start`, lower case ("", "" when a number or a sign is there).

    Matched on the reversed 40 characters before the time: anchored, so it costs the length of
    two words, not a scan of the window."""
    found = _PREV_WORDS_REVERSED.match(scan[max(0, start - 40):start][::-1])
    if not found:
        return "", ""
    return (found.group("w1") or "")[::-1].lower(), found.group("w2")[::-1].lower()


def _cue(w1: str, w2: str) -> str | None:
    """What the words before a number make of it: single, range, between, value, duration, or None."""
    if w2 in _SINGLE_CUES:
        if w2 == "at" and w1 in T.VALUE_VERBS_BEFORE_AT:
            return "value"
        return "single"
    if w2 in ("la", "las", "os", "as"):
        if w1 in _ARTICLE_CUES:
            return _ARTICLE_CUES[w1]
        if w1 == "até" or w1 == "ate" or w1 == "desde":
            return "single" if w1 != "desde" else "range"
        return "weak" if w2 == "as" else None
    if w2 in _RANGE_CUES:
        if w2 == "de" and w1 == "partir":
            return "single"  # "à partir de 14h"
        return "range"
    if w2 in _BETWEEN_CUES:
        return "between"
    if w2 in _DURATION_BEFORE:
        return "duration"
    return None


_RESCUE_WORDS = frozenset(
    {word.lower() for word in T.ABBREVIATIONS}
    | {phrase.split()[0] for phrase in T.CITY_HINTS}
    | {code.lower() for code in T.CITY_CODES}
    | {phrase.split()[0] for phrase in T.ROMANCE_ZONE_PHRASES}
    | {phrase.split()[0] for phrase in T.DAY_PART_CUES}
    | set("по моего my local in to till til until thru through до bis à a às as até ate al hasta "
          "and и und y e et".split())
)
_RESCUE_CHARS = frozenset("-–—‐−~(+/")


def _may_be_rescued(scan: str, pos: int) -> bool:
    """Can what follows a number without a cue still make it a time (a zone, a day part, a
    range)? A cheap look at the next word before the full context patterns run."""
    nxt = _NEXT_WORD.match(scan, pos)
    if nxt is None:
        rest = scan[pos:pos + 3].lstrip(" \t")
        return rest[:1] in _RESCUE_CHARS
    if scan[pos:nxt.start("w")].strip(" \t") == "(":
        return True
    word = nxt.group("w")
    return word.lower() in _RESCUE_WORDS or "/" in scan[nxt.end():nxt.end() + 1]


def _word_after(scan: str, pos: int) -> str:
    nxt = _NEXT_WORD.match(scan, pos)
    return nxt.group("w").lower() if nxt else ""


_OR_NUMBER = re.compile(r"[ \t]*[0-9]{1,3}(?![0-9:.])")
_TONIGHT_END = re.compile(r"[ \t]*(?:[?!.,;)]|\n|\Z|[-–—][ \t]*[0-9]|or[ \t]+[0-9]{1,2}(?![0-9])|(?:ok|okay|works?|then|fine|good|sounds|please|pls|sharp)(?![\w]))", re.I)
_ASPECT_RATIO = re.compile(r"(?<![\w:.])(?:4:3|16:9|21:9|3:2|5:4|32:9)(?![\w:])")
_DE_DAY = re.compile(r"[ \t]*(?:de|du|d['’])[ \t]*(?:la[ \t]+|el[ \t]+|le[ \t]+)?(?P<w>[^\W\d_][\w\-]*)", re.I)


def _day_follows_de(scan: str, pos: int) -> bool:
    """"9h30 de sexta", "15h de amanhã", "8h du matin": "de" names the day, not what lasts."""
    found = _DE_DAY.match(scan, pos)
    if not found:
        return False
    word = found.group("w").lower()
    return word in T.WEEKDAYS or word in T.DAY_OFFSETS or word in ("manhã", "manha", "tarde", "noite", "matin",
                                                                   "soir", "mañana", "noche", "madrugada")


def _counted_after(scan: str, pos: int) -> bool:
    """Is the number before `pos` a count ("3 retries", "в 3 раза", "10 people")?"""
    nxt = _NEXT_WORD.match(scan, pos)
    if not nxt:
        return False
    word = nxt.group("w").lower()
    if word in T.DAY_PARTS:
        return False  # "в 3 дня" is 15:00 once a cue made it a time
    if word == "%" or word in T.COUNTED_NOUNS:
        return True
    if word in T.COUNT_ADJECTIVES:  # "at 5 consecutive failures", "at 3 failed logins"
        return _counted_after(scan, nxt.end())
    if word in ("or", "или"):  # "at 3 or more", "2 or 3 of us"
        other = _OR_NUMBER.match(scan, nxt.end())
        if other:
            return _counted_after(scan, other.end())
        return _word_after(scan, nxt.end()) in ("more", "less", "fewer", "больше", "меньше")
    if "а" <= word[:1] <= "я" or word[:1] == "ё":
        if word in T.DAY_PARTS or word.startswith("час"):
            return False
        # prepositional plural after "в N" names places or things: "в 5 местах", "в 3 случаях"
        return word.startswith(_RU_COUNTED_STEMS) or word.endswith(("ах", "ях"))
    return False


def _zone_after(scan: str, pos: int, after_ampm: bool, chat_zones: Sequence[str]):
    """(tz, explicit, end) for a zone written at `pos`, else None."""
    found = _ZONE_AFTER.match(scan, pos)
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
        tz = _abbreviation_zone(upper, chat_zones)
        if found.group("sign"):
            if tz != "UTC":
                return None
            tz = _offset_zone("-" if found.group("sign") in "-−" else "+", int(found.group("oh")),
                              int(found.group("om") or 0))
            if tz is None:
                return None
        return tz, True, end
    if found.group("raw"):
        tz = _offset_zone("-" if found.group("raw") in "-−" else "+", int(found.group("rh")), int(found.group("rm")))
        return (tz, True, end) if tz else None
    if found.group("my"):
        return None, False, end
    if found.group("ru"):
        return T.RU_CITY_HINTS[found.group("ru").lower()], True, end
    if found.group("rom"):
        return T.ROMANCE_ZONE_PHRASES[found.group("rom").lower()], True, end
    if found.group("city"):
        city = " ".join(found.group("city").lower().split())
        if city in T.CITY_NEEDS_TIME and not found.group("time") and not (
                city in T.CITY_CAPITALISED_OK and found.group("city")[0].isupper()
                and not _CAPITAL_WORD_NEXT.match(scan, end)):
            return None  # "10am central" is a word; "10am Central" a zone, "10:00 Central Station" a place
        return T.CITY_HINTS[city], True, end
    if found.group("code"):
        return T.CITY_CODES[found.group("code")], True, end
    return None


def _zone_before(scan: str, start: int, chat_zones: Sequence[str]):
    found = _ZONE_BEFORE.search(scan, max(0, start - 16), start)
    if not found:
        return None
    upper = found.group("abbr")
    if upper not in T.ABBREVIATIONS:
        return None
    tz = _abbreviation_zone(upper, chat_zones)
    if found.group("sign"):
        if tz != "UTC":
            return None
        tz = _offset_zone("-" if found.group("sign") in "-−" else "+", int(found.group("oh")), int(found.group("om") or 0))
        if tz is None:
            return None
    return tz, found.start()


def _day_part(scan: str, start: int, end: int) -> str | None:
    """The day part written next to a time: "7 вечера", "3 in the afternoon", "tonight at 8"."""
    window_end = min(len(scan), end + 40)
    cut = _CUT.search(scan, end, window_end)
    after = _DAY_PART.search(scan, end, cut.start() if cut else window_end)
    if after and after.group("part") and _AFTER_GAP.match(scan, end, after.start()):
        return T.DAY_PARTS[" ".join(after.group("part").lower().split())]
    window_start = max(0, start - 40)
    last = None
    for last in _DAY_PART.finditer(scan, window_start, start):
        pass
    if last is not None and last.group("part") and _BEFORE_GAP.match(scan, last.end(), start):
        return T.DAY_PARTS[" ".join(last.group("part").lower().split())]
    return None


# ----------------------------------------------------------------------------------------------
# Hours
# ----------------------------------------------------------------------------------------------

def _with_part(h: int, part: str) -> int:
    if part == "am":
        return 0 if h == 12 else h
    if part == "pm":
        return h if h == 12 else h + 12
    if part == "evening":
        return 24 if h == 12 else (h + 12 if h >= 4 else h)  # "tonight at 12" ends the day
    return 24 if h == 12 else (h + 12 if h >= 6 else h)  # night: "11 ночи" = 23, "2 ночи" = 2, "12 ночи" ends the day


def _with_meridiem(h: int, mer: str) -> int:
    if h > 12:
        return h
    return (h % 12) + (12 if mer == "p" else 0)


def _business(h: int) -> int:
    """The 08:00-19:59 reading of a bare 1-12 hour."""
    return h + 12 if 1 <= h <= 7 else h


def _hour(clock: _Clock, part: str | None) -> tuple[int, bool]:
    """(hour 0-24, inferred) of one clock on its own."""
    h = clock.h
    if clock.form == "word":
        return h, False
    if clock.mer:
        return _with_meridiem(h, clock.mer), False
    if part and 1 <= h <= 12:
        return _with_part(h, part), False
    if clock.form == "bare" and 1 <= h <= 12 and not clock.lead_zero:
        return _business(h), True
    return h, False


def _first_after(h: int, start_h: int) -> int:
    """The first reading of a bare end hour after the start ("from 8 to 5" ends at 17)."""
    if h > 12:
        return h
    for candidate in (h % 12, h % 12 + 12):
        if candidate > start_h:
            return candidate
    return h % 12  # past midnight: the caller moves the end to the next day


def _range_hours(first: _Clock, second: _Clock, part: str | None) -> tuple[int, int, bool]:
    """(start hour, end hour, inferred) of a range; a bare start borrows the end's am/pm or day
    part unless that puts it after the end ("11-1pm" = 11:00-13:00)."""
    end_h, end_inferred = _hour(second, part)
    free_start = first.form == "bare" and first.mer is None and not first.lead_zero and 1 <= first.h <= 12
    twelve_hour = (first.form in ("colon", "dot", "h") and first.mer is None and 1 <= first.h <= 12
                   and (second.mer is not None or part is not None))
    if not (free_start or twelve_hour):
        start_h, start_inferred = _hour(first, part)
        if end_inferred:
            end_h = _first_after(second.h, start_h)
        return start_h, end_h, start_inferred or end_inferred
    h, end_minutes = first.h, end_h * 60 + second.mi
    if second.mer is not None or (part is not None and not end_inferred):
        borrowed = _with_meridiem(h, second.mer) if second.mer else _with_part(h, part)
        if borrowed * 60 + first.mi > end_minutes:
            other = h % 12 if borrowed >= 12 else h % 12 + 12
            if other * 60 + first.mi <= end_minutes:
                borrowed = other
        return borrowed, end_h, False
    if not end_inferred:  # a literal end ("from 3 to 17", "с 10 до 18"): the latest reading not after it
        fits = [c for c in (h % 12, h % 12 + 12) if c * 60 + first.mi <= end_minutes]
        return (max(fits) if fits else _business(h)), end_h, len(fits) != 1
    start_h = _business(h)
    return start_h, _first_after(second.h, start_h), True


# ----------------------------------------------------------------------------------------------
# Days
# ----------------------------------------------------------------------------------------------

_DAY_OFFSET_WORDS = "|".join(re.escape(w) for w in sorted(T.DAY_OFFSETS, key=len, reverse=True))
_DAY_PHRASE_WORDS = "|".join(re.escape(w).replace(r"\ ", r"[ \t]+") for w in sorted(T.DAY_PHRASES, key=len, reverse=True))
_WEEKDAY_WORDS = "|".join(re.escape(w) for w in sorted(T.WEEKDAYS, key=len, reverse=True))
_WEEKDAY_SHORT = "|".join(re.escape(w) for w in sorted(T.WEEKDAY_ABBREVIATIONS, key=len, reverse=True))
_MONTH_WORDS = "|".join(re.escape(w) for w in sorted(T.MONTHS, key=len, reverse=True))
_LAZY["_DAY_REF"] = _source(
    r"(?<![\w])(?:"
    r"(?P<phrase>" + _DAY_PHRASE_WORDS + r")"
    r"|(?P<offset>" + _DAY_OFFSET_WORDS + r")"
    r"|(?:(?P<next>next)[ \t]+)?(?P<weekday>" + _WEEKDAY_WORDS + r")"
    r"|(?P<short>" + _WEEKDAY_SHORT + r")\.?(?=[ \t]*(?:[,/@\-–)]|[0-9]|at\b|в\b|с\b|um\b|à\b|from\b|\n|\Z))"
    r"|(?P<md_month>" + _MONTH_WORDS + r")\.?[ \t]+(?P<md_day>[0-3]?[0-9])(?:st|nd|rd|th)?(?![\w:])"
    r"(?:,?[ \t]+(?P<md_year>20[0-9]{2})(?![\w:]))?"
    r"|(?P<dm_day>[0-3]?[0-9])(?:st|nd|rd|th|er|-?го|\.)?[ \t]+(?:of[ \t]+|de[ \t]+)?(?P<dm_month>" + _MONTH_WORDS + r")\.?"
    r"(?:[ \t]+(?:de[ \t]+)?(?P<dm_year>20[0-9]{2}))?"
    r"|on[ \t]+(?:the[ \t]+)?(?P<ord_day>[0-3]?[0-9])(?:st|nd|rd|th)(?![\w:])"
    r"(?=[ \t]*(?:[,.;!?)\-–—]|\n|\Z|(?:at|by|from|around|after|before|until|till|between|um|à|в|@)(?![\w])|[0-9]))"  # "on the 3rd floor" is no date
    r"|(?P<dot_day>[0-3]?[0-9])\.(?P<dot_month>[01]?[0-9])(?:\.(?P<dot_year>(?:20)?[0-9]{2}))?\.?"
    r"(?=,?[ \t]+(?:(?:в|um|à|a[ \t]+las|às)[ \t]+)?[0-9]{1,2}[:.hч][0-9])"
    r")(?![\w])",
    re.I,
)
_VERB_LIKE_WEEKDAYS = frozenset(("sat", "sun", "wed", "вс", "ср"))
_SUBJECT_BEFORE = re.compile(r"(?<![\w'’])(?:i|we|he|she|they|you|it|who|that|which|and|the|a|just|had|have|has|was"
                             r"|were|to|will|then|also|still|never|finally|i've|we've|they've)[ \t]+\Z", re.I)
_WEEKDAY_SPAN_GAP = re.compile(r"[ \t]*(?:[-–—]|to|through|thru|till|until|до|по|bis|à|au|a|al)[ \t]*\Z", re.I)
_MORGEN_NOT_TOMORROW = frozenset("guten am heute jeden den diesen gestern vom zum schönen einen".split())
_SPANISH_MORNING = frozenset("la esta por de".split())
_SENTENCE_END = re.compile(r"(?<![apAP]\.[mM])[.!?;](?=\s|\Z)|\n")


def _day_refs(scan: str) -> list[tuple[int, int, str, object]]:
    refs = []
    for found in _DAY_REF.finditer(scan):
        s, e = found.start(), found.end()
        if found.group("phrase"):
            refs.append((s, e, "offset", T.DAY_PHRASES[" ".join(found.group("phrase").lower().split())]))
        elif found.group("offset"):
            word = found.group("offset")
            lower = word.lower()
            if lower in ("morgen", "mañana"):
                w1, w2 = _prev_words(scan, s)
                if lower == "morgen" and w2 in _MORGEN_NOT_TOMORROW:
                    continue
                if lower == "mañana" and w2 in _SPANISH_MORNING:
                    continue
            refs.append((s, e, "offset", T.DAY_OFFSETS[lower]))
        elif found.group("weekday"):
            refs.append((s, e, "weekday", (T.WEEKDAYS[found.group("weekday").lower()], bool(found.group("next")))))
        elif found.group("short"):
            word = found.group("short")
            if not word[0].isupper() and word.lower() in _VERB_LIKE_WEEKDAYS and (
                    word.lower() in ("вс", "ср") or _SUBJECT_BEFORE.search(scan, max(0, s - 24), s)):
                continue  # "we sat at 10:00", "the sun 10:00": the verb or the noun; "sat 11:00 brunch" is Saturday
            refs.append((s, e, "weekday", (T.WEEKDAY_ABBREVIATIONS[word.lower()], False)))
        elif found.group("md_month") or found.group("dm_month"):
            month_word = found.group("md_month") or found.group("dm_month")
            if month_word.lower() in T.MONTHS_NEED_CAPITAL and not month_word[0].isupper():
                continue
            day = int(found.group("md_day") or found.group("dm_day"))
            year = found.group("md_year") or found.group("dm_year")
            refs.append((s, e, "date", (int(year) if year else None, T.MONTHS[month_word.lower()], day)))
        elif found.group("ord_day"):
            refs.append((s, e, "month_day", int(found.group("ord_day"))))
        elif found.group("dot_day"):
            w1, w2 = _prev_words(scan, s)
            if w2 in T.NOT_CLOCK_BEFORE_DOTTED or w1 in T.NOT_CLOCK_BEFORE_DOTTED:
                continue  # "version 3.10 в 10:00"
            year = found.group("dot_year")
            if year and len(year) == 2:
                year = "20" + year
            refs.append((s, e, "date", (int(year) if year else None, int(found.group("dot_month")),
                                        int(found.group("dot_day")))))
    return _without_weekday_spans(scan, refs)


def _without_weekday_spans(scan: str, refs: list) -> list:
    """Drop "Mon-Fri", "Monday to Friday", "пн-пт": a span of days names no one day."""
    drop = set()
    for index in range(len(refs) - 1):
        here, there = refs[index], refs[index + 1]
        if here[2] == "weekday" and there[2] == "weekday" and _WEEKDAY_SPAN_GAP.match(scan, here[1], there[0]):
            drop.update((index, index + 1))
    return [ref for index, ref in enumerate(refs) if index not in drop] if drop else refs


def _resolve_day(ref, today: date) -> date | None:
    _s, _e, kind, value = ref
    if kind == "offset":
        return today + timedelta(days=value)
    if kind == "weekday":
        weekday, skip_today = value
        ahead = (weekday - today.weekday()) % 7
        if ahead == 0 and skip_today:
            ahead = 7
        return today + timedelta(days=ahead)
    if kind == "month_day":  # "on the 15th": the next such day, today included
        year, month = today.year, today.month
        for _ in range(3):
            try:
                candidate = date(year, month, value)
            except ValueError:  # no 31st this month
                candidate = None
            if candidate is not None and candidate >= today:
                return candidate
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        return None
    year, month, day = value
    try:
        if year:
            return date(year, month, day)
        for candidate_year in (today.year - 1, today.year, today.year + 1):
            try:
                candidate = date(candidate_year, month, day)
            except ValueError:
                continue
            if candidate >= today - timedelta(days=60):
                return candidate
        return None
    except ValueError:
        return None


# ----------------------------------------------------------------------------------------------
# The engine
# ----------------------------------------------------------------------------------------------

class _Reading:
    __slots__ = ("start", "end", "first", "second", "tz", "explicit", "part")

    def __init__(self, start, end, first, second, tz, explicit, part):
        self.start, self.end, self.first, self.second = start, end, first, second
        self.tz, self.explicit, self.part = tz, explicit, part


def might_mention_time(text: str) -> bool:
    """Cheap superset test for the webhook: False means find_mentions(text, ...) is [] for sure
    (no digit and no noon/midnight word in any of our languages)."""
    return _DIGIT.search(text) is not None or _has_word_time(text)


def find_mentions(text: str, tz: str, now: datetime, chat_zones: Sequence[str] = ()) -> list[Mention]:
    """Every time mention in `text`, in order. `tz` is the sender's zone ("UTC" when unknown),
    `now` the send time (aware; naive is taken as UTC), `chat_zones` settle ambiguous abbreviations."""
    if not text or not might_mention_time(text):
        return []
    zone_for(tz)  # an unknown sender zone is the caller's bug: ValueError
    if now.tzinfo is None:
        now = now.replace(tzinfo=timezone.utc)
    if tz not in chat_zones:
        chat_zones = (tz, *chat_zones)  # the sender's zone settles "CST", "IST", "BST" first
    scan = _mask(text)
    starts = [run.start() for run in _DIGIT_RUN.finditer(scan)]
    if _has_word_time(scan):
        starts = sorted(starts + [w.start() for w in _WORD_TIME_RE.finditer(scan.lower())])
    if _ZONE_AFTER is None:
        _compile_context()
    readings: list[_Reading] = []
    pos = 0
    for start in starts:
        if start < pos:
            continue
        if start and (scan[start - 1] in _GLUE_BEFORE or scan[start - 1].isalnum()):
            continue
        found = _FIRST.match(scan, start)
        if found is None:
            continue
        reading = _read(scan, found, readings, chat_zones)
        if reading is not None:
            readings.append(reading)
            pos = reading.end
    if not readings:
        return []
    if any(r.tz is None for r in readings):
        _apply_detached_zones(scan, readings, chat_zones)
    return _resolve(text, scan, readings, tz, now)


# A zone written apart from the times: "15:00 standup (UTC+3)", "agenda, all times CET:". In
# brackets it covers the zone-less times of its sentence; after "times (in)" the whole message.
# Abbreviations that are also everyday words or acronyms do not count apart from a time.
_DETACHED = re.compile(
    r"(?P<open>\()[ \t]*(?P<times>(?:all[ \t]+)?times?[ \t]+(?:are[ \t]+)?(?:in[ \t]+)?)?"
    r"|(?<![\w])(?P<all>all[ \t]+times?[ \t]+(?:are[ \t]+)?(?:in[ \t]+)?|times[ \t]+(?:are[ \t]+)?(?:in[ \t]+)?)",
    re.I,
)
_DETACHED_NOT = frozenset({"GET", "PET", "CAT", "ART", "MET", "EAT", "UT", "AMT", "AST", "SST", "GST", "Z", "ZULU"})
_CLOSE = re.compile(r"[ \t]*\)")
_HEADING_END = re.compile(r"[ \t]*(?:[:)\n]|\Z)")


def _apply_detached_zones(scan: str, readings: list[_Reading], chat_zones: Sequence[str]) -> None:
    bounds = None
    for found in _DETACHED.finditer(scan):
        zone = _zone_after(scan, found.end(), True, chat_zones)
        if zone is None:
            continue
        tz, explicit, end = zone
        word = scan[found.end():end].strip()
        if word.upper() in _DETACHED_NOT or word.lower() in ("my time", "local time"):
            continue
        if found.group("open") and not _CLOSE.match(scan, end):
            continue
        if found.group("all") and not _HEADING_END.match(scan, end):
            continue  # "all times in Paris were booked": a heading ends with ":", ")" or the sentence
        if any(r.start <= found.start() < r.end for r in readings):
            continue  # part of a time's own zone: "15:00 (UTC+3)"
        if bounds is None:
            bounds = [b.start() for b in _SENTENCE_END.finditer(scan)]
        whole = bool(found.group("all") or found.group("times"))
        sentence = _sentence_of(bounds, found.start())
        for reading in readings:
            if reading.tz is None and (whole or _sentence_of(bounds, reading.start) == sentence):
                reading.tz, reading.explicit = tz, explicit


def _read(scan: str, found: re.Match, readings: list[_Reading], chat_zones: Sequence[str]) -> _Reading | None:
    w1, w2 = _prev_words(scan, found.start())
    first = _read_clock(scan, found, w2 in _RU_DASH_CUES)
    if first is None:
        return None
    cue = _cue(w1, w2)
    if cue is None and w2 in ("tonight", "tonite") and first.form == "bare" and _TONIGHT_END.match(scan, first.end):
        cue = "single"  # "tonight 9?", "tonight 9 ok?"; but "tonight 4 episodes left" is a count
    if cue not in ("single", "range", "between") and not first.strong and first.form != "h" \
            and not _may_be_rescued(scan, first.end):
        if not (readings and first.start - readings[-1].end <= 5):
            return None  # "3 PRs", "2.14 is out": nothing after the number can make it a time
    chained = None  # the time this one is an alternative to: it shares that one's day part
    if cue is None and w2 in _OR_WORDS and readings and first.start - readings[-1].end <= len(w2) + 3:
        cue, chained = "single", readings[-1]  # "at 10 or 11", "в 10 или 11"
    if cue is None and readings and first.start - readings[-1].end <= 3 and scan[readings[-1].end:first.start].strip() in (",", "/"):
        cue, chained = "single", readings[-1]
    if first.form == "colon":
        if w2 in T.NOT_CLOCK_BEFORE or w1 in T.NOT_CLOCK_BEFORE:
            return None
        if first.h == 16 and first.mi == 10 and cue is None and _ASPECT_RATIO.search(scan):
            return None  # "is it 4:3 or 16:10?": a screen, not a clock
        after = _NEXT_WORD.match(scan, first.end)
        if after and after.group("w").lower() in T.NOT_CLOCK_AFTER:
            return None
    elif first.form == "dot":
        if w2 in T.NOT_CLOCK_BEFORE_DOTTED or w1 in T.NOT_CLOCK_BEFORE_DOTTED:
            return None
    elif first.form == "h" and (cue in ("duration", "value") or (
            _word_after(scan, first.end) in T.DURATION_NOUNS and not _day_follows_de(scan, first.end))):
        return None  # "in 2h", "a 15h flight", "16h de vol"; but "às 9h30 de sexta" is a time
    elif first.form == "bare" and cue == "value":
        return None

    end = first.end
    second = None
    sep = _RANGE_SEP.match(scan, end)
    if sep and first.form != "four":
        second = _range_end(scan, sep, first, cue, first.form == "colon" and scan[first.start:first.end].find(":") < 0)
        if second is _REJECT:
            return None
    if second is not None:
        end = second.end

    last = second or first
    after_ampm = last.mer is not None
    zone = None
    explicit = False
    if last.zone:
        zone, explicit = last.zone, True
    else:
        after = _zone_after(scan, end, after_ampm, chat_zones)
        if after is not None:
            zone, explicit, end = after
            if zone is None:
                zone = ""  # "my time": the sender's zone, stated
    if zone is None and first.strong:
        before = _zone_before(scan, first.start, chat_zones)
        if before is not None:
            zone, explicit = before[0], True
            first.start = before[1]

    part_adjacent = _DAY_PART_ADJACENT.match(scan, end) is not None
    if not _accepted(first, second, cue, zone is not None, part_adjacent):
        return None
    if last.bare and zone is None and _counted_after(scan, last.end):
        return None
    part = _day_part(scan, first.start, end)
    if part is None and chained is not None and first.mer is None:
        part = chained.part  # "tonight 9 or 10?", "в 7 вечера или 8"
    written_part = _DAY_PART.match(scan, end + len(scan[end:end + 3]) - len(scan[end:end + 3].lstrip(" \t"))) \
        if last.mer is None and last.h <= 12 else None
    if written_part is not None and written_part.group("part"):
        end = written_part.end()  # "7 вечера", "в 3 дня", "3 in the afternoon" are one phrase
        if zone is None:
            after = _zone_after(scan, end, False, chat_zones)  # "в 9 утра по Лондону"
            if after is not None:
                zone, explicit, end = after
                zone = zone if zone is not None else ""
    return _Reading(first.start, end, first, second, zone, explicit, part)


_REJECT = object()  # a range whose end is a count ("from 2 to 4 weeks"): nothing here is a time


def _range_end(scan: str, sep: re.Match, first: _Clock, cue: str | None, dash_minutes: bool = False):
    """The end of a range starting with `first`, None when there is none, _REJECT for a count."""
    word = (sep.group("w") or "").lower()
    if word in _AND_WORDS and cue != "between":
        return None
    if word in ("a", "as", "al") and cue not in ("range", "between"):
        return None
    found = _NEXT.match(scan, sep.end())
    if not found:
        return None
    second = _read_clock(scan, found, dash_minutes)
    if second is None or second.day is not None:
        return None
    if second.bare and _counted_after(scan, second.end):
        return _REJECT
    if second.form == "bare" and second.h == 0 and not second.lead_zero and second.mer is None:
        return _REJECT  # "de 2 a 0", "from 3 to 0": a score or a scale, never an hour
    if _CLOCK_AFTER_DASH.match(scan, second.end):
        return None  # "10-11-12", "10-11/12": a date or a code, not a range
    if second.form == "four" or (first.form == "word" and second.form == "word"):
        return None
    if word and first.bare and not second.strong and cue not in ("range", "between", "single"):
        return None  # "10 to 11" alone may be 10:50
    if first.form == "colon" and second.form == "bare" and second.mer is None and cue not in ("range", "between"):
        return None  # "10:00 - 2 people"
    if first.form == "dot" and second.form not in ("dot", "colon") and not second.mer:
        return None
    if first.bare and second.bare and not first.lead_zero and (first.h == 0 or (first.h == 1 and second.h >= 5)):
        return _REJECT  # "from 1 to 10", "between 1 and 5": a scale, not clock hours
    if first.bare and second.bare and cue not in ("range", "between", "single") \
            and not _DAY_PART_ADJACENT.match(scan, second.end) and not _zone_after(scan, second.end, False, ()):
        return None  # "9-5", "3-2": a job's hours, a score
    return second


def _accepted(first: _Clock, second: _Clock | None, cue: str | None, zoned: bool, part_adjacent: bool) -> bool:
    """Do the clock's shape and the words around it make it a time?"""
    if second is not None:
        if first.strong or second.strong or zoned or part_adjacent:
            return True
        if first.form == "h" or second.form == "h":
            return cue != "duration"
        if first.form == "dot" and second.form == "dot":
            return cue in ("range", "between", "single", "weak")
        return cue in ("range", "between", "single")
    if first.strong:
        return True
    if first.form == "dot":
        return cue in ("single", "weak") or zoned or part_adjacent or first.suffix == "hw"
    if first.form == "h":
        if cue in ("single", "weak"):
            return True
        if cue == "duration":
            return False
        return first.h >= 13 or (first.mi > 0 and first.h >= 7) or zoned
    # a bare number
    if not 0 <= first.h <= 23 or (first.h == 0 and not first.lead_zero):
        return False
    if first.suffix == "hw":
        return cue == "single"
    return cue == "single" or zoned or part_adjacent


def _sentence_of(bounds: list[int], pos: int) -> int:
    return bisect_right(bounds, pos)


def _resolve(text: str, scan: str, readings: list[_Reading], sender_tz: str, now: datetime) -> list[Mention]:
    bounds = [b.start() for b in _SENTENCE_END.finditer(scan)]
    sentences = [_sentence_of(bounds, r.start) for r in readings]
    # A zone after the last time of a sentence covers the zone-less times before it.
    for index in range(len(readings) - 1, 0, -1):
        later = readings[index]
        if not later.tz:
            continue
        for earlier_index in range(index - 1, -1, -1):
            earlier = readings[earlier_index]
            if sentences[earlier_index] != sentences[index] or earlier.tz is not None:
                break
            earlier.tz, earlier.explicit = later.tz, later.explicit
    refs = _day_refs(scan)
    # A day written right before a time ("postmortem Friday 11:00") is that time's; it does not
    # reach back to the times before it ("started 08:12, ... Friday 11:00").
    leads = {ref for ref in refs for r in readings if r.start >= ref[1] and _LEADS_INTO.fullmatch(scan, ref[1], r.start)}
    mentions = []
    for index, reading in enumerate(readings):
        tz = reading.tz or sender_tz
        zone = zone_for(tz)
        today = now.astimezone(zone).date()
        day = reading.first.day
        day_explicit = day is not None
        if day is None and refs:
            sentence = sentences[index]
            best = None
            best_distance = None
            for ref in refs:
                if _sentence_of(bounds, ref[0]) != sentence:
                    continue
                if ref[0] >= reading.end and ref in leads:
                    continue
                distance = reading.start - ref[1] if ref[1] <= reading.start else ref[0] - reading.end
                if distance < 0:
                    if reading.start <= ref[0] and ref[1] <= reading.end and not any(
                            c.isdigit() for c in scan[ref[0]:ref[1]]):
                        distance = 0  # a day word inside the span: "10:30 tomorrow morning"
                    else:
                        continue  # overlaps the time itself ("5.03" read as a date and a time)
                if best_distance is None or distance < best_distance:
                    best, best_distance = ref, distance
            if best is not None:
                day = _resolve_day(best, today)
                day_explicit = day is not None
        if day is None:
            day = today
        first, second = reading.first, reading.second
        # "midnight" and twelve at night are where their day ends: "deploy at midnight" and "в 12
        # ночи" are tonight's, "midnight-2am" too; not in "down since midnight", "last night at 12".
        ends_day = (first.form == "word" and first.h == 0) or (
            first.h == 12 and first.mer is None and reading.part in ("evening", "night"))
        coming = ends_day and not _past_midnight(scan, reading.start, bounds)
        if second is None:
            h, inferred = _hour(first, reading.part)
            if ends_day and h in (0, 24):
                h = 24 if coming else 0
            start_local = _local(day, h, first.mi)
            end_local = None
        else:
            h, end_h, inferred = _range_hours(first, second, reading.part)
            start_local = _local(day, h % 24, first.mi)
            end_local = _local(day, end_h, second.mi)
            if coming and h % 24 == 0:
                start_local += timedelta(days=1)
            for _ in range(2):  # an end before the start is on the next day
                if end_local < start_local:
                    end_local += timedelta(days=1)
        mentions.append(Mention(
            text=text[reading.start:reading.end],
            start=reading.start,
            end=reading.end,
            local=start_local,
            tz=tz,
            tz_explicit=reading.explicit,
            inferred=inferred,
            end_local=end_local,
            day_explicit=day_explicit,
            dst=_dst(start_local, zone),
        ))
    return mentions


_LEADS_INTO = re.compile(r"[ \t,]*(?:(?:at|around|by|from|в|к|um|à|a[ \t]+las|às|@)[ \t]+)?", re.I)
_SINCE = frozenset(("since", "seit", "depuis"))
# "yesterday" is left out: it sets the day, and "yesterday at midnight" is the one that ended it.
_PAST_NIGHT = re.compile(r"(?<![\w])(?:last[ \t]+night|прошлой[ \t]+ночью|вчера[ \t]+ночью|letzte[ \t]+nacht)(?![\w])", re.I)


def _past_midnight(scan: str, start: int, bounds: list[int]) -> bool:
    """A midnight that has been: "since midnight", "last night at midnight"."""
    if _prev_words(scan, start)[1] in _SINCE:
        return True
    sentence = _sentence_of(bounds, start)
    begin = bounds[sentence - 1] if sentence else 0
    return _PAST_NIGHT.search(scan, begin, start) is not None


def _local(day: date, h: int, mi: int) -> datetime:
    if h >= 24:
        return datetime(day.year, day.month, day.day) + timedelta(days=1, hours=h - 24, minutes=mi)
    return datetime(day.year, day.month, day.day, h, mi)


def _dst(local: datetime, zone: tzinfo) -> str | None:
    if not isinstance(zone, ZoneInfo):
        return None
    early = local.replace(tzinfo=zone)
    late = local.replace(tzinfo=zone, fold=1)
    if early.utcoffset() == late.utcoffset():
        return None
    back = early.astimezone(timezone.utc).astimezone(zone).replace(tzinfo=None)
    return "nonexistent" if back != local else "ambiguous"


def mention_json(m: Mention) -> dict:
    """The contract object of issue 3 (`app.py parse`)."""
    out = {
        "text": m.text,
        "start": m.start,
        "end": m.end,
        "local": m.local.strftime("%Y-%m-%dT%H:%M"),
        "tz": m.tz,
        "utc": m.utc().strftime("%Y-%m-%dT%H:%MZ"),
        "tz_explicit": m.tz_explicit,
        "inferred": m.inferred,
    }
    if m.end_local is not None:
        out["end_local"] = m.end_local.strftime("%Y-%m-%dT%H:%M")
    return out
