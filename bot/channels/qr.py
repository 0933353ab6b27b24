"""QR codes for replies whose image is `qr:<text>` (see `bot.engine.messages.qr_image`).

Rendered with segno (pure Python) as a PNG: uploaded as bytes on Telegram, inlined as a
`data:` URI on the web chat (kiosks may be offline, so no external service). Zalo's
sendPhoto takes only a URL, so the Zalo adapter sends the encoded text instead.
"""

from __future__ import annotations

import base64
import io
from functools import lru_cache

import segno

# Large modules and a quiet zone of four: scannable from a phone held at arm's length.
_SCALE = 10
_BORDER = 4
# A link of a few dozen characters; a QR code holding much more is no longer easy to scan.
MAX_TEXT = 512


@lru_cache(maxsize=64)
def png(text: str) -> bytes:
    """The PNG of a QR code holding `text` (medium error correction)."""
    if not text or len(text) > MAX_TEXT:
        raise ValueError(f"QR text must be 1-{MAX_TEXT} characters")
    out = io.BytesIO()
    segno.make(text, error="m", micro=False).save(out, kind="png", scale=_SCALE, border=_BORDER)
    return out.getvalue()


def data_uri(text: str) -> str:
    """The QR code of `text` as a `data:image/png;base64,...` URI, for an `<img src>`."""
    return "data:image/png;base64," + base64.b64encode(png(text)).decode("ascii")
