"""Outbound delivery, one module per platform. Each sender turns a Reply into its platform's API
call and says how it went: delivered, dropped for good, or worth trying again later."""

from __future__ import annotations

import msgspec


class Outcome(msgspec.Struct, frozen=True):
    status: str  # "sent" | "dropped" | "retry"
    retry_after: float = 0.0
    detail: str = ""  # for logs: an HTTP status or error kind, never message text


SENT = Outcome("sent")
