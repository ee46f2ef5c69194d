"""Logging set-up and the one way we log a failure: ids and the error's kind, never its text.

An exception's message can carry whatever it was handed (message text, a URL with a bot token),
so failures are logged as the exception type plus the frames where it happened.
"""

from __future__ import annotations

import logging
import sys
import traceback


def setup(level: str) -> None:
    logging.basicConfig(
        level=getattr(logging, level, logging.INFO),
        stream=sys.stdout,
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
    )
    # Their debug lines carry request URLs (the bot token is in Telegram's) and command bodies
    # (message text): never below WARNING, whatever LOG_LEVEL says.
    for noisy in ("urllib3", "pymongo", "asyncio"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, logging.getLogger().level))
    # A library's warning (a deprecation, a resource left open) is a WARNING line like ours, not
    # a bare two-line message on stderr.
    logging.captureWarnings(True)


def failure(logger: logging.Logger, what: str, exc: BaseException) -> None:
    frames = "".join(traceback.format_tb(exc.__traceback__, limit=-6))
    logger.error("%s: %s\n%s", what, type(exc).__name__, frames.rstrip())
