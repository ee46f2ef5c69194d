"""Step 3a: reading one clock written in digits ("15:30", "3pm", "3p", "330pm", "15h30", "15 h 30",
"1500Z", "noon") with what is glued after it (am/pm, o'clock/Uhr/heures/часов, Z).

H:MM without am/pm is 24-hour. Four digits are a time only with Z/UTC/GMT ("1500Z"), three or
four digits also with am/pm ("330pm"). "15h", "15h30" are 24-hour. A clock glued to a word or a
unit ("3x", "10k", "3rd", "15%", "2h30m") is not one.
"""

from __future__ import annotations

import re
from datetime import date

_DIGIT_RUN = re.compile(r"[0-9]+")
_CLOCK = (
    r"(?P<h>2[0-4]|[01]?[0-9])"
    r"(?:"
    r":(?P<m>[0-5][0-9])(?P<s>:[0-5][0-9])?"
    r"|\.(?P<d>[0-5][0-9])"
    r"|(?P<hs>[hHч]|[ ][hH](?=[ ]?[0-5][0-9](?![0-9])))(?:[ ]?(?P<hm>[0-5][0-9]))?"
    r"|(?P<m4>[0-5][0-9])(?=[ ]?(?:Z|UTC|GMT)\b)"
    r"|(?P<m3>[0-5][0-9])(?=[ ]?[aApP]\.?[mM]\.?(?![a-zA-Z]))"
    r")?"
    r"(?![0-9]|[.,:/][0-9])"
)
# The first clock of a mention, tried where a digit run starts.
FIRST = re.compile(r"(?:(?P<iso>(?P<Y>(?:19|20)[0-9]{2})-(?P<Mo>[01][0-9])-(?P<D>[0-3][0-9])[T ])?" + _CLOCK + ")")
NEXT = re.compile(_CLOCK)
# Characters that glue a number to what is before it: a path, a price, an id, a version.
GLUE_BEFORE = frozenset(".,:/\\$€£¥₽#&=+-'’−_")
_MERIDIEM = re.compile(r"[ \t]?(?P<mer>[aApP])(?:\.[ \t]?[mM]\.?|[mM])(?![a-zA-Z0-9])")
# "3p", "5:30a": one letter, glued, and nothing of a word after it.
_MERIDIEM_LETTER = re.compile(r"(?P<mer>[aApP])(?![\w'’])")
_MER_START = frozenset("aApP")
_UNITS_AFTER = frozenset("%‰°$€£¥₽_")
_DASH_MINUTES = frozenset(("00", "15", "30", "45"))


class Clock:
    """One clock time as written. `form`: colon, dot, h, four, bare, word (noon/midnight) or
    phrase (a clock phrase or a number word, see words.py). `guess`: the business-hours reading
    applies when nothing says am/pm (bare hours and the phrases people say in words)."""

    __slots__ = ("start", "end", "h", "mi", "form", "mer", "suffix", "zone", "day", "lead_zero", "guess",
                 "needs", "lang", "letter")

    def __init__(self, start, end, h, mi, form, mer=None, suffix=None, zone=None, day=None, lead_zero=False):
        self.start, self.end, self.h, self.mi, self.form = start, end, h, mi, form
        self.mer, self.suffix, self.zone, self.day, self.lead_zero = mer, suffix, zone, day, lead_zero
        self.guess = form == "bare" and not lead_zero
        self.needs = None  # phrases: "strong", "cue", "hour word"
        self.lang = None  # phrases: the lexicon that read it
        self.letter = False  # am/pm written as one letter ("3p")

    @property
    def strong(self) -> bool:
        """A time by its shape alone, whatever the words around it."""
        if self.form == "phrase":
            return self.needs == "strong" or self.mer is not None or self.suffix == "oc"
        return self.form in ("colon", "four", "word") or (self.mer is not None and not self.letter) or self.suffix == "oc"

    @property
    def bare(self) -> bool:
        return self.form in ("bare", "phrase") and self.mer is None and self.suffix is None and self.needs != "strong"


def word_char_at(text: str, pos: int) -> bool:
    return pos < len(text) and (text[pos].isalnum() or text[pos] == "_")


def read_clock(P, scan: str, m: re.Match, dash_minutes: bool = False) -> Clock | None:
    """The clock at `m` with its am/pm, suffix and Z; None when it is glued to something else.

    `dash_minutes` allows "в 15-00" (only after the lexicons' dash cues, only :00/:15/:30/:45)."""
    iso = m.group("iso") if "iso" in m.re.groupindex else None
    start = m.start()
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
    elif m.group("m3") is not None:
        if not 1 <= h <= 12:
            return None
        form, mi = "colon", int(m.group("m3"))  # "330pm", "1140 a.m.": am/pm must follow (checked below)
    else:
        form, mi = "bare", 0
        end = m.end()
        if dash_minutes and scan[end:end + 1] == "-" and scan[end + 1:end + 3] in _DASH_MINUTES \
                and not scan[end + 3:end + 4].isdigit():
            form, mi = "colon", int(scan[end + 1:end + 3])
    if h == 24 and not (form == "colon" and mi == 0):
        return None
    clock = Clock(start, m.end(), h, mi, form, lead_zero=len(hour_text) == 2 and hour_text[0] == "0")
    if form == "colon" and m.group("m") is None and m.group("m3") is None:
        clock.end = m.end() + 3  # the dash minutes
    if iso:
        try:
            clock.day = date(int(m.group("Y")), int(m.group("Mo")), int(m.group("D")))
        except ValueError:
            return None
    pos = trail(P, scan, clock, clock.end)
    if pos is None:
        return None
    if m.group("m3") is not None and clock.mer is None:
        return None
    if clock.form == "h" and h > 23:
        return None
    clock.end = pos
    return clock


def trail(P, scan: str, clock: Clock, pos: int) -> int | None:
    """Read what is glued after a clock (Z, am/pm, o'clock/hour word, "12 noon"); the new end, or
    None when the clock is glued to a word or a unit."""
    form, h = clock.form, clock.h
    if form in ("colon", "four") and scan.startswith("Z", pos) and not word_char_at(scan, pos + 1):
        clock.zone = "UTC"
        pos += 1
    following = scan[pos:pos + 2]
    if clock.zone is None and form in ("colon", "bare", "dot", "phrase") and (
            following[:1] in _MER_START or following[1:2] in _MER_START):
        mer = _MERIDIEM.match(scan, pos)
        if mer is None and form in ("colon", "bare") and following[:1] in _MER_START:
            mer = _MERIDIEM_LETTER.match(scan, pos)
            if mer is not None:
                clock.letter = True
        written = mer.group().lstrip()[:2] if mer else ""
        if mer and not (written.lower() == "am" and written != "AM" and (
                P.meridiem_blockers.match(scan, mer.end()) or clock.lang in P.L.am_is_a_word)):
            letter = mer.group("mer").lower()
            if form != "colon" and not 1 <= h <= 12:
                return None
            if 1 <= h <= 12 or h == 0:
                clock.mer = letter
            pos = mer.end()
        else:
            clock.letter = False
    if clock.mer is None and form != "h" and clock.zone is None and (
            following[:1] in P.suffix_start or following[1:2] in P.suffix_start):
        suffix = P.suffix.match(scan, pos)
        if suffix:
            clock.suffix = "oc" if suffix.group("oc") else "hw"
            pos = suffix.end()
            if form == "bare" and suffix.group().strip().lower() in ("h", "hs"):
                clock.form = "h"
                clock.suffix = None
                clock.guess = False
    if h == 12 and clock.mi == 0 and clock.mer is None and form in ("bare", "colon", "phrase"):
        twelve = P.twelve_word.match(scan, pos)
        if twelve:
            word = twelve.group("w").lower()
            clock.form, clock.h, clock.suffix = "word", (0 if word in P.L.midnight_words else 12), "12"
            clock.guess = False
            pos = twelve.end()
    if word_char_at(scan, pos) or scan[pos:pos + 1] in _UNITS_AFTER:
        return None  # glued to a word or a unit: "3x", "10k", "3rd", "15%", "2h30m"
    return pos


def read_word_atom(P, scan: str, pos: int) -> Clock | None:
    """"noon", "midnight", "полдень", "minuit", "meio-dia", and "час" in "в час дня" (one o'clock)."""
    found = P.word_atom.match(scan, pos)
    if found is None:
        return None
    word = found.group("word")
    lower = " ".join(word.lower().split())
    if lower in P.L.not_upper_words and word.isupper():
        return None  # MIDI, the file format
    if " " in lower:  # "meio dia", "medio día": also "half a day"
        from teamops.mentions.context import prev_words

        if prev_words(scan, pos)[1] not in P.L.noon_apart_after or scan[found.end():found.end() + 4].lower() == " de ":
            return None
    if lower in P.L.one_oclock:
        return Clock(pos, found.end(), 1, 0, "bare", suffix="hw")
    return Clock(pos, found.end(), 0 if lower in P.L.midnight_words else 12, 0, "word", suffix=lower)


def digit_starts(scan: str) -> list[int]:
    return [run.start() for run in _DIGIT_RUN.finditer(scan)]
