"""Step 4: the words around a clock. The cue before it ("at", "в", "um", "à", "a las", "às"), a
count after it ("3 retries", "в 3 раза"), a day part next to it ("7 вечера", "tonight at 8").

A cue is looked up in every lexicon for a clock in digits, and only in the clock's own lexicon
for a clock said in words (see words.py)."""

from __future__ import annotations

import re

from teamops.mentions.lexicon import languages

_PREV_WORDS_REVERSED = re.compile(
    r"[ \t]*[~≈]?[ \t]*(?P<w2>[^\W\d_]+(?:['’][^\W\d_]+)?|@)(?![\w'’])(?:[ \t]+(?P<w1>[^\W\d_]+(?:['’][^\W\d_]+)?)(?![\w'’]))?"
)
NEXT_WORD = re.compile(r"[ \t]*\(?[ \t]*(?P<w>[^\W\d_]+|%)")
_OR_NUMBER = re.compile(r"[ \t]*[0-9]{1,3}(?![0-9:.])")
_AFTER_GAP = re.compile(r"[\s,]*(?:[^\W\d]+[ \t]+){0,2}\Z")
_CUT = re.compile(r"[0-9.!?;,\n]")
_RESCUE_CHARS = frozenset("-–—‐−~(+/")


def prev_words(scan: str, start: int) -> tuple[str, str]:
    """The two words right before `start`, lower case ("", "" when a number or a sign is there).

    Matched on the reversed 40 characters before the time: anchored, so it costs the length of
    two words, not a scan of the window."""
    found = _PREV_WORDS_REVERSED.match(scan[max(0, start - 40):start][::-1])
    if not found:
        return "", ""
    return (found.group("w1") or "")[::-1].lower(), found.group("w2")[::-1].lower()


def cue(L, w1: str, w2: str) -> str | None:
    """What the words before a number make of it: single, range, between, weak, value,
    duration, or None. `L` is the merged lexicon or one Language."""
    if w2 in L.cues_single:
        if w1 in L.cue_value_before.get(w2, ()):
            return "value"
        return "single"
    pair = L.cue_pairs.get(f"{w1} {w2}")
    if pair:
        return pair
    if w2 in L.cues_weak:
        return "weak"
    if w2 in L.cues_range:
        return "range"
    if w2 in L.cues_between:
        return "between"
    if w2 in L.duration_before:
        return "duration"
    return None


class LanguageCues:
    """The cue words of one lexicon, shaped like the merged ones for `cue`."""

    def __init__(self, lang):
        M = lang.module
        get = lambda name: frozenset(getattr(M, name, ()))  # noqa: E731
        self.cues_single = lang.cues_single | get("IT_IS")
        self.cue_pairs = lang.cue_pairs
        self.cues_weak = lang.cues_weak
        self.cue_value_before = getattr(M, "CUE_VALUE_BEFORE", {})
        self.cues_range = lang.cues_range
        self.cues_between = lang.cues_between
        self.duration_before = get("DURATION_BEFORE")
        self.word_hour_followers = lang.word_hour_followers


_BY_CODE: dict[str, LanguageCues] = {}


def language_cues(code: str) -> LanguageCues:
    found = _BY_CODE.get(code)
    if found is None:
        for lang in languages():
            _BY_CODE[lang.code] = LanguageCues(lang)
        found = _BY_CODE[code]
    return found


def may_be_rescued(P, scan: str, pos: int) -> bool:
    """Can what follows a number without a cue still make it a time (a zone, a day part, a
    range)? A cheap look at the next word before the full context patterns run."""
    nxt = NEXT_WORD.match(scan, pos)
    if nxt is None:
        rest = scan[pos:pos + 3].lstrip(" \t")
        return rest[:1] in _RESCUE_CHARS
    if scan[pos:nxt.start("w")].strip(" \t") == "(":
        return True
    word = nxt.group("w")
    return word.lower() in P.rescue_words or "/" in scan[nxt.end():nxt.end() + 1]


def word_after(scan: str, pos: int) -> str:
    nxt = NEXT_WORD.match(scan, pos)
    return nxt.group("w").lower() if nxt else ""


def day_follows_of(P, scan: str, pos: int) -> bool:
    """"9h30 de sexta", "15h de amanhã", "8h du matin": "de" names the day, not what lasts."""
    found = P.of_day.match(scan, pos)
    if not found:
        return False
    word = found.group("w").lower()
    L = P.L
    return word in L.weekdays or word in L.day_offsets or word in L.day_follows_de


def counted_after(P, scan: str, pos: int) -> bool:
    """Is the number before `pos` a count ("3 retries", "в 3 раза", "10 people")?"""
    nxt = NEXT_WORD.match(scan, pos)
    if not nxt:
        return False
    L = P.L
    word = nxt.group("w").lower()
    if word in L.day_parts:
        return False  # "в 3 дня" is 15:00 once a cue made it a time
    if word == "%" or word in L.counted_nouns:
        return True
    if word in L.count_adjectives:  # "at 5 consecutive failures", "at 3 failed logins"
        return counted_after(P, scan, nxt.end())
    if word in L.or_words and word not in L.and_words:  # "at 3 or more", "2 or 3 of us"
        other = _OR_NUMBER.match(scan, nxt.end())
        if other:
            return counted_after(P, scan, other.end())
        return word_after(scan, nxt.end()) in L.more_words
    if word.startswith(L.not_counted_stems):
        return False
    # "в 5 местах", "в 3 случаях": stems and endings of counted things
    return word.startswith(L.counted_stems) or word.endswith(L.counted_endings)


def day_part(P, scan: str, start: int, end: int) -> str | None:
    """The day part written next to a time: "7 вечера", "3 in the afternoon", "tonight at 8".
    One after the time counts only within its clause ("standup 09:00, dinner tonight" does not
    move the 09:00)."""
    window_end = min(len(scan), end + 40)
    cut = _CUT.search(scan, end, window_end)
    after = P.day_part.search(scan, end, cut.start() if cut else window_end)
    if after and after.group("part") and _AFTER_GAP.match(scan, end, after.start()):
        return P.L.day_parts[" ".join(after.group("part").lower().split())]
    window_start = max(0, start - 40)
    before = list(P.day_part.finditer(scan, window_start, start))
    last = before[-1] if before else None
    if last is not None and last.group("part") and P.before_gap.match(scan, last.end(), start):
        return P.L.day_parts[" ".join(last.group("part").lower().split())]
    return None


def follows_ok(P, scan: str, pos: int, followers) -> bool:
    """After a number word read with a cue only: the end, punctuation, a day word, a day part, a
    zone or one of its lexicon's WORD_HOUR_FOLLOWERS; anything else may make it a count."""
    nxt = NEXT_WORD.match(scan, pos)
    if nxt is None or nxt.group("w") == "%":
        return nxt is None
    gap = scan[pos:nxt.start("w")]
    if any(ch in gap for ch in ",;!?.)(\n"):
        return True
    word = nxt.group("w").lower()
    L = P.L
    return (word in followers or word in L.day_offsets or word in L.weekdays or word in L.day_phrases_first
            or word in L.day_parts_first or word in P.rescue_words)
