"""What the engine hands out: one Mention per time, its UTC instant, DST flag and JSON form."""

from __future__ import annotations

from datetime import datetime, timezone, tzinfo
from zoneinfo import ZoneInfo

import msgspec

from teamops.mentions.zones import zone_for


class Mention(msgspec.Struct, frozen=True):
    text: str  # TEXT[start:end]
    start: int
    end: int
    local: datetime  # naive wall-clock start, in `tz`
    tz: str  # IANA name, "UTC", or a fixed offset "UTC+05:30" / "UTC-05:00"
    tz_explicit: bool  # the message named the zone
    inferred: bool  # an hour was guessed (bare hour read as business hours)
    end_local: datetime | None = None  # ranges only, same tz
    day_explicit: bool = False  # a day word, weekday or date applied
    dst: str | None = None  # None | "nonexistent" | "ambiguous", of the start

    def zone(self) -> tzinfo:
        return zone_for(self.tz)

    def utc(self) -> datetime:
        """The UTC instant of the start; DST gaps and overlaps resolved as the package says."""
        return self.local.replace(tzinfo=zone_for(self.tz)).astimezone(timezone.utc)

    def end_utc(self) -> datetime | None:
        if self.end_local is None:
            return None
        return self.end_local.replace(tzinfo=zone_for(self.tz)).astimezone(timezone.utc)


def dst_flag(local: datetime, zone: tzinfo) -> str | None:
    if not isinstance(zone, ZoneInfo):
        return None
    early = local.replace(tzinfo=zone)
    late = local.replace(tzinfo=zone, fold=1)
    if early.utcoffset() == late.utcoffset():
        return None
    back = early.astimezone(timezone.utc).astimezone(zone).replace(tzinfo=None)
    return "nonexistent" if back != local else "ambiguous"


def mention_json(m: Mention) -> dict:
    """The contract object of issue 3 (`app.py parse`)."""
    out = {
        "text": m.text,
        "start": m.start,
        "end": m.end,
        "local": m.local.strftime("%Y-%m-%dT%H:%M"),
        "tz": m.tz,
        "utc": m.utc().strftime("%Y-%m-%dT%H:%MZ"),
        "tz_explicit": m.tz_explicit,
        "inferred": m.inferred,
    }
    if m.end_local is not None:
        out["end_local"] = m.end_local.strftime("%Y-%m-%dT%H:%M")
    return out
