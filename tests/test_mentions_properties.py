"""Property tests for the time-mention engine: no input crashes or hangs it, the webhook prefilter
never hides a mention, and an HH:MM written in ordinary prose is always found."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from teamops.mentions import find_mentions, mention_json, might_mention_time

ZONES = st.sampled_from(["UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata", "Europe/Moscow",
                         "Pacific/Chatham", "America/St_Johns", "Australia/Lord_Howe"])
NOWS = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2099, 12, 31), timezones=st.just(timezone.utc))
# Text that looks like chat: words, digits, the punctuation times are made of, other scripts.
CHATTY = st.lists(
    st.sampled_from(list("0123456789:.-–/ apmAPMhHZ@<>`#$%+()\n,;!?tT") + [
        "at ", "в ", "um ", "à ", "a las ", "às ", "from ", "to ", "between ", "and ", "с ", "до ", "UTC", "PST",
        "CET", "MSK", "IST", "tomorrow ", "завтра ", "Monday ", "noon", "midnight", "вечера", "o'clock", "ish",
        " my time", " London time", " по мск", "```", "https://x.io/", "> ", "• ", "(UTC−5)", "  ", "😀", "ß", "İ",
    ]),
    max_size=60,
).map("".join)
SETTINGS = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _check_invariants(text, tz, now):
    found = find_mentions(text, tz, now)  # how long it takes is bench/bench_parser.py's "worst case"
    position = 0
    for mention in found:
        assert text[mention.start:mention.end] == mention.text
        assert mention.start >= position, "mentions are in order and do not overlap"
        position = mention.end
        mention_json(mention)  # every mention converts (DST, fixed offsets, day shifts)
        if mention.end_local is not None:
            assert mention.end_local >= mention.local
    if not might_mention_time(text):
        assert found == [], "the prefilter hid a mention"


@SETTINGS
@given(text=st.text(max_size=300), tz=ZONES, now=NOWS)
def test_arbitrary_unicode_never_crashes(text, tz, now):
    _check_invariants(text, tz, now)


@SETTINGS
@given(text=CHATTY, tz=ZONES, now=NOWS)
def test_chat_like_text_never_crashes(text, tz, now):
    _check_invariants(text, tz, now)


WORDS = st.sampled_from(["let's", "meet", "the", "call", "is", "team", "sync", "review", "then", "lunch", "ok",
                         "встреча", "созвон", "Treffen", "réunion", "reunión", "reunião", "please", "join", "us"])


@SETTINGS
@given(before=st.lists(WORDS, max_size=6), after=st.lists(WORDS, max_size=6),
       hour=st.integers(0, 23), minute=st.integers(0, 59), padded=st.booleans(), tz=ZONES, now=NOWS)
def test_any_hh_mm_in_prose_is_found(before, after, hour, minute, padded, tz, now):
    clock = f"{hour:02d}:{minute:02d}" if padded or hour >= 10 else f"{hour}:{minute:02d}"
    prefix = " ".join(before) + " " if before else ""
    text = prefix + clock + (" " + " ".join(after) if after else "")
    found = find_mentions(text, tz, now)
    assert len(found) == 1, f"{text!r} gave {found}"
    [mention] = found
    assert mention.text == clock and mention.start == len(prefix)
    assert (mention.local.hour, mention.local.minute) == (hour, minute)
    assert mention.tz == tz and not mention.inferred
    today = now.astimezone(mention.zone()).date()
    assert mention.local.date() == today


def test_long_and_pathological_messages_are_read_right():
    """Their speed (linear in the length, never a regex blow-up) is bench/bench_parser.py's
    "worst case" rows; here, what a reader would see."""
    text = ("version 1.2.3 at 3 retries, price $15.30, 3-2, 16:9, " * 400) + "meet at 15:30"
    found = find_mentions(text, "UTC", datetime(2025, 7, 1, tzinfo=timezone.utc))
    assert [m.text for m in found] == ["15:30"]
    for blob in PATHOLOGICAL:
        find_mentions(blob, "UTC", datetime(2025, 7, 1, tzinfo=timezone.utc) - timedelta(0))


# Shapes that make a careless regex backtrack, as (head, unit repeated `count` times, tail);
# bench/bench_parser.py times each at full and at a tenth of its length.
SHAPES = [("", "a.", 5000, "com/"), ("", "1", 20000, ""), ("", ":", 20000, "1"), ("```", "10:30 ", 3000, ""),
          ("", "-1", 10000, ""), ("", "version 1.2.3 at 3 retries, price $15.30, 3-2, 16:9, ", 400, "meet at 15:30")]


def pathological(scale: float = 1.0) -> list[str]:
    return [head + unit * int(count * scale) + tail for head, unit, count, tail in SHAPES]


PATHOLOGICAL = pathological()
