"""Logging that never shows a token or secret, whatever library wrote the line.

httpx logs request URLs, and Telegram's contain the bot token; exceptions can carry them too.
Every line is redacted after formatting, traceback included.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable

# Telegram bot tokens and officials' API tokens have these shapes; redact them even if nobody
# registered them as secrets.
_TOKEN_SHAPES = re.compile(r"\d{5,}:[A-Za-z0-9_-]{20,}|hv_[A-Za-z0-9_-]{20,}")
MASK = "***"


class RedactingFormatter(logging.Formatter):
    """A formatter that masks known secrets and anything shaped like a bot token."""

    def __init__(self, fmt: str, secrets: Iterable[str] = ()) -> None:
        super().__init__(fmt)
        # Longest first, so a secret containing another is masked whole.
        self._secrets = sorted({s for s in secrets if len(s) >= 4}, key=len, reverse=True)

    def format(self, record: logging.LogRecord) -> str:
        """Format the record, then mask every secret in the result."""
        return redact(super().format(record), self._secrets)


def redact(text: str, secrets: Iterable[str]) -> str:
    """Mask each secret, and anything shaped like a bot or API token, in `text`."""
    for secret in secrets:
        text = text.replace(secret, MASK)
    return _TOKEN_SHAPES.sub(MASK, text)


def configure(secrets: Iterable[str], level: int = logging.INFO) -> None:
    """Send all logging through one redacting handler on the root logger."""
    handler = logging.StreamHandler()
    handler.setFormatter(
        RedactingFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s", secrets)
    )
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    # Request lines are noise at INFO; errors still come through (redacted).
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("httpcore").setLevel(logging.WARNING)
