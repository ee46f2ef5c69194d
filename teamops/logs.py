"""Logging set-up and the one way we log a failure: ids and the error's kind, never its text.

An exception's message can carry whatever it was handed (message text, a URL with a bot token),
so failures are logged as the exception type plus the frames where it happened.
"""

from __future__ import annotations

import logging
import re
import sys
import traceback

IDENT_CHARS = 64  # sender-chosen ids are cut to this in log lines


def ident(value) -> str:
    """A sender-chosen id as it may appear in a log line: cut to a sane length."""
    return str(value)[:IDENT_CHARS]


# Line breaks and other control characters (C0, DEL, C1, the Unicode line separators).
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def _escaped(match: re.Match) -> str:
    return repr(match.group())[1:-1]  # "\n", "\x00", …


class OneLine(logging.Filter):
    """Strings handed to a log line as arguments (ids, paths: what a sender chose) cannot break
    it: a line break or a control character in them is written escaped, so no request can forge
    a line of its own or hide text in the log."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and record.args:
            record.args = tuple(_CONTROL.sub(_escaped, arg) if isinstance(arg, str) else arg for arg in record.args)
        return True


def setup(level: str) -> None:
    logging.basicConfig(
        level=getattr(logging, level, logging.INFO),
        stream=sys.stdout,
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
    )
    for handler in logging.getLogger().handlers:
        handler.addFilter(OneLine())
    # Their debug lines carry request URLs (the bot token is in Telegram's) and command bodies
    # (message text): never below WARNING, whatever LOG_LEVEL says.
    for noisy in ("urllib3", "pymongo", "asyncio"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, logging.getLogger().level))
    # A library's warning (a deprecation, a resource left open) is a WARNING line like ours, not
    # a bare two-line message on stderr.
    logging.captureWarnings(True)


def failure(logger: logging.Logger, what: str, exc: BaseException) -> None:
    frames = "".join(traceback.format_tb(exc.__traceback__, limit=-6))
    # The frames are ours and span lines: part of the format, not an argument OneLine escapes.
    logger.error("%s: %s\n" + frames.rstrip().replace("%", "%%"), what, type(exc).__name__)
