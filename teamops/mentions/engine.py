"""Step 2 and the whole pipeline: find the candidates (digit runs, and words that can start a
clock in some lexicon), read each into a clock (clock.py, words.py), judge it with the words
around it (context.py), add its range end, zone and day part, then resolve the day (days.py),
the hour (hours.py) and DST into Mentions."""

from __future__ import annotations

import re
from bisect import bisect_right
from datetime import datetime, timedelta, timezone
from typing import Sequence

from teamops.mentions import context as C
from teamops.mentions.clock import FIRST, GLUE_BEFORE, NEXT, digit_starts, read_clock, read_word_atom
from teamops.mentions.days import day_refs, resolve_day
from teamops.mentions.lexicon import with_punctuation
from teamops.mentions.hours import business, first_after, hour, range_hours
from teamops.mentions.mask import mask
from teamops.mentions.model import Mention, dst_flag
from teamops.mentions.patterns import patterns
from teamops.mentions.words import TOKEN, grammars, numbers_needing_an_hour_word, vocabulary, word_clocks
from teamops.mentions.zones import apply_detached_zones, zone_after, zone_before, zone_for

_DIGIT = re.compile(r"[0-9]")
_ASPECT_RATIO = re.compile(r"(?<![\w:.])(?:4:3|16:9|21:9|3:2|5:4|32:9)(?![\w:])")
_CLOCK_AFTER_DASH = re.compile(r"[-–/][0-9]")
_SENTENCE_END = re.compile(r"(?<![apAP]\.[mM])[.!?;](?=\s|\Z)|\n")
_DIGITS_THEN_WORD = re.compile(r"[0-9]+[ \t]*(?P<w>[^\W\d_]+)")
_SCORE_BEFORE = re.compile(r"(?<![\w:.])[0-9]{1,2}[ \t]+[^\W\d_]{1,3}[ \t]+\Z")
_DATE_DIGITS = re.compile(r"[0-9](?:st|nd|rd|th)(?![\w])|[0-9]\.[01]?[0-9](?![0-9:])")
_REJECT = object()  # a range whose end is a count ("from 2 to 4 weeks"): nothing here is a time


class _Reading:
    __slots__ = ("start", "end", "first", "second", "tz", "explicit", "part")

    def __init__(self, start, end, first, second, tz, explicit, part):
        self.start, self.end, self.first, self.second = start, end, first, second
        self.tz, self.explicit, self.part = tz, explicit, part


# ----------------------------------------------------------------------------------------------
# Prefilters
# ----------------------------------------------------------------------------------------------

_VOCABULARY = None
_QUICK = None
_OPTIONAL_FIRST: frozenset[str] = frozenset()
_NEED_HOUR_WORD: frozenset[str] = frozenset()
_PUNCTUATION = ",.?!;:()…\"'«»¿¡*_~"


def _vocabulary():
    global _VOCABULARY, _QUICK
    if _VOCABULARY is None:
        first, before, pairs, after, joints, alone = vocabulary()
        numbers = set()
        for grammar in grammars():
            numbers |= {w.split()[0] for w in grammar.word_values}
            for name, (values, _digits) in grammar.slots.items():
                if name != "noon":
                    numbers |= {w.split()[0] for w in values}
        L = patterns().L
        starters = {w.split()[0] for w in L.noon_words | L.midnight_words} | set(L.one_oclock)
        literal_first = frozenset(w for g in grammars() for w in g.literal_first)
        global _NEED_HOUR_WORD
        _NEED_HOUR_WORD = numbers_needing_an_hour_word()
        global _OPTIONAL_FIRST
        _OPTIONAL_FIRST = frozenset(w for g in grammars() for w in g.optional_first)
        _VOCABULARY = (frozenset(numbers), before, pairs, after, joints, alone | starters, literal_first)
        # The words whose presence sends a digit-free message to the word reader: whitespace
        # tokens, so also with the punctuation people glue after them ("at three?").
        base = numbers | alone | starters | {w for w in first if len(w) > 1}
        _QUICK = with_punctuation(base | {w + "-ish" for w in numbers})
    return _VOCABULARY


def _has_clock_words(lower: str) -> bool:
    """A fast first look (one split, one set test): is there any word a clock in words needs?"""
    if _QUICK is None:
        _vocabulary()
    if not _QUICK.isdisjoint(lower.split()):
        return True
    return "-" in lower and not _QUICK.isdisjoint(lower.replace("-", " ").split())  # "noon-1pm"


def _word_time_positions(tokens: list[tuple[int, str]], vocabulary) -> list[int]:
    """Indexes of tokens that look like part of a clock said in words: a number word after a cue
    ("at three", "a las tres") or before a clock word ("три часа", "drei Uhr", "five o'clock"),
    or before a joint that goes on with a number or a phrase word ("three y media", "ten past
    six"); or a word that is a clock on its own ("полвосьмого", "noon")."""
    numbers, before, pairs, after, joints, alone, _first = vocabulary
    found = []
    last = len(tokens) - 1
    for index in [i for i, (_pos, word) in enumerate(tokens) if word in numbers or word in alone]:
        word = tokens[index][1]
        if word in alone:
            found.append(index)
        elif word in numbers:
            prev = tokens[index - 1][1] if index else ""
            nxt = tokens[index + 1][1] if index < last else ""
            cued = prev in before or (index > 1 and (tokens[index - 2][1], prev) in pairs)
            if cued and word in _NEED_HOUR_WORD and nxt not in after and nxt not in joints:
                continue  # "à trois pour la démo": a French number word needs "heures"
            if cued or nxt in after or nxt in numbers:
                found.append(index)
            elif nxt in joints and index + 1 < last:
                beyond = tokens[index + 2][1]
                if beyond in numbers or beyond[:1].isdigit() or beyond in joints or beyond in after:
                    found.append(index)
    return found


def _head(word: str, numbers) -> str:
    """"seven-ish", "three-thirty": a number word joined to more by a hyphen starts a clock too."""
    if "-" in word and word not in numbers:
        head = word.split("-", 1)[0]
        if head in numbers or head in _vocabulary()[5]:
            return head
    return word


def might_mention_time(text: str) -> bool:
    """Cheap superset test for the webhook: False means find_mentions(text, ...) is [] for sure.
    True for any digit, and for a number word next to a cue or a clock word ("at three",
    "halb vier", "в три часа"), or a word that is a clock on its own ("noon", "полвосьмого")."""
    if _DIGIT.search(text) is not None:
        return True
    lower = text.lower()
    if not _has_clock_words(lower):
        return False
    vocabulary = _vocabulary()
    numbers = vocabulary[0]
    words = [w.strip(_PUNCTUATION) for w in lower.split()]
    if "-" in lower:
        words = [_head(w, numbers) if "-" in w else w for w in words]
    return bool(_word_time_positions([(0, w) for w in words if w], vocabulary))


def might_hold_unread_time(text: str, mentions: Sequence[Mention]) -> bool:
    """True when the text holds a clock phrase said in words, with its minutes ("tres y media",
    "twenty to one", "quinze para as cinco", "полвосьмого"), that no mention covers: the rules saw
    its shape but found no cue strong enough to answer. The cheap signal for handing a message to
    a slower reader (issue 14); False on plain chat and on every time the rules did read."""
    if not text or (_DIGIT.search(text) is None and not _has_clock_words(text.lower())):
        return False
    P = patterns()
    vocabulary = _vocabulary()
    scan = mask(text)
    tokens = [(m.start(), _head(m.group().lower(), vocabulary[0])) for m in TOKEN.finditer(scan)]
    covered = [(m.start, m.end) for m in mentions]
    for index, (pos, word) in enumerate(tokens):
        if any(start <= pos < end for start, end in covered):
            continue
        if word[:1].isdigit():
            nxt = tokens[index + 1][1] if index + 1 < len(tokens) else ""
            if nxt not in P.second_words:
                continue
            readings = word_clocks(scan, pos, "", nxt)
        elif word in vocabulary[5]:
            if read_word_atom(P, scan, pos) is not None or any(
                    r.end - r.start > len(word) - 1 for r in word_clocks(scan, pos, word)):
                return True  # "полвосьмого", "noon": a clock on its own, unread
            continue
        elif word in vocabulary[6] or word in vocabulary[0]:
            readings = word_clocks(scan, pos, word)
        else:
            continue
        for reading in readings:
            if not reading.has_minutes or any(start < reading.end and reading.start < end for start, end in covered):
                continue
            w1, w2 = C.prev_words(scan, reading.start)
            after = C.word_after(scan, reading.end)
            if w2 in P.L.duration_before or C.counted_after(P, scan, reading.end) or after in P.L.hour_words \
                    or (after in P.L.of_words and not C.day_follows_of(P, scan, reading.end)):
                continue  # "pendant deux heures et quart", "cuatro y media horas": lengths of time
            return True
    return False


# ----------------------------------------------------------------------------------------------
# The engine
# ----------------------------------------------------------------------------------------------

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
    P = patterns()
    scan = mask(text)
    starts: list[tuple[int, str | None]] = [(s, None) for s in digit_starts(scan)]
    vocabulary = _vocabulary()
    numbers, first_words = vocabulary[0], vocabulary[6]
    lower = scan.lower()
    words = lower.split()  # the quick sets hold each word also with the punctuation glued after it
    if "-" in lower:
        words += lower.replace("-", " ").split()
    has_parts = not P.day_part_quick.isdisjoint(words)  # no day part anywhere: skip their patterns
    joints = not P.second_words_quick.isdisjoint(words)  # "20 nach 3", "3 y media" need one of these
    tokens = None
    if not _QUICK.isdisjoint(words):
        if len(lower) == len(scan):
            tokens = [(m.start(), m.group()) for m in TOKEN.finditer(lower)]
        else:  # a character whose lower case is longer: keep the text's positions
            tokens = [(m.start(), m.group().lower()) for m in TOKEN.finditer(scan)]
        if "-" in lower:
            tokens = [(p, _head(w, numbers)) if "-" in w else (p, w) for p, w in tokens]
        for index in _word_time_positions(tokens, vocabulary):
            starts.append(tokens[index])
        for index, (pos, word) in enumerate(tokens):
            if word in first_words:
                starts.append((pos, word))  # "half", "halb", "viertel", "без", "quarter"
                if index and tokens[index - 1][1] in _OPTIONAL_FIRST:
                    starts.append(tokens[index - 1])  # "a quarter to five"
    if tokens:
        starts.sort(key=lambda s: (s[0], s[1] is not None))
    readings: list[_Reading] = []
    pos = 0
    for start, word in starts:
        if start < pos:
            continue
        reading = _read_at(P, scan, start, word, readings, chat_zones, has_parts, joints)
        if reading is not None:
            readings.append(reading)
            pos = reading.end
    if not readings:
        return []
    if any(r.tz is None for r in readings) and ("(" in scan or P.detached_hint.search(scan)):
        bounds = [b.start() for b in _SENTENCE_END.finditer(scan)]
        apply_detached_zones(P, scan, readings, chat_zones, lambda p: bisect_right(bounds, p))
    day_words = not P.day_quick.isdisjoint(words) or bool(_DATE_DIGITS.search(scan))
    return _resolve(P, text, scan, readings, tz, now, day_refs(P, scan) if day_words else [])


def _candidates(P, scan: str, start: int, word: str | None, joints: bool = True):
    """The clocks that can start at `start`, most specific first."""
    L = P.L
    if word is None:
        after = _DIGITS_THEN_WORD.match(scan, start) if joints else None
        if after is not None and after.group("w").lower() in P.second_words:
            for found in word_clocks(scan, start, "", after.group("w").lower()):
                yield found.clock()
        found = FIRST.match(scan, start)
        if found is not None:
            dash = scan.startswith("-", found.end()) and C.prev_words(scan, start)[1] in L.cues_dash_minutes
            clock = read_clock(P, scan, found, dash)
            if clock is not None:
                yield clock
        return
    atom = read_word_atom(P, scan, start)
    readings = word_clocks(scan, start, word)
    if atom is not None and not any(r.end > atom.end for r in readings):
        yield atom
    for found in readings:
        yield found.clock()
    if atom is not None:
        yield atom


def _read_at(P, scan: str, start: int, word: str | None, readings: list[_Reading], chat_zones, has_parts=True,
             joints=True):
    glued = False
    if word is None and start and (scan[start - 1] in GLUE_BEFORE or scan[start - 1].isalnum()):
        lead = scan[max(0, start - 3):start].lower()
        if not (lead[-2:] in P.L.cues_glued and (len(lead) < 3 or not lead[0].isalnum())):
            return None
        glued = True  # "at3pm"
    w1 = w2 = None
    if word is None and not glued and not (readings and start - readings[-1].end <= 5):
        nxt = _DIGITS_THEN_WORD.match(scan, start)
        if nxt is not None and scan[nxt.start("w") - 1] == " " and nxt.group("w").lower() not in P.digit_followers:
            w1, w2 = C.prev_words(scan, start)
            if w2 not in P.any_cue and f"{w1} {w2}" not in P.L.cue_pairs:
                return None  # "3 PRs", "12 min": no cue before, nothing after that could make a time
    for clock in _candidates(P, scan, start, word, joints):
        if w2 is None:
            w1, w2 = C.prev_words(scan, start)
        if clock.form == "phrase" or (clock.form == "word" and clock.lang):
            from_trail = _trail_phrase(P, scan, clock)
            if from_trail is None:
                continue
        if glued:
            if clock.form != "colon" and (clock.mer is None or clock.letter):
                continue
        reading = _read(P, scan, clock, w1, w2, readings, chat_zones, glued, has_parts)
        if reading is not None:
            return reading
    return None


def _trail_phrase(P, scan: str, clock):
    from teamops.mentions.clock import trail

    pos = trail(P, scan, clock, clock.end)
    if pos is None:
        return None
    clock.end = pos
    return clock


def _read(P, scan: str, first, w1: str, w2: str, readings: list[_Reading], chat_zones, glued: bool = False,
          has_parts: bool = True):
    L = P.L
    cues = C.language_cues(first.lang) if first.lang else L
    cue = "single" if glued else C.cue(cues, w1, w2)
    if cue is None and w2 in L.tonight_words and first.form == "bare" and P.tonight_end.match(scan, first.end):
        cue = "single"  # "tonight 9?", "tonight 9 ok?"; but "tonight 4 episodes left" is a count
    if cue == "weak" and first.form in ("bare", "h"):  # "amanha as 9 no escritório", "demain a 10h"
        if C.follows_ok(P, scan, first.end, P.weak_followers.get(w2, frozenset())):
            cue = "single"
        elif first.form == "h" and first.mi == 0 and first.h < 13:
            return None  # "a 2h meeting"
    if cue == "single" and _SCORE_BEFORE.search(scan, max(0, first.start - 24), first.start):
        cue = None  # "score final 3 à 1", "won 2 to 1": the word joins two numbers
    if cue not in ("single", "range", "between") and not first.strong and first.form != "h" \
            and first.needs != "tail" and not (first.suffix == "hw" and first.h >= 13) \
            and not C.may_be_rescued(P, scan, first.end):
        if not (readings and first.start - readings[-1].end <= 5):
            return None  # "3 PRs", "2.14 is out": nothing after the number can make it a time
    chained = None  # the time this one is an alternative to: it shares that one's day part
    if cue is None and w2 in L.or_words and readings and first.start - readings[-1].end <= len(w2) + 3:
        cue, chained = "single", readings[-1]  # "at 10 or 11", "в 10 или 11"
    if cue is None and readings and first.start - readings[-1].end <= 3 and scan[readings[-1].end:first.start].strip() in (",", "/"):
        cue, chained = "single", readings[-1]
    if chained is None and cue == "single" and w1 in L.or_words and readings \
            and first.start - readings[-1].end <= len(w1) + len(w2) + 4:
        chained = readings[-1]  # "в 7 вечера или в 8", "tonight at 9 or at 10"
    if first.form == "colon":
        if w2 in L.not_clock_before or w1 in L.not_clock_before:
            return None
        if first.h == 16 and first.mi == 10 and cue is None and _ASPECT_RATIO.search(scan):
            return None  # "is it 4:3 or 16:10?": a screen, not a clock
        after = C.NEXT_WORD.match(scan, first.end)
        if after and after.group("w").lower() in L.not_clock_after:
            return None
    elif first.form == "dot":
        if w2 in L.not_clock_before_dotted or w1 in L.not_clock_before_dotted:
            return None
    elif first.form == "h" and (cue in ("duration", "value") or (
            C.word_after(scan, first.end) in L.duration_nouns and not C.day_follows_of(P, scan, first.end))):
        return None  # "in 2h", "a 15h flight", "16h de vol"; but "às 9h30 de sexta" is a time
    elif first.form in ("bare", "phrase") and cue in ("value", "duration") and not first.strong:
        return None
    if first.form == "phrase" and first.needs != "strong" and cue == "duration":
        return None  # "in three thirty-minute slots", "за три часа"

    end = first.end
    second = None
    sep = P.range_sep.match(scan, end)
    if sep and first.form != "four":
        second = _range_end(P, scan, sep, first, cue, w1, w2,
                            first.form == "colon" and scan[first.start:first.end].find(":") < 0)
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
        after = zone_after(P, scan, end, after_ampm, chat_zones)
        if after is not None:
            zone, explicit, end = after
            if zone is None:
                zone = ""  # "my time": the sender's zone, stated
    if zone is None and first.strong and first.form != "phrase":
        before = zone_before(scan, first.start, chat_zones)
        if before is not None:
            zone, explicit = before[0], True
            first.start = before[1]

    part_adjacent = has_parts and P.day_part_adjacent.match(scan, end) is not None
    if not _accepted(first, second, cue, zone is not None, part_adjacent):
        return None
    if last.bare and zone is None and C.counted_after(P, scan, last.end):
        return None
    part = C.day_part(P, scan, first.start, end) if has_parts else None
    if part is None and chained is not None and first.mer is None:
        part = chained.part  # "tonight 9 or 10?", "в 7 вечера или 8"
    written_part = P.day_part.match(scan, end + len(scan[end:end + 3]) - len(scan[end:end + 3].lstrip(" \t"))) \
        if has_parts and last.mer is None and last.h <= 12 else None
    if written_part is not None and written_part.group("part"):
        end = written_part.end()  # "7 вечера", "в 3 дня", "3 in the afternoon" are one phrase
        if zone is None:
            after = zone_after(P, scan, end, False, chat_zones)  # "в 9 утра по Лондону"
            if after is not None:
                zone, explicit, end = after
                zone = zone if zone is not None else ""
    elif first.form == "phrase" and second is None and zone is None and first.suffix is None \
            and first.mer is None and not part_adjacent and (
                first.needs == "word" or (first.needs == "tail" and cue not in ("single", "weak"))):
        if cue in ("duration", "value") or not C.follows_ok(P, scan, end, C.language_cues(first.lang).word_hour_followers):
            return None  # "at three locations", "в три захода": a count the noun list does not know
    return _Reading(first.start, end, first, second, zone, explicit, part)


def _range_end(P, scan: str, sep: re.Match, first, cue: str | None, w1: str, w2: str, dash_minutes: bool = False):
    """The end of a range starting with `first`, None when there is none, _REJECT for a count."""
    L = P.L
    word = (sep.group("w") or "").lower()
    if word in L.and_words and cue != "between":
        return None
    if word in L.range_words_need_cue and cue not in ("range", "between"):
        return None
    if word and (w2 in L.range_not_after or w1 in L.range_not_after):
        return None  # "pushed the 2pm to 3:30pm": a time moved, not a range
    second = _second_clock(P, scan, sep.end(), first, dash_minutes)
    if second is None or second.day is not None:
        return None
    if second.bare and C.counted_after(P, scan, second.end):
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
    if first.bare and second.bare and first.guess and second.guess and 1 <= second.h < first.h <= 12 \
            and first_after(second.h, business(first.h)) < business(first.h) \
            and not P.day_part_adjacent.match(scan, second.end):
        return _REJECT  # "ganhamos de 3 a 1": a guessed range that would run overnight is a score
    if first.bare and second.bare and cue not in ("range", "between", "single") \
            and not P.day_part_adjacent.match(scan, second.end) and not zone_after(P, scan, second.end, False, ()):
        return None  # "9-5", "3-2": a job's hours, a score
    return second


def _second_clock(P, scan: str, pos: int, first, dash_minutes: bool):
    if pos < len(scan) and scan[pos].isalpha():
        token = TOKEN.match(scan, pos)
        if token is None:
            return None
        word = token.group().lower()
        for found in word_clocks(scan, pos, word):
            if first.lang and found.lang != first.lang:
                continue
            clock = _trail_phrase(P, scan, found.clock())
            if clock is not None:
                return clock
        atom = read_word_atom(P, scan, pos)
        return atom
    found = NEXT.match(scan, pos)
    if not found:
        return None
    after = _DIGITS_THEN_WORD.match(scan, pos)
    if after is not None and after.group("w").lower() in P.second_words:
        for reading in word_clocks(scan, pos, "", after.group("w").lower()):
            if first.lang and reading.lang != first.lang:
                continue
            clock = _trail_phrase(P, scan, reading.clock())
            if clock is not None:
                return clock
    return read_clock(P, scan, found, dash_minutes)


def _accepted(first, second, cue: str | None, zoned: bool, part_adjacent: bool) -> bool:
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
    if first.form == "phrase":
        if first.needs == "hour word":
            return first.suffix == "hw" and (cue == "single" or part_adjacent)
        if first.needs == "word":
            if first.suffix == "hw":
                return cue == "single" or (cue == "weak" and part_adjacent)
            return cue == "single" or zoned or part_adjacent
        if first.needs == "tail":
            return True  # the words after it were checked in _read
        return cue in ("single", "weak") or zoned or part_adjacent  # "three thirty", "tres y media"
    if first.form == "dot":
        return cue in ("single", "weak") or zoned or part_adjacent or first.suffix == "hw"
    if first.form == "h":
        if cue in ("single", "weak"):
            return True
        if cue == "duration":
            return False
        return first.h >= 13 or (first.mi > 0 and first.h >= 7) or zoned or part_adjacent
    # a bare number
    if not 0 <= first.h <= 23 or (first.h == 0 and not first.lead_zero):
        return False
    if first.suffix == "hw":
        # "в 5 часов", "8 часов вечера", "15 horas"; but "3 heures" alone is as often a length
        return cue == "single" or part_adjacent or (cue is None and 13 <= first.h <= 23)
    return cue == "single" or zoned or part_adjacent


# ----------------------------------------------------------------------------------------------
# Resolving readings to mentions
# ----------------------------------------------------------------------------------------------

def _resolve(P, text: str, scan: str, readings: list[_Reading], sender_tz: str, now: datetime, refs) -> list[Mention]:
    bounds = [b.start() for b in _SENTENCE_END.finditer(scan)
              if not any(r[0] <= b.start() < r[1] for r in refs)]  # "am 3. April": a date's dot ends nothing
    sentences = [bisect_right(bounds, r.start) for r in readings]
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
    # A day written right before a time ("postmortem Friday 11:00") is that time's; it does not
    # reach back to the times before it ("started 08:12, ... Friday 11:00").
    leads = {ref for ref in refs for r in readings if r.start >= ref[1] and P.leads_into.fullmatch(scan, ref[1], r.start)}
    mentions = []
    # Day words count from the writer's calendar: "10am PT tomorrow" from Lisbon on Wednesday
    # morning is Thursday, though it is still Tuesday in Los Angeles.
    writers_today = now.astimezone(zone_for(sender_tz)).date()
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
                if bisect_right(bounds, ref[0]) != sentence:
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
                day = resolve_day(best, writers_today)
                day_explicit = day is not None
        if day is None:
            day = today
        first, second = reading.first, reading.second
        # "midnight" and twelve at night are where their day ends: "deploy at midnight" and "в 12
        # ночи" are tonight's, "midnight-2am" too; not in "down since midnight", "last night at 12".
        ends_day = (first.form == "word" and first.h == 0) or (
            first.h == 12 and first.mer is None and reading.part in ("evening", "night"))
        coming = ends_day and not _past_midnight(P, scan, reading.start, bounds)
        if second is None:
            h, inferred = hour(first, reading.part)
            if ends_day and h in (0, 24):
                h = 24 if coming else 0
            start_local = _local(day, h, first.mi)
            end_local = None
        else:
            h, end_h, inferred = range_hours(first, second, reading.part)
            start_local = _local(day, h % 24, first.mi)
            end_local = _local(day, end_h, second.mi)
            if coming and h % 24 == 0:
                start_local += timedelta(days=1)
            for _ in range(2):  # an end before the start is on the next day
                if end_local < start_local:
                    end_local += timedelta(days=1)
        if not day_explicit and today != writers_today:
            # No day written and the zone's date is not the writer's: of that time on either date,
            # the one nearer now ("9am JST" from New York on Friday morning is Saturday's in
            # Tokyo; "10am PT" from Lisbon on Wednesday morning is Wednesday's, not Tuesday's).
            shift = writers_today - today
            if abs(_instant(start_local + shift, zone) - now) <= abs(_instant(start_local, zone) - now):
                start_local += shift
                end_local = end_local + shift if end_local is not None else None
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
            dst=dst_flag(start_local, zone),
        ))
    return mentions


def _past_midnight(P, scan: str, start: int, bounds: list[int]) -> bool:
    """A midnight that has been: "since midnight", "last night at midnight"."""
    if C.prev_words(scan, start)[1] in P.L.since_words:
        return True
    sentence = bisect_right(bounds, start)
    begin = bounds[sentence - 1] if sentence else 0
    return P.past_night.search(scan, begin, start) is not None


def _instant(local: datetime, zone) -> datetime:
    return local.replace(tzinfo=zone)


def _local(day, h: int, mi: int) -> datetime:
    if h >= 24:
        return datetime(day.year, day.month, day.day) + timedelta(days=1, hours=h - 24, minutes=mi)
    return datetime(day.year, day.month, day.day, h, mi)
