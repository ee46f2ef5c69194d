"""`python app.py parse [--tz ZONE] [--now ISO8601] [TEXT]`: the time mentions of a message as JSON.

With TEXT: one object {"mentions": [...]} on stdout. Without TEXT (batch mode): JSON lines
{"text", "tz"?, "now"?} on stdin, one {"mentions": [...]} line out per line in, in order; a line's
tz/now fall back to the flags. A line that cannot be read gets {"mentions": [], "error": "..."}
so the output stays aligned with the input. A bad --tz or --now exits 2 with a message on stderr.

`now` without an offset is wall-clock time in the sender's zone (as `app.py try` reads it);
`--now` defaults to the current time, `--tz` to UTC.
"""

from __future__ import annotations

import argparse
import sys
from datetime import datetime, timezone

import msgspec

from teamops.mentions import find_mentions, mention_json, resolve_zone, zone_for


class _Line(msgspec.Struct):
    text: str
    tz: str | None = None
    now: str | None = None


_decode_line = msgspec.json.Decoder(_Line).decode
_encode = msgspec.json.Encoder().encode


def _zone(name: str) -> str | None:
    """The sender zone as given: an IANA name, "UTC±HH:MM", or anything resolve_zone knows."""
    return resolve_zone(name)


def _moment(text: str, tz: str) -> datetime:
    moment = datetime.fromisoformat(text.strip())
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone_for(tz))
    return moment


def _parse(text: str, tz: str, now: datetime) -> dict:
    return {"mentions": [mention_json(m) for m in find_mentions(text, tz, now)]}


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="app.py parse", description="Print the time mentions of TEXT as JSON.")
    parser.add_argument("text", nargs="?", help="the message; without it, JSON lines are read from stdin")
    parser.add_argument("--tz", default="UTC", help="the sender's zone (default UTC)")
    parser.add_argument("--now", default="", help="when the message was sent, ISO 8601 (default: now)")
    args = parser.parse_args(argv)
    tz = _zone(args.tz)
    if tz is None:
        print(f"unknown zone: {args.tz}", file=sys.stderr)
        return 2
    try:
        now = _moment(args.now, tz) if args.now else datetime.now(timezone.utc)
    except ValueError:
        print(f"--now is not ISO 8601: {args.now}", file=sys.stderr)
        return 2
    out = sys.stdout.buffer
    if args.text is not None:
        out.write(_encode(_parse(args.text, tz, now)) + b"\n")
        out.flush()
        return 0
    for raw in sys.stdin.buffer:
        out.write(_encode(_batch_line(raw, tz, now)) + b"\n")
        out.flush()  # a caller may feed one line and wait for its answer
    return 0


def _batch_line(raw: bytes, default_tz: str, default_now: datetime) -> dict:
    if not raw.strip():
        return {"mentions": [], "error": "empty line"}
    try:
        line = _decode_line(raw)
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        return {"mentions": [], "error": f"bad line: {exc}"}
    tz = default_tz
    if line.tz:
        tz = _zone(line.tz)
        if tz is None:
            return {"mentions": [], "error": f"unknown zone: {line.tz}"}
    try:
        now = _moment(line.now, tz) if line.now else default_now
    except ValueError:
        return {"mentions": [], "error": f"now is not ISO 8601: {line.now}"}
    return _parse(line.text, tz, now)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
