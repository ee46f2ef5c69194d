"""The engine's words, one data module per language (en, ru, de, fr, es, pt), read lazily.

A lexicon module defines plain constants (all optional; see `en.py` for every field with its
reason). The engine never asks which language it reads: it merges the words of all lexicons
(`merged()`), except where a phrase must be read in ONE language at a time (a number word and
the cue before it, the clock phrases), which go through `languages()`.

Adding a language: write `xx.py` next to the others (copy the fields you need), add "xx" to
LANGUAGES, add its cases to tests/data/mentions/xx.txt. No engine code changes.

Why Python data modules (not TOML/JSON): importing six small modules of literals costs about a
millisecond, needs no parser or dependency, lets every word carry its reason as a comment, and
lets a lexicon build its compound number words with a two-line helper instead of listing 59
forms. They are imported on the first message that could hold a time, never at service start.
"""

from __future__ import annotations

import importlib
import re
from functools import cache
from types import ModuleType

LANGUAGES = ("en", "ru", "de", "fr", "es", "pt")


def words(text: str) -> frozenset[str]:
    """A lexicon's word list written as one whitespace-separated string."""
    return frozenset(text.split())


def compounds(tens: dict[str, int], units: dict[str, int], *templates: str) -> dict[str, int]:
    """Number words 21-59 from tens and units: compounds({"twenty": 20}, {"one": 1}, "{t}-{u}")."""
    out = {}
    for ten_word, ten in tens.items():
        for unit_word, unit in units.items():
            for template in templates:
                out[template.format(t=ten_word, u=unit_word)] = ten + unit
    return out


class ClockPhrase:
    """One clock construction of a language, compiled from its template.

    Template tokens are separated by spaces (any run of blanks matches); `{h}` is an hour (digits
    or an hour word), `{m}` minutes (digits or a minute word), `{mm}` minutes 10-59, `{m5}` the
    minutes people count to or past an hour (5, 10, 15, 20, 25 and the lexicon's QUARTER words),
    `{NAME}` a slot the lexicon defines in SLOTS. A token ending in "?" may be left out; "a|b"
    is either word. `rule` is "HOUR:MINUTE" with HOUR "h" or "h-1" and MINUTE a number, "m",
    "60-m", "30-m" or "30+m". `needs` is "strong" (a clock on its own) or "cue" (a time only
    after a cue word, am/pm, a day part or a zone: "three thirty" can be a count), or "tail": as
    "cue", or with nothing after it but the end, punctuation or a WORD_HOUR_FOLLOWERS word ("can
    we do four forty-five instead?", "half three works for me").
    """

    __slots__ = ("template", "rule", "needs", "pattern", "minute_first")

    def __init__(self, template: str, rule: str, needs: str):
        self.template, self.rule, self.needs = template, rule, needs
        self.minute_first = template.lstrip("(").startswith(("{m", "{q"))
        self.pattern = None


class Language:
    """One lexicon with its defaults filled in (the constants documented in en.py)."""

    def __init__(self, code: str, module: ModuleType):
        get = lambda name, default: getattr(module, name, default)  # noqa: E731
        self.code = code
        self.cues_single: frozenset[str] = get("CUES_SINGLE", frozenset())
        self.cues_range: frozenset[str] = get("CUES_RANGE", frozenset())
        self.cues_between: frozenset[str] = get("CUES_BETWEEN", frozenset())
        self.cue_pairs: dict[str, str] = get("CUE_PAIRS", {})
        self.cues_weak: frozenset[str] = get("CUES_WEAK", frozenset())
        self.numbers: dict[str, int] = get("NUMBERS", {})
        self.hour_forms: dict[str, int] = get("HOUR_FORMS", {})
        self.minute_forms: dict[str, int] = get("MINUTE_FORMS", {})
        self.quarter_words: dict[str, int] = get("QUARTER_WORDS", {})
        self.slots: dict[str, dict[str, int]] = get("SLOTS", {})
        self.clock_phrases: list[ClockPhrase] = [ClockPhrase(*p) for p in get("CLOCK_PHRASES", ())]
        self.word_hour_needs: str = get("WORD_HOUR_NEEDS", "word")
        self.word_hour_followers: frozenset[str] = get("WORD_HOUR_FOLLOWERS", frozenset())
        self.module = module


@cache
def languages() -> tuple[Language, ...]:
    return tuple(Language(code, importlib.import_module(f"{__name__}.{code}")) for code in LANGUAGES)


class Merged:
    """The words of every lexicon together, for the rules that read any language alike."""

    def __init__(self, langs: tuple[Language, ...]):
        def union(name: str) -> frozenset[str]:
            out: set[str] = set()
            for lang in langs:
                out |= set(getattr(lang.module, name, ()))
            return frozenset(out)

        def joined(name: str) -> dict:
            out: dict = {}
            for lang in langs:
                for key, value in getattr(lang.module, name, {}).items():
                    out.setdefault(key, value)
            return out

        def chained(name: str) -> tuple:
            out: list = []
            for lang in langs:
                out.extend(getattr(lang.module, name, ()))
            return tuple(out)

        self.am_is_a_word = frozenset(lang.code for lang in langs if getattr(lang.module, "AM_IS_A_WORD", False))
        self.cues_single = union("CUES_SINGLE")
        self.cues_range = union("CUES_RANGE")
        self.cues_between = union("CUES_BETWEEN")
        self.cue_pairs = joined("CUE_PAIRS")
        self.cues_weak = union("CUES_WEAK")
        self.cue_value_before = joined("CUE_VALUE_BEFORE")
        self.cues_dash_minutes = union("CUES_DASH_MINUTES")
        self.cues_glued = union("CUES_GLUED")
        self.or_words = union("OR_WORDS")
        self.and_words = union("AND_WORDS")
        self.more_words = union("MORE_WORDS")
        self.duration_before = union("DURATION_BEFORE")
        self.range_words = union("RANGE_WORDS")
        self.range_words_need_cue = union("RANGE_WORDS_NEED_CUE")
        self.range_articles = union("RANGE_ARTICLES")
        self.range_not_after = union("RANGE_NOT_AFTER")
        self.weekday_span_words = union("WEEKDAY_SPAN_WORDS")
        self.counted_nouns = union("COUNTED_NOUNS")
        self.counted_stems = chained("COUNTED_STEMS")
        self.counted_endings = chained("COUNTED_ENDINGS")
        self.not_counted_stems = chained("NOT_COUNTED_STEMS")
        self.count_adjectives = union("COUNT_ADJECTIVES")
        self.not_clock_before = union("NOT_CLOCK_BEFORE")
        self.not_clock_after = union("NOT_CLOCK_AFTER")
        self.not_clock_before_dotted = union("NOT_CLOCK_BEFORE_DOTTED")
        self.duration_nouns = union("DURATION_NOUNS")
        self.oclock_words = union("OCLOCK_WORDS")
        self.hour_words = union("HOUR_WORDS")
        self.meridiem_blockers = union("MERIDIEM_BLOCKERS")
        self.noon_words = union("NOON_WORDS")
        self.noon_apart_after = union("NOON_APART_AFTER")
        self.midnight_words = union("MIDNIGHT_WORDS")
        self.not_upper_words = union("NOT_IN_CAPITALS")
        self.one_oclock = joined("ONE_OCLOCK")
        self.day_offsets = joined("DAY_OFFSETS")
        self.day_phrases = joined("DAY_PHRASES")
        self.not_day_before = joined("NOT_DAY_BEFORE")
        self.weekdays = joined("WEEKDAYS")
        self.weekday_abbreviations = joined("WEEKDAY_ABBREVIATIONS")
        self.weekdays_need_lead = union("WEEKDAYS_NEED_LEAD")
        self.weekday_leads = union("WEEKDAY_LEADS")
        self.weekdays_verb_like = union("WEEKDAYS_VERB_LIKE")
        self.weekdays_verb_like_always = union("WEEKDAYS_VERB_LIKE_ALWAYS")
        self.subjects_before = union("SUBJECTS_BEFORE")
        self.next_words = union("NEXT_WORDS")
        self.next_after_words = chained("NEXT_AFTER_WORDS")
        self.months = joined("MONTHS")
        self.months_need_capital = union("MONTHS_NEED_CAPITAL")
        self.month_day_links = union("MONTH_DAY_LINKS")
        self.day_parts = joined("DAY_PARTS")
        self.day_parts_not_alone = union("DAY_PARTS_NOT_ALONE")
        self.day_parts_first = frozenset(p.split()[0] for p in self.day_parts)
        self.day_phrases_first = frozenset(p.split()[0] for p in self.day_phrases)
        self.day_part_after_ok = union("DAY_PART_AFTER_OK")
        self.greetings = chained("GREETINGS")
        self.since_words = union("SINCE_WORDS")
        self.past_night = chained("PAST_NIGHT")
        self.tonight_words = union("TONIGHT_WORDS")
        self.tonight_ok_after = union("TONIGHT_OK_AFTER")
        self.day_follows_de = union("DAY_AFTER_DE")
        self.city_hints = joined("CITY_HINTS")
        self.city_needs_time = union("CITY_NEEDS_TIME")
        self.city_capitalised_ok = union("CITY_CAPITALISED_OK")
        self.city_forms = joined("CITY_FORMS")
        self.city_form_prepositions = union("CITY_FORM_PREPOSITIONS")
        self.city_form_tails = union("CITY_FORM_TAILS")
        self.zone_phrases = joined("ZONE_PHRASES")
        self.my_time = chained("MY_TIME")
        self.time_word = union("TIME_WORD")
        self.move_words = union("MOVE_WORDS")
        self.determiners = union("DETERMINERS")
        self.subject_it = union("IT_IS")
        self.city_leads = union("CITY_LEADS")
        self.ordinal_day_leads = chained("ORDINAL_DAY_LEADS")
        self.ordinal_suffixes = union("ORDINAL_SUFFIXES")
        self.of_words = chained("OF_WORDS")
        self.of_articles = union("OF_ARTICLES")
        self.detached_in_brackets = chained("DETACHED_IN_BRACKETS")
        self.detached_apart = chained("DETACHED_APART")


@cache
def merged() -> Merged:
    return Merged(languages())


_TRAILING = (*",.?!;:)…", "??", "???", "!!", "?!", "...", "..", ").", "),", ")?", "?)", "?,", "!,")


def with_punctuation(words) -> frozenset[str]:
    """The words as a whitespace split finds them: bare, or with the punctuation typed after them
    ("three?", "evening??"), for set tests that need no regex."""
    return frozenset(set(words) | {w + p for w in words for p in _TRAILING})


def alternation(phrases, flags_lower: bool = True) -> str:
    """A regex matching any of the literal phrases (longest first), built as a trie so that a
    long word list costs one character test per position, not one per word; a blank inside a
    phrase matches any run of blanks."""
    trie: dict = {}
    for phrase in phrases:
        node = trie
        for ch in (phrase.lower() if flags_lower else phrase):
            node = node.setdefault(ch, {})
        node[""] = {}
    return _trie_pattern(trie) if trie else "(?!)"


def _trie_pattern(node: dict) -> str:
    branches = []
    for ch in sorted(k for k in node if k):
        head = r"[ \t]+" if ch == " " else re.escape(ch)
        branches.append(head + _trie_pattern(node[ch]))
    if not branches:
        return ""
    body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
    if "" in node:
        return "(?:" + body + ")?"
    return body
