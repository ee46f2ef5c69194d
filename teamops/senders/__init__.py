"""Outbound delivery, one module per platform. Each sender turns a Reply into its platform's API
call and says how it went: delivered, dropped for good, worth trying again later, or (for a
private answer) refused, so the worker sends the reply's fallback instead. teamops/events.py says
how each part of a Reply is rendered."""

from __future__ import annotations

import msgspec


class Outcome(msgspec.Struct, frozen=True):
    status: str  # "sent" | "dropped" | "retry" | "refused" (a private answer the platform would not deliver)
    retry_after: float = 0.0
    detail: str = ""  # for logs: an HTTP status or error kind, never message text
    message_id: str = ""  # with "sent": the platform's id of the message showing the reply, if it can be edited


SENT = Outcome("sent")


def star_bold(text: str) -> str:
    """Bold as Slack and WhatsApp mark it up (*…*)."""
    # *…* binds only to non-blank text on one line: spaces and newlines stay outside the stars.
    lines = []
    for line in text.split("\n"):
        core = line.strip()
        if not core:
            lines.append(line)
            continue
        lead = line[: len(line) - len(line.lstrip())]
        trail = line[len(line.rstrip()):]
        lines.append(f"{lead}*{core}*{trail}")
    return "\n".join(lines)
