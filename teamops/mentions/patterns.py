"""The context patterns built from the lexicons: zones, day parts, day words, range joints and
the words glued to a clock. Compiled once, on the first message that could hold a time (not at
import: the service's cold start stays short)."""

from __future__ import annotations

import re
from functools import cache

from teamops import zonetable as T
from teamops.mentions.lexicon import alternation as alt
from teamops.mentions.lexicon import merged, with_punctuation


class _LazyPattern:
    """A regex compiled on its first use: a message touches only the patterns it needs, so the
    first message after start-up pays for a few, not for all of them."""

    __slots__ = ("args", "compiled")

    def __init__(self, pattern: str, flags: int = 0):
        self.args, self.compiled = (pattern, flags), None

    def __getattr__(self, name):
        compiled = object.__getattribute__(self, "compiled")
        if compiled is None:
            compiled = re.compile(*object.__getattribute__(self, "args"))
            object.__setattr__(self, "compiled", compiled)
        return getattr(compiled, name)


class Patterns:
    def __init__(self):
        L = self.L = merged()
        I = re.I  # noqa: E741 (reads as the flag it is)  every pattern below is compiled on its first use (_LazyPattern)
        self.zone_phrases = {" ".join(k.lower().split()): v for k, v in L.zone_phrases.items()}
        cities = alt(L.city_hints)
        self.zone_after = _LazyPattern(
            r"[ \t]*(?P<open>\([ \t]*)?(?:"
            r"(?P<iana>(?:Africa|America|Antarctica|Asia|Atlantic|Australia|Europe|Indian|Pacific|Etc)/[A-Za-z_\-]+(?:/[A-Za-z_\-]+)?)"
            r"|(?i:(?P<my>" + alt(L.my_time) + r"))(?![\w])"
            r"|(?i:(?P<phrase>" + alt(self.zone_phrases) + r"))(?![\w])"
            r"|(?i:(?:(?P<in>" + alt(L.city_leads) + r")[ \t]+)?(?P<city>" + cities + r"))(?![\w])"
            r"(?i:[ \t]+(?P<time>" + alt(L.time_word) + r"))?"
            r"|(?P<code>" + "|".join(T.CITY_CODES) + r")(?![\w])(?i:[ \t]+(?P<ctime>" + alt(L.time_word) + r"))?"
            r"|(?P<raw>[+\-−])(?P<rh>[0-9]{2}):?(?P<rm>[0-9]{2})(?![\w])"
            r"|(?P<abbr>[^\W\d_]{1,5})(?:[ \t]?(?P<sign>[+\-−])[ \t]?(?P<oh>[0-9]{1,2})(?::?(?P<om>[0-9]{2}))?)?(?![\w])"
            r")(?(open)[ \t]*\))"
        )
        self.capital_word_next = _LazyPattern(r"[ \t]+[A-Z]")
        # A capitalised place name after a time, then "time" or led by "in": "10am Karachi time".
        self.place_after = _LazyPattern(
            r"[ \t]*(?P<open>\([ \t]*)?(?:(?P<in>in)[ \t]+)?"
            r"(?P<name>[A-Z][^\W\d_]+(?:[ \t]+[A-Z][^\W\d_]+){0,2})"
            r"(?:[ \t]+(?P<time>(?i:" + alt(L.time_word) + r")))?(?![\w])(?(open)[ \t]*\))")
        self.day_part = _LazyPattern(
            r"(?<![\w])(?:(?P<greeting>" + alt(L.greetings) + r")|(?P<part>" + alt(L.day_parts) + r"))(?![\w])", I)
        self.day_part_adjacent = _LazyPattern(
            r"[ \t]*(?:" + alt(set(L.day_parts) - L.day_parts_not_alone) + r")(?![\w])", I)
        lead_cues = set(L.cues_single) | set(L.cue_pairs) | {"by", "about"}
        self.before_gap = _LazyPattern(r"[\s,]*(?:(?:" + alt(lead_cues) + r")[ \t]*)?[~≈]?[ \t]*\Z", I)
        self.leads_into = _LazyPattern(
            r"[ \t,]*(?:(?:" + alt(lead_cues | set(L.cues_range)) + r")[ \t]+)?", I)
        self.range_sep = _LazyPattern(
            r"[ \t]*(?:(?P<dash>[-–—‐−~])|(?P<w>" + alt(L.range_words) + r")(?![\w]))[ \t]*"
            r"(?:(?:" + alt(L.range_articles) + r")[ \t]+)?", I)
        self.suffix = _LazyPattern(
            r"[ \t]?(?:(?P<oc>" + alt(L.oclock_words) + r"|h(?![\w]))|(?P<hw>" + alt(L.hour_words)
            + r")(?![ \t]+de[ \t]))(?![\w])", I)
        self.suffix_start = frozenset("hH" + "".join({w[0] + w[0].upper() for w in L.oclock_words | L.hour_words}))
        self.twelve_word = _LazyPattern(r"[ \t]+(?P<w>" + alt(L.noon_words | L.midnight_words) + r")(?!\w)", I)
        one = "|".join(re.escape(word) + r"(?=[ \t]+(?:" + alt(parts) + r")(?!\w))" for word, parts in L.one_oclock.items())
        self.word_atom = _LazyPattern(
            r"(?P<word>" + alt(L.noon_words | L.midnight_words) + (("|" + one) if one else "") + r")(?!\w)", I)
        self.meridiem_blockers = _LazyPattern(r"[ \t]+(?:" + alt(L.meridiem_blockers) + r"|[0-9]{1,2}\.)(?![\w])", I)
        self.of_day = _LazyPattern(
            r"[ \t]*(?:" + alt(L.of_words) + r")[ \t]*(?:(?:" + alt(L.of_articles) + r")[ \t]+)?(?P<w>[^\W\d_][\w\-]*)", I)
        self.detached = _LazyPattern(
            r"(?P<open>\()[ \t]*(?P<times>" + "|".join(L.detached_in_brackets) + r")?"
            r"|(?<![\w])(?P<all>" + "|".join(L.detached_apart) + r")", I)
        part_words = {p.split()[-1] for p in L.day_parts} | {p.split()[-1] for p in L.greetings}
        self.day_part_quick = with_punctuation(part_words)
        self.detached_hint = _LazyPattern(r"times?[ \t]", I)  # the words every DETACHED_APART heading has
        self.tonight_end = _LazyPattern(
            r"[ \t]*(?:[?!.,;)]|\n|\Z|[-–—][ \t]*[0-9]|(?:" + alt(L.or_words - L.and_words) + r")[ \t]+[0-9]{1,2}(?![0-9])"
            r"|(?:" + alt(L.tonight_ok_after) + r")(?![\w]))", I)
        self.past_night = _LazyPattern(r"(?<![\w])(?:" + alt(L.past_night) + r")(?![\w])", I)
        self.weekday_span_gap = _LazyPattern(r"[ \t]*(?:[-–—]|" + alt(L.weekday_span_words) + r")[ \t]*\Z", I)
        self.subject_before = _LazyPattern(r"(?<![\w'’])(?:" + alt(L.subjects_before) + r")[ \t]+\Z", I)
        suffixes = alt(L.ordinal_suffixes)
        cue_words = alt(set(L.cues_single) | set(L.cues_range) | set(L.cues_between) | {"by"})
        self.day_ref = _LazyPattern(
            r"(?<![\w])(?:"
            r"(?P<phrase>" + alt(L.day_phrases) + r")"
            r"|(?P<offset>" + alt(L.day_offsets) + r")"
            r"|(?:(?P<next>" + alt(L.next_words) + r")[ \t]+)?(?P<weekday>" + alt(L.weekdays) + r")"
            r"(?:[ \t]+(?P<next_after>" + alt(L.next_after_words) + r")(?![\w]))?"
            r"|(?P<short>" + alt(L.weekday_abbreviations) + r")\.?(?=[ \t]*(?:[,/@\-–)]|[0-9]|(?:" + cue_words
            + r")(?![\w])|\n|\Z))"
            r"|(?P<md_month>" + alt(L.months) + r")\.?[ \t]+(?P<md_day>[0-3]?[0-9])(?:" + suffixes + r")?(?![\w:])"
            r"(?:,?[ \t]+(?P<md_year>20[0-9]{2})(?![\w:]))?"
            r"|(?P<dm_day>[0-3]?[0-9])(?:" + suffixes + r"|\.)?[ \t]+(?:(?:" + alt(L.month_day_links) + r")[ \t]+)?"
            r"(?P<dm_month>" + alt(L.months) + r")\.?(?:[ \t]+(?:(?:" + alt(L.month_day_links) + r")[ \t]+)?(?P<dm_year>20[0-9]{2}))?"
            r"|(?:" + alt(L.ordinal_day_leads) + r")[ \t]+(?P<ord_day>[0-3]?[0-9])(?:" + suffixes + r")(?![\w:])"
            r"(?=[ \t]*(?:[,.;!?)\-–—]|\n|\Z|(?:" + cue_words + r")(?![\w])|[0-9]))"
            r"|(?P<dot_day>[0-3]?[0-9])\.(?P<dot_month>[01]?[0-9])(?:\.(?P<dot_year>(?:20)?[0-9]{2}))?\.?"
            r"(?=,?[ \t]+(?:(?:" + alt(lead_cues) + r")[ \t]+)?[0-9]{1,2}[:.hч][0-9])"
            r")(?![\w])", I)
        # What can follow a number without a cue and still make it a time: a zone, a day part, a range.
        self.rescue_words = frozenset(
            {word.lower() for word in T.ABBREVIATIONS}
            | {phrase.split()[0] for phrase in L.city_hints}
            | {code.lower() for code in T.CITY_CODES}
            | {phrase.split()[0].lower() for phrase in self.zone_phrases}
            | {phrase.split()[0] for phrase in set(L.day_parts) - L.day_parts_not_alone}
            | {phrase.split()[0] for phrase in L.my_time}
            | set(L.city_leads) | set(L.range_words) | set(L.and_words)
        )
        from teamops.mentions.words import grammars

        day_words = {w.split()[0] for w in set(L.day_phrases) | set(L.day_offsets) | set(L.weekdays)
                     | set(L.weekday_abbreviations) | set(L.months)}
        self.day_quick = with_punctuation(day_words)
        # First words of every branch of day_ref that starts with a word.
        self.day_starts = frozenset(day_words | {w.split()[0] for w in L.next_words | set(L.ordinal_day_leads)})

        # Words that can follow digits inside a clock phrase ("20 nach 3", "3 y media").
        self.second_words = frozenset(w for g in grammars() for w in g.by_second)
        self.second_words_quick = with_punctuation(self.second_words)
        # The shortcut for "3 PRs": a number followed by a word is read only when a cue is before
        # it or one of these words (a zone, a day part, am/pm, an hour word, a phrase joint) after it.
        self.any_cue = frozenset(L.cues_single | L.cues_range | L.cues_between | L.cues_weak | L.tonight_words
                                 | L.or_words | L.subject_it | {"@"})
        self.digit_followers = frozenset(
            self.rescue_words | self.second_words | {w.split()[0] for w in L.oclock_words | L.hour_words}
            | {p.split()[0] for p in L.day_parts} | {"am", "pm", "a", "p", "h", "hs", "noon", "midnight"}
            | {w.split()[0] for w in L.noon_words | L.midnight_words})
        # Weak cues ("as" without its accent): a number after one is a time when only its
        # language's followers come after it ("amanha as 9 no escritório").
        self.weak_followers: dict[str, frozenset[str]] = {}
        for g in grammars():
            for word in g.lang.cues_weak:
                self.weak_followers[word] = self.weak_followers.get(word, frozenset()) | g.lang.word_hour_followers
        self.noon_heads = frozenset(w.split()[0].split("-")[0] for w in L.noon_words | L.midnight_words)


@cache
def patterns() -> Patterns:
    return Patterns()
