"""Step 3b: clocks said in words, one language at a time ("at three", "half past 3", "halb vier",
"без четверти пять", "trois heures et demie", "las cinco menos cuarto", "quinze para as cinco").

Each lexicon's CLOCK_PHRASES are compiled here into one regex per phrase; an index from the
first word of a phrase (or, for a phrase that starts with a number, from the word after it) to
its phrases keeps the work per candidate to a few anchored matches. A phrase is read in one
language only: its number words, its joints and the cue before it must all be of that lexicon,
so the Spanish "once" (11) never turns English "at once" into a time.
"""

from __future__ import annotations

import re
from functools import cache

from teamops.mentions.clock import Clock
from teamops.mentions.lexicon import Language, alternation, languages

TOKEN = re.compile(r"[^\W_]+(?:['’\-][^\W\d_]+)*")
_DIGIT_HOUR = r"(?:2[0-4]|[01]?[0-9])"
_DIGIT_MINUTE = r"(?:[0-5]?[0-9])"
_DIGIT_MM = r"(?:[1-5][0-9])"
_DIGIT_M5 = r"(?:0?5|10|15|20|25)"
_BLANK = r"[ \t]+"
# A phrase ends at a word's end, or right before a glued am/pm ("10 past 6pm").
_END = r"(?:(?![\w'’]|-(?!ish(?![\w]))[^\W\d_])|(?=[aApP]\.?[mM]?(?![\w])))"  # not "fifteen-minute"


class _Lazy:
    """A phrase's regex, compiled the first time a message needs it: six lexicons' phrases cost
    most of a second to compile, and a message in digits never needs them."""

    __slots__ = ("source", "compiled")

    def __init__(self, source: str):
        self.source, self.compiled = source, None

    def match(self, text: str, pos: int):
        if self.compiled is None:
            self.compiled = re.compile(self.source, re.I)
        return self.compiled.match(text, pos)


class Reading:
    """One phrase's match: the clock it makes before am/pm and suffixes are read."""

    __slots__ = ("start", "end", "h", "mi", "noon", "needs", "lang", "minute_first", "and_minutes", "has_minutes")

    def __init__(self, start, end, h, mi, noon, needs, lang, minute_first=False, and_minutes=False, has_minutes=True):
        self.start, self.end, self.h, self.mi, self.noon, self.needs, self.lang = start, end, h, mi, noon, needs, lang
        self.minute_first, self.and_minutes, self.has_minutes = minute_first, and_minutes, has_minutes

    def clock(self) -> Clock:
        clock = Clock(self.start, self.end, self.h, self.mi, "word" if self.noon else "phrase")
        clock.guess = not self.noon
        clock.needs = "strong" if self.noon else self.needs
        clock.lang = self.lang
        return clock


class Grammar:
    """The compiled clock phrases and number words of one language."""

    def __init__(self, lang: Language):
        self.lang = lang
        numbers = dict(lang.numbers)
        self.hours = {w: v for w, v in numbers.items() if 0 <= v <= 24} | lang.hour_forms
        minutes = {w: v for w, v in numbers.items() if 1 <= v <= 59} | lang.minute_forms
        m5 = {w: v for w, v in minutes.items() if v in (5, 10, 15, 20, 25)} | lang.quarter_words
        L = lang.module
        self.noons = {w: 12 for w in getattr(L, "NOON_WORDS", ())} | {w: 0 for w in getattr(L, "MIDNIGHT_WORDS", ())}
        self._alternations: dict[str, str] = {}
        self.slots = {
            "h": ({**self.hours, **self.noons}, _DIGIT_HOUR), "m": (minutes, _DIGIT_MINUTE),
            "mm": ({w: v for w, v in minutes.items() if v >= 10}, _DIGIT_MM), "m5": (m5, _DIGIT_M5),
            "noon": (self.noons, None),
            **{name: (values, None) for name, values in lang.slots.items()},
        }
        self.minute_slots = ("m", "mm", "m5", *getattr(L, "MINUTE_SLOTS", ()))
        self.and_words = frozenset(getattr(L, "AND_WORDS", ()))
        self.glued: set[str] = set()  # words that are a clock phrase on their own ("полвосьмого")
        self.literal_first: set[str] = set()  # "half", "quarter", "halb", "без": a phrase starts here
        self.optional_first: set[str] = set()  # "a" of "a quarter to five": a phrase may start here
        self.by_first: dict[str, list] = {}
        self.by_second: dict[str, list] = {}  # phrases starting with a number, by the word after it
        for phrase in lang.clock_phrases:
            self._add(phrase)
        self.word_values = self.hours  # a bare number word read as an hour
        self.hour_heads = frozenset(w.split()[0] for w in self.hours)
        self.hour_word = _Lazy("(?:" + alternation(self.hours) + ")" + _END)

    def _add(self, phrase) -> None:
        tokens = phrase.template.split()
        parts = []
        firsts: set[str] = set()
        seconds: set[str] = set()
        digit_first = False
        and_minutes = False
        collecting = 0  # 0: first words, 1: second words, 2: done
        for index, token in enumerate(tokens):
            optional = token.endswith("?") and len(token) > 1
            body = token[:-1] if optional else token
            pattern, words, digits = self._token(body)
            if index + 1 < len(tokens) and body in self.and_words and tokens[index + 1].startswith("{m"):
                and_minutes = True
            if collecting == 0:
                firsts |= words
                if not optional and "{" not in body:
                    self.literal_first |= words
                elif optional and "{" not in body:
                    self.optional_first |= words
                digit_first = digit_first or digits
                if not optional:
                    collecting = 1
            elif collecting == 1:
                seconds |= words
                if not optional:
                    collecting = 2
            parts.append((pattern, optional))
        regex = ""
        for index, (pattern, optional) in enumerate(parts):
            if index == 0:
                regex += f"(?:{pattern}{_BLANK})?" if optional else pattern
            elif index == 1 and parts[0][1]:
                regex += f"(?:{pattern}{_BLANK})?" if optional else pattern
            else:
                regex += f"(?:{_BLANK}{pattern})?" if optional else f"{_BLANK}{pattern}"
        entry = (_Lazy(regex + _END), phrase, and_minutes)
        for word in firsts:
            self.by_first.setdefault(word, []).append(entry)
        if digit_first:
            for word in seconds:
                self.by_second.setdefault(word, []).append(entry)

    def _alternation(self, name: str) -> str:
        found = self._alternations.get(name)
        if found is None:
            found = self._alternations[name] = alternation(self.slots[name][0])
        return found

    def _token(self, body: str) -> tuple[str, set[str], bool]:
        """A template token -> (regex, the words it can start with, can it be digits)."""
        out, words, digits, rest = "", set(), False, body
        first = True
        while rest:
            slot = re.match(r"\{(\w+)\}", rest)
            if slot:
                values, digit_pattern = self.slots[slot.group(1)]
                alternatives = self._alternation(slot.group(1))
                if digit_pattern:
                    alternatives = f"{digit_pattern}(?![0-9])|{alternatives}" if alternatives else digit_pattern
                out += f"(?P<{slot.group(1)}>{alternatives})"
                if first:
                    words |= {w.split()[0] for w in values}
                    digits = digit_pattern is not None
                rest = rest[slot.end():]
            else:
                literal = re.match(r"[^{]+", rest).group()
                choices = literal.split("|")
                out += "(?:" + "|".join(re.escape(c) for c in choices) + ")"
                if first:
                    words |= {c.lower().split("-")[0] if "{" in body else c.lower() for c in choices}
                rest = rest[len(literal):]
            first = False
        if "{" in body and not body.startswith("{"):
            # a literal glued to a slot ("пол{ord}"): index the whole glued words too
            literal = body[:body.index("{")]
            name = re.search(r"\{(\w+)\}", body).group(1)
            glued = {(literal + w).lower() for w in self.slots[name][0]}
            words |= glued
            self.glued |= glued
        return out, words, digits

    def read_at(self, scan: str, pos: int, entries) -> list[Reading]:
        out = []
        for lazy, phrase, and_minutes in entries:
            found = lazy.match(scan, pos)
            if found is None:
                continue
            reading = self._evaluate(found, phrase, and_minutes)
            if reading is not None:
                out.append(reading)
        return out

    def _value(self, name: str, text: str) -> tuple[int, bool]:
        """(value, is noon/midnight) of a slot's text."""
        if text[:1].isdigit():
            return int(text), False
        key = " ".join(text.lower().split())
        values = self.slots[name][0]
        if name == "h" and key in self.noons:
            return self.noons[key], True
        return values[key], name == "noon"

    def _evaluate(self, found: re.Match, phrase, and_minutes: bool) -> Reading | None:
        groups = found.groupdict()
        hour_name = next((n for n in groups if n not in self.minute_slots and groups[n] is not None), None)
        minute_name = next((n for n in self.minute_slots if groups.get(n) is not None), None)
        if hour_name is None:
            return None
        h, noon = self._value(hour_name, groups[hour_name])
        m = self._value(minute_name, groups[minute_name])[0] if minute_name else 0
        hour_rule, minute_rule = phrase.rule.split(":")
        if hour_rule == "h-1":
            if noon:
                h = 11 if h == 12 else 23
            elif h == 0:
                h = 23
            elif h <= 12:
                h = 12 if h == 1 else h - 1
            else:
                h -= 1
        if minute_rule == "m":
            mi = m
        elif minute_rule == "60-m":
            mi = 60 - m
        elif minute_rule == "30-m":
            mi = 30 - m
        elif minute_rule == "30+m":
            mi = 30 + m
        else:
            mi = int(minute_rule)
        if not (0 <= h <= 23 and 0 <= mi <= 59) or (minute_rule != "m" and minute_name and not 1 <= m < 60):
            return None
        if minute_rule in ("30-m", "30+m") and not 1 <= m < 30:
            return None
        return Reading(found.start(), found.end(), h, mi, noon, phrase.needs, self.lang.code,
                       phrase.minute_first, and_minutes)


@cache
def grammars() -> tuple[Grammar, ...]:
    return tuple(Grammar(lang) for lang in languages())


def word_clocks(scan: str, pos: int, word: str, digit_next: str | None = None) -> list[Reading]:
    """Every reading of a clock phrase or number word starting at `pos`, longest first.

    `word` is the lower-case word at `pos`; for a digit start it is "" and `digit_next` is the
    word right after the digits (a phrase that starts with a number is tried only when that word
    can continue it: "20 nach 3", "3 y media")."""
    found: list[Reading] = []
    for grammar in grammars():
        if digit_next is not None:
            entries = grammar.by_second.get(digit_next)
            if entries:
                found.extend(grammar.read_at(scan, pos, entries))
            continue
        entries = grammar.by_first.get(word)
        if entries:
            found.extend(grammar.read_at(scan, pos, entries))
        if word in grammar.hour_heads:
            number = grammar.hour_word.match(scan, pos)
            value = grammar.hours.get(" ".join(number.group().lower().split())) if number else None
            if value is not None and value <= 23:
                found.append(Reading(pos, number.end(), value, 0, False, grammar.lang.word_hour_needs,
                                     grammar.lang.code, has_minutes=False))
    # Longest first; on a tie the reading as one number word ("vinte e duas" = 22, not 20:02).
    found.sort(key=lambda r: (r.end - r.start, not r.has_minutes), reverse=True)
    return found


@cache
def vocabulary():
    """What the prefilter needs: (first words of any phrase, single cue and joint words before a
    number word, two-word cues, clock words after a number word, joints inside phrases that need
    another number or phrase word after them, words that are a clock on their own)."""
    first: set[str] = set()
    before: set[str] = set()
    pairs: set[tuple[str, str]] = set()
    after: set[str] = set()
    joints: set[str] = set()
    alone: set[str] = set()
    for grammar in grammars():
        lang = grammar.lang
        L = lang.module
        first |= set(grammar.by_first) | set(grammar.word_values)
        before |= set(lang.cues_single) | set(lang.cues_range) | set(lang.cues_between) | set(lang.cues_weak)
        before |= set(getattr(L, "IT_IS", ()))
        pairs |= {tuple(pair.split()[-2:]) for pair in lang.cue_pairs}
        oclock = getattr(L, "OCLOCK_WORDS", ())
        after |= set(getattr(L, "HOUR_WORDS", ())) | {w for w in oclock if " " not in w}
        joints |= {part for w in oclock if " " in w for part in w.split()}  # "tres en punto"
        after |= {p.split()[0] for p in getattr(L, "DAY_PARTS", {})}
        for phrase in lang.clock_phrases:
            tokens = phrase.template.split()
            leading = True
            for token in tokens:
                if "{" in token:
                    leading = False
                    continue
                words = set(token.rstrip("?").lower().split("|"))
                if leading:
                    before |= words  # "half three", "quarter to five", "без четверти пять"
                else:
                    joints |= words  # "three y media", "5 e meia", "ten past six"
        alone |= grammar.glued
        alone |= {w.split()[0] for w in grammar.noons}
    after |= {"am", "pm", "a.m", "p.m"}
    return (frozenset(first), frozenset(before), frozenset(pairs), frozenset(after), frozenset(joints),
            frozenset(alone))


@cache
def numbers_needing_an_hour_word() -> frozenset[str]:
    """Number words known only to lexicons where a bare number word is never a time ("à trois")."""
    needing: set[str] = set()
    free: set[str] = set()
    for grammar in grammars():
        heads = {w.split()[0] for w in grammar.word_values}
        (needing if grammar.lang.word_hour_needs == "hour word" else free).update(heads)
    return frozenset(needing - free)
