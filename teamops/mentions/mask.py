"""Step 1 of the pipeline: blank out what is never read (same length, same lines), so every
later step can work on positions of the original text.

Never read: fenced and inline code, URLs and bare links with a path, platform tokens
(<@user>, <#channel>, <t:…>), lines quoted with ">" (a quote was converted when it was first
posted) and our own conversion replies pasted back.
"""

from __future__ import annotations

import re

_MASK = re.compile(
    r"```[\s\S]*?(?:```|\Z)"  # fenced code; an unclosed fence runs to the end
    r"|^[ \t]*~~~[\s\S]*?(?:^[ \t]*~~~|\Z)"  # the other Markdown fence
    r"|`[^`\n]*`"  # inline code
    r"|<(?:[@#!]|t:|a?:\w+:)[^<>\n]*>"  # <@U0PM12> <#C1|general> <!here> <t:1700000000:t> <:emoji:1>
    r"|<https?://[^<>\s]*>"
    r"|(?:https?|ftp)://[^\s<>\"]+"
    r"|(?<![\w.])www\.[^\s<>\"]+"
    r"|(?<![\w.\-])[\w-]+(?:\.[\w-]+)*\.(?:com|org|net|io|dev|app|ru|de|fr|co|me|ly|gl|gg|so|ai|sh"
    r"|xyz|eu|uk|us|info|be|to|tv|es|pt|it|nl|pl|ua|by|kz)/[^\s<>\"]*"  # bare link with a path
    r"|^[ \t]*>[^\n]*",  # quoted line (Telegram/Slack/Discord markdown)
    re.M | re.I,
)
_NOT_NEWLINE = re.compile(r"[^\n]")

# Our own conversion lines (teamops.wording): "10:30  🇺🇸 New York (UTC−5)", "• 10:30 New York
# (UTC−5)". A line counts as ours when it carries a "(UTC…)" label AND looks like a reply line:
# it starts with "•", or its leading clock is followed by two spaces, or it uses the true minus
# sign U+2212 that people do not type. Such lines, the header line right above a block of them
# ("15:30 Lisbon, Mon 30 Nov"), our "(read …)"/"(clocks …)" notes and our "🕒 on your clock: …"
# line are not read. A user's own "15:00 standup (UTC+3)" is none of these and is read. "→" alone is not a signal: people write
# "standup 10:00 → 11:00" to announce a move.
_UTC_LABEL = re.compile(r"\(UTC(?:[+\u2212]\d{1,2}(?::\d\d)?)?\)")
_REPLY_CLOCK = re.compile(
    r"[ \t>]*(?:•[ \t]*)?\d{1,2}(?::\d\d)?(?:[ \t]?[AP]M)?(?:\u2013\d{1,2}(?::\d\d)?(?:[ \t]?[AP]M)?)?"
)


def mask(text: str) -> str:
    """The text with everything that must not be read blanked out (same length, same lines)."""
    if "`" in text or "<" in text or ">" in text or "/" in text or "www." in text or "~~~" in text:
        text = _MASK.sub(lambda m: _NOT_NEWLINE.sub(" ", m.group()), text)
    if "(UTC" in text:
        text = _mask_replies(text)
    return text


def _is_reply_line(line: str) -> bool:
    if not _UTC_LABEL.search(line):
        return False
    stripped = line.lstrip(" \t>")
    if stripped.startswith("•") or "\u2212" in line:
        return True
    clock = _REPLY_CLOCK.match(line)
    return bool(clock and line.startswith("  ", clock.end()) and clock.end() > len(line) - len(stripped))


def _mask_replies(text: str) -> str:
    lines = text.split("\n")
    ours = [_is_reply_line(line) for line in lines]
    if not any(ours):
        return text
    notes = [line.strip(" \t>").startswith(("(read ", "(clocks ", "\U0001f552 ")) for line in lines]
    for index in range(len(lines) - 1, -1, -1):
        if ours[index] or notes[index] or not _REPLY_CLOCK.match(lines[index]):
            continue
        below = index + 1
        while below < len(lines) and notes[below]:
            below += 1
        if below < len(lines) and ours[below]:
            ours[index] = True  # the header above a block of our lines ("15:30 🇩🇪 Berlin, Wed 2 Jul")
    for index, note in enumerate(notes):
        ours[index] = ours[index] or note
    return "\n".join(" " * len(line) if mine else line for line, mine in zip(lines, ours, strict=True))
