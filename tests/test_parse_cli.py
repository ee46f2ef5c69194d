"""`python -m teamops.parse_cli` (what `python app.py parse` runs) as a subprocess: the JSON
contract of issue 3, single and batch modes, and its errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NOW = "2025-07-01T09:00:00Z"


def _run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "teamops.parse_cli", *args],
        cwd=ROOT, input=stdin, capture_output=True, text=True, timeout=60,
    )


def test_single_message_prints_one_json_object():
    text = "sync at 3pm PST tomorrow, or 10-11am?"
    result = _run("--tz", "Europe/Berlin", "--now", NOW, text)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 1
    out = json.loads(lines[0])
    assert out == {"mentions": [
        {"text": "3pm PST", "start": 8, "end": 15, "local": "2025-07-02T15:00", "tz": "America/Los_Angeles",
         "utc": "2025-07-02T22:00Z", "tz_explicit": True, "inferred": False},
        {"text": "10-11am", "start": 29, "end": 36, "local": "2025-07-02T10:00", "tz": "Europe/Berlin",
         "utc": "2025-07-02T08:00Z", "tz_explicit": False, "inferred": False, "end_local": "2025-07-02T11:00"},
    ]}
    for mention in out["mentions"]:
        assert text[mention["start"]:mention["end"]] == mention["text"]


def test_defaults_are_utc_and_a_message_without_times_is_empty():
    result = _run("--now", NOW, "at 10")
    assert json.loads(result.stdout)["mentions"][0] == {
        "text": "10", "start": 3, "end": 5, "local": "2025-07-01T10:00", "tz": "UTC", "utc": "2025-07-01T10:00Z",
        "tz_explicit": False, "inferred": True,
    }
    assert json.loads(_run("I have 3 PRs").stdout) == {"mentions": []}


def test_fixed_offset_zone_and_sender_zone_offsets():
    out = json.loads(_run("--tz", "UTC+03:00", "--now", NOW, "call 15:00 UTC-05:00").stdout)
    [mention] = out["mentions"]
    assert mention["tz"] == "UTC-05:00" and mention["utc"] == "2025-07-01T20:00Z"
    out = json.loads(_run("--tz", "UTC+3", "--now", NOW, "call 15:00").stdout)
    assert out["mentions"][0]["tz"] == "UTC+03:00" and out["mentions"][0]["utc"] == "2025-07-01T12:00Z"


def test_batch_mode_reads_json_lines_in_order_with_per_line_zone_and_now():
    lines = [
        {"text": "at 15:30"},
        {"text": "в 7 вечера", "tz": "Europe/Moscow"},
        {"text": "nothing here"},
        {"text": "tomorrow at 9am", "tz": "Asia/Tokyo", "now": "2025-07-01T23:30:00+00:00"},
        {"text": "x", "tz": "Nowhere/Zone"},
    ]
    stdin = "\n".join(json.dumps(line, ensure_ascii=False) for line in lines) + "\n"
    result = _run("--tz", "Europe/Berlin", "--now", NOW, stdin=stdin)
    assert result.returncode == 0, result.stderr
    out = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(out) == len(lines)
    assert out[0]["mentions"][0]["local"] == "2025-07-01T15:30" and out[0]["mentions"][0]["tz"] == "Europe/Berlin"
    assert out[1]["mentions"][0] == {
        "text": "7 вечера", "start": 2, "end": 10, "local": "2025-07-01T19:00", "tz": "Europe/Moscow",
        "utc": "2025-07-01T16:00Z", "tz_explicit": False, "inferred": False,
    }
    assert out[2] == {"mentions": []}
    assert out[3]["mentions"][0]["local"] == "2025-07-03T09:00"  # already the 2nd in Tokyo: tomorrow is the 3rd
    assert out[4]["mentions"] == [] and "unknown zone" in out[4]["error"]


def test_batch_mode_keeps_alignment_on_bad_lines():
    stdin = '{"text": "at 10:00"}\nnot json\n\n{"text": "at 11:00"}\n'
    out = [json.loads(line) for line in _run("--now", NOW, stdin=stdin).stdout.splitlines()]
    assert len(out) == 4
    assert out[0]["mentions"][0]["local"] == "2025-07-01T10:00"
    assert "error" in out[1] and "error" in out[2]
    assert out[3]["mentions"][0]["local"] == "2025-07-01T11:00"


def test_bad_zone_or_now_exits_2_with_a_message():
    result = _run("--tz", "Mars/Olympus", "hello at 3pm")
    assert result.returncode == 2 and "unknown zone" in result.stderr and result.stdout == ""
    result = _run("--now", "yesterday-ish", "hello at 3pm")
    assert result.returncode == 2 and "ISO 8601" in result.stderr and result.stdout == ""
