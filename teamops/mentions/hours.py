"""Step 6: the hour of a clock. 13-23 is that hour; 1-12 takes am/pm or a day part when one is
written ("в 7 вечера" = 19:00); otherwise a bare hour, or one said in words, takes the
business-hours reading between 08:00 and 19:59 (8-11 morning, 12 noon, 1-7 afternoon/evening),
marked inferred. A leading zero ("at 07") is read literally. A range's bare start takes the
end's am/pm or day part unless that puts it after the end ("11-1pm" = 11:00-13:00)."""

from __future__ import annotations


def with_part(h: int, part: str) -> int:
    if part == "am":
        return 0 if h == 12 else h
    if part == "pm":
        return h if h == 12 else h + 12
    if part == "evening":
        return 24 if h == 12 else (h + 12 if h >= 4 else h)  # "tonight at 12" ends the day
    return 24 if h == 12 else (h + 12 if h >= 6 else h)  # night: "11 ночи" = 23, "2 ночи" = 2, "12 ночи" ends the day


def with_meridiem(h: int, mer: str) -> int:
    if h > 12:
        return h
    return (h % 12) + (12 if mer == "p" else 0)


def business(h: int) -> int:
    """The 08:00-19:59 reading of a bare 1-12 hour."""
    return h + 12 if 1 <= h <= 7 else h


def hour(clock, part: str | None) -> tuple[int, bool]:
    """(hour 0-24, inferred) of one clock on its own."""
    h = clock.h
    if clock.form == "word":
        return h, False
    if clock.mer:
        return with_meridiem(h, clock.mer), False
    if part and 1 <= h <= 12:
        return with_part(h, part), False
    if clock.guess and 1 <= h <= 12:
        return business(h), True
    return h, False


def first_after(h: int, start_h: int) -> int:
    """The first reading of a bare end hour after the start ("from 8 to 5" ends at 17)."""
    if h > 12:
        return h
    for candidate in (h % 12, h % 12 + 12):
        if candidate > start_h:
            return candidate
    return h % 12  # past midnight: the caller moves the end to the next day


def range_hours(first, second, part: str | None) -> tuple[int, int, bool]:
    """(start hour, end hour, inferred) of a range."""
    end_h, end_inferred = hour(second, part)
    free_start = first.guess and first.mer is None and 1 <= first.h <= 12
    twelve_hour = (first.form in ("colon", "dot", "h") and first.mer is None and 1 <= first.h <= 12
                   and (second.mer is not None or part is not None))
    if not (free_start or twelve_hour):
        start_h, start_inferred = hour(first, part)
        if end_inferred:
            end_h = first_after(second.h, start_h)
        return start_h, end_h, start_inferred or end_inferred
    h, end_minutes = first.h, end_h * 60 + second.mi
    if second.mer is not None or (part is not None and not end_inferred):
        borrowed = with_meridiem(h, second.mer) if second.mer else with_part(h, part)
        if borrowed * 60 + first.mi > end_minutes:
            other = h % 12 if borrowed >= 12 else h % 12 + 12
            if other * 60 + first.mi <= end_minutes:
                borrowed = other
        return borrowed, end_h, False
    if not end_inferred:  # a literal end ("from 3 to 17", "с 10 до 18"): the latest reading not after it
        fits = [c for c in (h % 12, h % 12 + 12) if c * 60 + first.mi <= end_minutes]
        return (max(fits) if fits else business(h)), end_h, len(fits) != 1
    start_h = business(h)
    return start_h, first_after(second.h, start_h), True
