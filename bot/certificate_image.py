"""The certificate as a picture (PNG): what it says, and a QR code to the page that checks it.

Drawn with Pillow in DejaVu Sans, shipped in `bot/fonts/` (free licence there), so Vietnamese
diacritics render the same on every machine, with no system fonts needed.
"""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import segno
import sqlalchemy as sa
from PIL import Image, ImageDraw, ImageFont

from bot.commune import Commune
from bot.content import Content
from bot.engine import texts
from bot.engine.certificates import code_in_image, group_label, verify_path
from storage.certcode import display_code
from storage.certificates import CertificateRecord, find_certificate

FONTS = Path(__file__).parent / "fonts"
WIDTH = 1200
_MARGIN = 70
_QR_SIZE = 260
_RED = (160, 24, 24)
_GOLD = (196, 150, 52)
_INK = (33, 33, 33)
_GREY = (110, 110, 110)
_PAPER = (255, 252, 242)


@dataclass(frozen=True, slots=True)
class CertificateView:
    """A certificate as shown to anyone: names instead of ids, and nothing about the learner."""

    code: str
    initials: str | None
    hamlet: str | None
    group: str
    issued_on: dt.date
    lessons: tuple[str, ...]
    commune: str
    valid: bool


def describe(record: CertificateRecord, content: Content, commune: Commune) -> CertificateView:
    """Turn a stored certificate into what people read: hamlet name, group, lesson titles."""
    hamlet = commune.hamlet(record.hamlet_id)
    titles = tuple(
        content.lessons[lesson].title if lesson in content.lessons else lesson
        for lesson in record.lessons
    )
    return CertificateView(
        code=record.code,
        initials=record.initials,
        hamlet=hamlet.name if hamlet else None,
        group=group_label(record.target_group),
        issued_on=record.issued_on,
        lessons=titles,
        commune=commune.commune.name,
        valid=record.valid,
    )


def vietnamese_date(day: dt.date) -> str:
    """A date as Vietnamese people write it: 23/11/2026."""
    return f"{day.day:02d}/{day.month:02d}/{day.year}"


def check_url(public_url: str | None, code: str) -> str | None:
    """The full address where the certificate can be checked, when the service has one."""
    return public_url.rstrip("/") + verify_path(code) if public_url else None


@cache
def _font(size: int, bold: bool = False) -> ImageFont.FreeTypeFont:
    name = "DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf"
    return ImageFont.truetype(str(FONTS / name), size)


def _wrap(text: str, font: ImageFont.FreeTypeFont, width: float) -> list[str]:
    """Split text into lines no wider than `width` pixels, at spaces."""
    lines: list[str] = []
    current = ""
    for word in text.split():
        candidate = f"{current} {word}".strip()
        if current and font.getlength(candidate) > width:
            lines.append(current)
            current = word
        else:
            current = candidate
    if current:
        lines.append(current)
    return lines or [""]


def _wrap_url(url: str, font: ImageFont.FreeTypeFont, width: float) -> list[str]:
    """Split an address (no spaces) into lines no wider than `width`, after a slash if can."""
    lines: list[str] = []
    rest = url
    while rest:
        cut = len(rest)
        while cut > 1 and font.getlength(rest[:cut]) > width:
            cut -= 1
        slash = rest.rfind("/", 0, cut)
        if cut < len(rest) and slash > cut // 2:
            cut = slash + 1
        lines.append(rest[:cut])
        rest = rest[cut:]
    return lines


def _qr_image(url: str, size: int) -> Image.Image:
    buffer = io.BytesIO()
    segno.make(url, error="m").save(buffer, kind="png", scale=10, border=2)
    buffer.seek(0)
    with Image.open(buffer) as qr:
        return qr.convert("RGB").resize((size, size), Image.Resampling.NEAREST)


def render_png(view: CertificateView, url: str | None) -> bytes:
    """Draw the certificate; with a QR code to `url` when the service has a public address."""
    body = _font(30)
    small = _font(24)
    text_width = WIDTH - 2 * _MARGIN - 40
    # Everything above the code block, as (text, font, colour, gap after) lines.
    lines: list[tuple[str, ImageFont.FreeTypeFont, tuple[int, int, int], int]] = []

    def add(
        text: str, font: ImageFont.FreeTypeFont, colour: tuple[int, int, int], gap: int
    ) -> None:
        wrapped = _wrap(text, font, text_width)
        for line in wrapped[:-1]:
            lines.append((line, font, colour, 8))
        lines.append((wrapped[-1], font, colour, gap))

    add(texts.CERTIFICATE_MOVEMENT.format(commune=view.commune), small, _GREY, 18)
    add(texts.CERTIFICATE_TITLE.upper(), _font(52, bold=True), _RED, 34)
    if view.initials:
        add(texts.CERTIFICATE_LEARNER.format(initials=view.initials), body, _INK, 14)
    add(texts.CERTIFICATE_GROUP.format(group=view.group), body, _INK, 14)
    if view.hamlet:
        add(texts.CERTIFICATE_HAMLET.format(hamlet=view.hamlet), body, _INK, 14)
    add(texts.CERTIFICATE_DATE.format(date=vietnamese_date(view.issued_on)), body, _INK, 26)
    add(texts.CERTIFICATE_LESSONS, _font(30, bold=True), _INK, 12)
    for title in view.lessons:
        add(f"•  {title}", small, _INK, 8)

    def height_of(font: ImageFont.FreeTypeFont) -> int:
        ascent, descent = font.getmetrics()
        return ascent + descent

    top = _MARGIN + 30
    text_height = sum(height_of(font) + gap for _, font, _, gap in lines)
    footer_height = max(_QR_SIZE if url else 0, 150) + 110
    height = top + text_height + 40 + footer_height + _MARGIN
    image = Image.new("RGB", (WIDTH, height), _PAPER)
    draw = ImageDraw.Draw(image)
    draw.rectangle((20, 20, WIDTH - 21, height - 21), outline=_RED, width=8)
    draw.rectangle((38, 38, WIDTH - 39, height - 39), outline=_GOLD, width=3)

    y = top
    for text, font, colour, gap in lines:
        x = (WIDTH - font.getlength(text)) / 2 if font.size >= 52 else _MARGIN + 20
        draw.text((x, y), text, font=font, fill=colour)
        y += height_of(font) + gap

    y += 30
    draw.line((_MARGIN + 20, y, WIDTH - _MARGIN - 20, y), fill=_GOLD, width=2)
    y += 30
    code_font = _font(40, bold=True)
    draw.text((_MARGIN + 20, y), texts.CERTIFICATE_CODE.format(code=""), font=body, fill=_INK)
    draw.text((_MARGIN + 20, y + 46), display_code(view.code), font=code_font, fill=_RED)
    if url:
        qr_x = WIDTH - _MARGIN - 20 - _QR_SIZE
        image.paste(_qr_image(url, _QR_SIZE), (qr_x, y))
        draw.text((_MARGIN + 20, y + 120), texts.CERTIFICATE_SCAN + " →", font=small, fill=_GREY)
        for number, line in enumerate(_wrap_url(url, small, qr_x - _MARGIN - 60)[:3]):
            draw.text((_MARGIN + 20, y + 160 + 32 * number), line, font=small, fill=_GREY)
        y += _QR_SIZE
    else:
        y += 150
    y += 24
    for line in _wrap(texts.CERTIFICATE_FOOTNOTE, small, text_width):
        draw.text((_MARGIN + 20, y), line, font=small, fill=_GREY)
        y += height_of(small) + 6

    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()


class CertificatePictures:
    """Certificate pictures by a reply's image reference, for channels that upload (Telegram)."""

    def __init__(
        self, database: sa.Engine, content: Content, commune: Commune, public_url: str | None
    ) -> None:
        """Read certificates from `database`; QR codes point at `public_url` when set."""
        self._database = database
        self._content = content
        self._commune = commune
        self._public_url = public_url

    def __call__(self, image: str) -> bytes | None:
        """The PNG for a certificate picture's path, None for any other image or a withdrawn one."""
        code = code_in_image(image)
        if code is None:
            return None
        record = find_certificate(self._database, code)
        if record is None or not record.valid:
            return None
        view = describe(record, self._content, self._commune)
        return render_png(view, check_url(self._public_url, record.code))
