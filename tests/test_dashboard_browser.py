"""The officials' dashboard rendered by headless Chromium against stub API answers.

No selenium or playwright: Chromium itself loads the page (`--dump-dom` prints the DOM once
the page's scripts and fetches have settled, `--screenshot` saves a PNG). The token reaches the
page through the URL fragment (`/dashboard#token=...`), which the page accepts once.

Chromium comes from Debian's `chromium` package (`apt-get install chromium`); set
HOCVUSO_CHROMIUM to use another binary. Without it the tests skip, except under CI=true,
where they fail: in CI they must run.
"""

from __future__ import annotations

import os
import re
import shutil
import struct
import subprocess
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

import pytest
from dashboard_fixture import GOOD_TOKEN, HAMLET_TOKEN, create_app, serving

ARTIFACTS = Path(__file__).parent / "artifacts"
SCREENSHOT = ARTIFACTS / "dashboard.png"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--disable-dev-shm-usage",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
    "--virtual-time-budget=5000",
]
MESSAGE_401 = "Mã truy cập không đúng hoặc đã bị thu hồi."
MESSAGE_403 = "Mã này không được xem mục này."
_VOID = {
    "area",
    "base",
    "br",
    "col",
    "embed",
    "hr",
    "img",
    "input",
    "link",
    "meta",
    "source",
    "wbr",
}


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in ("true", "1")


@pytest.fixture(scope="module")
def chromium() -> str:
    """The Chromium binary; skips without one (fails under CI=true)."""
    names = [os.environ.get("HOCVUSO_CHROMIUM", ""), "chromium", "chromium-browser"]
    found = next((path for name in names if name and (path := shutil.which(name))), None)
    if not found:
        message = "Chromium not found: install it with `apt-get install chromium`"
        if _in_ci():
            pytest.fail(f"{message} (CI=true: the browser tests must run)", pytrace=False)
        pytest.skip(message)
    return found


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    """The dashboard and the stub API, served on 127.0.0.1 from a background thread."""
    with serving(create_app()) as base:
        yield base


class Dom(HTMLParser):
    """The dumped DOM: attributes and text of every element that has an id."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.attrs: dict[str, dict[str, str]] = {}
        self.texts: dict[str, list[str]] = {}
        self._open: list[tuple[str, str | None]] = []
        self.feed(html)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        """Remember the element's attributes if it has an id."""
        values = {name: value or "" for name, value in attrs}
        ident = values.get("id")
        if ident:
            self.attrs[ident] = values
            self.texts.setdefault(ident, [])
        if tag not in _VOID:
            self._open.append((tag, ident))

    def handle_endtag(self, tag: str) -> None:
        """Close the innermost open element of that tag."""
        for index in range(len(self._open) - 1, -1, -1):
            if self._open[index][0] == tag:
                del self._open[index:]
                return

    def handle_data(self, data: str) -> None:
        """Add text to every open element with an id."""
        for _, ident in self._open:
            if ident:
                self.texts[ident].append(data)

    def text(self, ident: str) -> str:
        """The element's text, whitespace collapsed."""
        return " ".join("".join(self.texts[ident]).split())

    def hidden(self, ident: str) -> bool:
        """Whether the element carries the `hidden` attribute."""
        return "hidden" in self.attrs[ident]


def _run(chromium: str, profile: Path, url: str, *extra: str) -> str:
    """Run Chromium once on `url` with a fresh profile; its stdout."""
    command = [chromium, *FLAGS, f"--user-data-dir={profile}", *extra, url]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=90, check=False)
    except subprocess.TimeoutExpired as error:
        raise AssertionError(f"Chromium did not finish in 90s: {command}") from error
    assert done.returncode == 0, f"Chromium failed ({done.returncode}):\n{done.stderr[-3000:]}"
    return done.stdout


def dump_dom(chromium: str, tmp_path: Path, url: str) -> tuple[str, Dom]:
    """The page's DOM after its scripts and fetches have run, raw and parsed."""
    html = _run(chromium, tmp_path / "profile", url, "--window-size=1366,900", "--dump-dom")
    assert "<html" in html, html[:500]
    return html, Dom(html)


def test_signed_in_dashboard_shows_every_section(
    chromium: str, base_url: str, tmp_path: Path
) -> None:
    """A good token: coverage, hamlets, lessons, trend chart, no sign-in form, no token in DOM."""
    html, dom = dump_dom(chromium, tmp_path, f"{base_url}/dashboard#token={GOOD_TOKEN}")

    assert dom.hidden("signin")
    assert not dom.hidden("dashboard")
    assert not dom.hidden("session-actions")
    assert dom.hidden("banner"), dom.text("banner")
    assert GOOD_TOKEN not in html
    assert "Xã Trần Phú" in dom.text("subtitle")
    assert "12/01/2026" in dom.text("subtitle")

    coverage = dom.text("coverage")
    for label in ("Người dân trưởng thành", "Học sinh", "Cán bộ, công chức", "Người lao động"):
        assert label in coverage
    for rate in ("83,5%", "88,9%", "100%", "55%"):
        assert rate in coverage
    for badge in ("Đạt", "Đúng tiến độ", "Chậm", "Không đạt"):
        assert badge in coverage
    assert "31/12/2026" in coverage
    assert "2.700" in coverage  # population, Vietnamese thousands separator
    assert "cần thêm 176 người" in coverage
    assert html.count('class="marker"') == 6  # one per target of the plan

    hamlets = dom.text("hamlets")
    for name in ("Thôn Mẫu Một", "Thôn Mẫu Hai", "Thôn Mẫu Ba", "Thôn Mẫu Bốn"):
        assert name in hamlets
    assert "87,8%" in hamlets and "720/820" in hamlets
    assert len(re.findall(r'<td class="cell status-(?:met|on_track|behind|missed)"', html)) == 16

    lessons = dom.text("lessons")
    for title in ("Tài khoản VNeID mức 2", "Trả tiền bằng mã QR", "Cuộc gọi giả danh công an"):
        assert title in lessons
    assert "1.840" in lessons and "86,2%" in lessons and "1,3" in lessons
    assert "Nhập mã OTP cho xong" in lessons and "31%" in lessons

    trend = dom.text("trend")
    assert '<svg class="trend-chart"' in html
    assert html.count('class="bar-new"') == 12
    assert "Xem bảng số liệu" in trend
    assert "2026-W03" in trend and "12/01/2026" in trend
    assert not dom.hidden("report")


def test_wrong_token_returns_to_sign_in_with_the_401_message(
    chromium: str, base_url: str, tmp_path: Path
) -> None:
    """A revoked or mistyped token: the sign-in form again, saying why, and no data."""
    html, dom = dump_dom(chromium, tmp_path, f"{base_url}/dashboard#token=not-a-real-token")

    assert not dom.hidden("signin")
    assert dom.hidden("dashboard")
    assert not dom.hidden("signin-error")
    assert dom.text("signin-error") == MESSAGE_401
    assert "Mã truy cập" in dom.text("signin")
    assert "83,5%" not in html and "<svg" not in html


def test_without_token_shows_only_the_sign_in_form(
    chromium: str, base_url: str, tmp_path: Path
) -> None:
    """First visit: the form, no error yet."""
    _, dom = dump_dom(chromium, tmp_path, f"{base_url}/dashboard")

    assert not dom.hidden("signin")
    assert dom.hidden("signin-error")
    assert dom.hidden("dashboard")
    assert "Đăng nhập" in dom.text("signin")


def test_hamlet_token_sees_its_hamlet_and_a_403_on_the_commune(
    chromium: str, base_url: str, tmp_path: Path
) -> None:
    """A forbidden section says so; the others still show."""
    _, dom = dump_dom(chromium, tmp_path, f"{base_url}/dashboard#token={HAMLET_TOKEN}")

    assert not dom.hidden("dashboard")
    assert MESSAGE_403 in dom.text("coverage")
    assert "Thôn Mẫu Một" in dom.text("hamlets")
    assert "Thôn Mẫu Hai" not in dom.text("hamlets")
    assert "Tài khoản VNeID mức 2" in dom.text("lessons")
    assert dom.hidden("banner")


def test_screenshot_is_kept_as_an_artefact(chromium: str, base_url: str, tmp_path: Path) -> None:
    """A full-width PNG of the signed-in page, written to tests/artifacts/dashboard.png."""
    ARTIFACTS.mkdir(exist_ok=True)
    SCREENSHOT.unlink(missing_ok=True)
    url = f"{base_url}/dashboard#token={GOOD_TOKEN}"
    _run(
        chromium, tmp_path / "profile", url, "--window-size=1366,2600", f"--screenshot={SCREENSHOT}"
    )

    data = SCREENSHOT.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    assert (width, height) == (1366, 2600)
    assert len(data) > 20_000, f"screenshot is only {len(data)} bytes: a blank page?"
