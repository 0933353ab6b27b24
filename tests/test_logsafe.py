"""No token or secret ever reaches a log line, whoever wrote it."""

from __future__ import annotations

import io
import logging

from hocvuso.logsafe import RedactingFormatter, redact


def test_known_secrets_and_token_shapes_are_masked() -> None:
    token = "123456:TEST-token_abcdefghij"
    line = f"POST https://api.telegram.org/bot{token}/getUpdates secret=hook_secret-1"
    masked = redact(line, ["hook_secret-1"])
    assert token not in masked and "hook_secret-1" not in masked
    assert "987654321:AAAbbbCCCdddEEEfffGGGhhh" not in redact(
        "x 987654321:AAAbbbCCCdddEEEfffGGGhhh", []
    )


def test_tracebacks_are_masked_too() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(RedactingFormatter("%(message)s", ["s3cr3t-value"]))
    logger = logging.getLogger("test.logsafe")
    logger.addHandler(handler)
    try:
        try:
            raise RuntimeError("connect failed for https://x/bots3cr3t-value/getMe")
        except RuntimeError:
            logger.exception("request to %s failed", "https://x/bots3cr3t-value")
    finally:
        logger.removeHandler(handler)
    out = stream.getvalue()
    assert "s3cr3t-value" not in out and "RuntimeError" in out
