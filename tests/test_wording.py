"""What people read: one reply per message, ranges as ranges, guesses and DST oddities said plainly."""

from __future__ import annotations

from datetime import datetime, timezone

from teamops import mentions, wording
from teamops.events import TIME, WEEKDAY_TIME, plain

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=timezone.utc)  # a Monday


def reply(text, tz="Europe/Berlin", zones=("Europe/Berlin", "America/New_York", "Asia/Tokyo"), now=NOW, fmt="24h"):
    found = mentions.find_mentions(text, tz, now, zones)
    return "".join(span.text for span in wording.conversion(found, list(zones), now, fmt))


def test_two_times_one_reply_each_converted():
    text = reply("standup at 10:00, retro at 16:30")
    assert text.count("New York") == 2 and text.count("Tokyo") == 2
    assert "04:00" in text and "10:30" in text  # New York, UTC-5 vs Berlin UTC+1


def test_one_moment_written_in_two_zones_is_answered_once():
    text = reply("call 14:00 CET (8am ET)")
    assert text.count("Tokyo") == 1 and "22:00" in text
    # Written as two different moments (New York is 8:00 then, not 9:00): both are shown.
    assert reply("call 14:00 CET (9am ET)").count("Tokyo") == 2


def test_range_is_one_line_per_zone():
    text = reply("blocked 14:00-15:30")
    assert "14:00\u201315:30" in text and "08:00\u201309:30" in text and "22:00\u201323:30" in text
    assert text.count("New York") == 1


def test_a_guessed_hour_is_marked():
    text = reply("let's meet at 3")
    assert "as 15:00" in text


def test_next_and_previous_day_are_named():
    text = reply("deploy at 23:30")
    assert "07:30" in text and "(Tue, next day)" in text
    early = reply("call at 01:00")
    assert "19:00" in early and "(Sun, previous day)" in early


def test_offsets_are_those_of_the_converted_instant():
    # Before the US change (Mar 8) New York is UTC-5; a week later, UTC-4.
    before = reply("sync at 15:00 tomorrow", now=datetime(2026, 3, 6, 9, 0, tzinfo=timezone.utc))
    after = reply("sync at 15:00 tomorrow", now=datetime(2026, 3, 13, 9, 0, tzinfo=timezone.utc))
    assert "(UTC\u22125)" in before and "09:00" in before
    assert "(UTC\u22124)" in after and "10:00" in after


def test_nonexistent_wall_time_is_explained():
    text = reply("maintenance at 02:30 tomorrow", now=datetime(2026, 3, 28, 9, 0, tzinfo=timezone.utc))
    assert "does not exist" in text and "03:30" in text


def test_twelve_hour_format():
    text = reply("sync at 15:30", fmt="12h")
    assert "3:30 PM" in text and "9:30 AM" in text


def test_nobody_else_means_silence():
    assert reply("sync at 15:30", zones=("Europe/Berlin",)) == ""


def test_our_own_reply_pasted_back_is_not_read_again():
    first = reply("sync at 15:30")
    assert mentions.find_mentions(first, "Europe/Berlin", NOW) == []


def test_each_converted_time_carries_a_moment_on_the_readers_clock():
    found = mentions.find_mentions("standup at 10:00, blocked 14:00-15:30", "Europe/Berlin", NOW)
    body = wording.conversion(found, ["Europe/Berlin", "Asia/Tokyo"], NOW)
    moments = [(s.moment.unix, s.moment.style, s.text) for s in body if s.moment]
    berlin = NOW.replace(hour=9)  # 10:00 in Berlin (UTC+1) on that Monday
    assert moments == [
        (int(berlin.timestamp()), WEEKDAY_TIME, "Mon 09:00 UTC"),
        (int(berlin.replace(hour=13).timestamp()), WEEKDAY_TIME, "Mon 13:00 UTC"),
        (int(berlin.replace(hour=14, minute=30).timestamp()), TIME, "14:30 UTC"),  # a range's end
    ]
    assert all(s.reader_clock for s in body if s.moment), "moments sit on the reader's-clock line"
    assert "on your clock" in "".join(s.text for s in body) and "on your clock" not in plain(body)
