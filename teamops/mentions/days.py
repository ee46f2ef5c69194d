"""Step 5: the day a time is on. Day words ("tomorrow", "завтра", "morgen", "demain", "mañana",
"amanhã"), weekdays (the next one, today counting; "next <weekday>" skips today), written dates
("Mar 5", "5 марта", "5. März", "le 5 mars", "5 de marzo", "5.03 15:00") and "on the 15th".

A month-day without a year is its first occurrence at most 60 days back ("Mar 5" written in July
is next March; "Jun 20" written on Jul 1 is last month's). A day word covers every time of its
sentence; with several, each time takes the nearest one. Out of scope: numeric d/m and m/d dates
("03/05"), "next week", "in 2 days".
"""

from __future__ import annotations

import re
from datetime import date, timedelta

from teamops.mentions.context import prev_words


_WORD_OR_NUMBER = re.compile(r"[^\W_]+")


def _matches(P, scan: str, tokens):
    """The day pattern tried only where a day word, a month, a number or "on" starts: the same
    finds as a scan of every position, at a fraction of the cost."""
    pos = 0
    for start, word in tokens:
        if start < pos:
            continue
        if not (word[0].isdigit() or word in P.day_starts or word.split("-")[0] in P.day_starts):
            continue
        if start and (scan[start - 1].isalnum() or scan[start - 1] == "_"):
            continue
        found = P.day_ref.match(scan, start)
        if found is not None:
            pos = found.end()
            yield found


def day_refs(P, scan: str, tokens=None) -> list[tuple[int, int, str, object]]:
    """Every day reference in the text. `tokens`: (position, lower-case word) of its words and
    numbers, when the caller has them already."""
    L = P.L
    if tokens is None:
        tokens = [(m.start(), m.group().lower()) for m in _WORD_OR_NUMBER.finditer(scan)]
    refs = []
    for found in _matches(P, scan, tokens):
        s, e = found.start(), found.end()
        if found.group("phrase"):
            refs.append((s, e, "offset", L.day_phrases[" ".join(found.group("phrase").lower().split())]))
        elif found.group("offset"):
            lower = found.group("offset").lower()
            blockers = L.not_day_before.get(lower)
            if blockers and prev_words(scan, s)[1] in blockers:
                continue  # "guten Morgen", "por la mañana": the morning, not tomorrow
            refs.append((s, e, "offset", L.day_offsets[lower]))
        elif found.group("weekday"):
            word = found.group("weekday").lower()
            if word in L.weekdays_need_lead and prev_words(scan, s)[1] not in L.weekday_leads \
                    and not _time_right_after(scan, P.leads_into.match(scan, e).end()):
                continue  # Portuguese "quinta" is also "fifth": a weekday only after "na", or before a time
            refs.append((s, e, "weekday", (L.weekdays[word], bool(found.group("next") or found.group("next_after")))))
        elif found.group("short"):
            word = found.group("short")
            lower = word.lower()
            if not word[0].isupper() and (lower in L.weekdays_verb_like_always or (
                    lower in L.weekdays_verb_like and P.subject_before.search(scan, max(0, s - 24), s))):
                continue  # "we sat at 10:00", "the sun 10:00": the verb or the noun; "sat 11:00 brunch" is Saturday
            refs.append((s, e, "weekday", (L.weekday_abbreviations[lower], False)))
        elif found.group("md_month") or found.group("dm_month"):
            month_word = found.group("md_month") or found.group("dm_month")
            if month_word.lower() in L.months_need_capital and not month_word[0].isupper():
                continue
            day = int(found.group("md_day") or found.group("dm_day"))
            year = found.group("md_year") or found.group("dm_year")
            refs.append((s, e, "date", (int(year) if year else None, L.months[month_word.lower()], day)))
        elif found.group("ord_day"):
            refs.append((s, e, "month_day", int(found.group("ord_day"))))
        elif found.group("dot_day"):
            w1, w2 = prev_words(scan, s)
            if w2 in L.not_clock_before_dotted or w1 in L.not_clock_before_dotted:
                continue  # "version 3.10 в 10:00"
            year = found.group("dot_year")
            if year and len(year) == 2:
                year = "20" + year
            refs.append((s, e, "date", (int(year) if year else None, int(found.group("dot_month")),
                                        int(found.group("dot_day")))))
    return _without_weekday_spans(P, scan, refs)


def _time_right_after(scan: str, pos: int) -> bool:
    """A number, in digits or words, right after a weekday ("quinta às 10", "segunda às nove")."""
    rest = scan[pos:pos + 24].lstrip(" \t,")
    if rest[:1].isdigit():
        return True
    from teamops.mentions.words import grammars

    word = rest.split(" ", 1)[0].lower() if rest else ""
    return any(word in g.word_values for g in grammars())


def _without_weekday_spans(P, scan: str, refs: list) -> list:
    """Drop "Mon-Fri", "Monday to Friday", "пн-пт": a span of days names no one day."""
    drop = set()
    for index in range(len(refs) - 1):
        here, there = refs[index], refs[index + 1]
        if here[2] == "weekday" and there[2] == "weekday" and P.weekday_span_gap.match(scan, here[1], there[0]):
            drop.update((index, index + 1))
    return [ref for index, ref in enumerate(refs) if index not in drop] if drop else refs


def resolve_day(ref, today: date) -> date | None:
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
