"""Vietnamese normalisation, case by case: what residents type -> what the assistant compares."""

from __future__ import annotations

import pytest

from bot.textnorm import fold, normalise, untelex


@pytest.mark.parametrize(
    ("typed", "folded"),
    [
        ("Tiếp tục!! 👍", "tiep tuc"),
        ("ĐỒNG Ý", "dong y"),
        ("Đăng ký", "dang ky"),  # đ is not split by NFD: mapped by hand
        ("Học  tiếp...", "hoc tiep"),
        ("Căn cước\u0301", "can cuoc"),  # a stray combining mark
        ("Cu\u0300ng", "cung"),  # decomposed input (NFD) folds like composed
        ("  \t\n", ""),
        ("🙂🙂🙂", ""),
        ("mã_QR", "ma qr"),
    ],
)
def test_fold(typed: str, folded: str) -> None:
    assert fold(typed) == folded


@pytest.mark.parametrize(
    ("typed", "normalised"),
    [
        ("ko dc", "khong duoc"),
        ("k bik lm j", "khong biet lam gi"),
        ("hok đc", "khong duoc"),
        ("đk tk vneid", "dang ky tai khoan vneid"),
        ("ntn", "nhu the nao"),
        ("quên mk", "quen mat khau"),  # "mk" alone is a password...
        ("đt mk bị vỡ", "dien thoai minh bi vo"),  # ...but after a thing or a person, "mình"
        ("bà mk 82t", "ba minh 82t"),
        ("sdt của con", "so dien thoai cua con"),
        ("chuyển vs ck", "chuyen voi chuyen khoan"),
        ("cccd gắn chip", "can cuoc gan chip"),
        ("sao z", "sao vay"),
        ("khongggg biết", "khong biet"),  # stretched letters
        ("ddang kys", "dang ky"),  # Telex left as letters
        ("vieejt nam", "viet nam"),
        ("lamf sao", "lam sao"),  # tone key after the final consonant
        ("tải app", "tai ung dung"),
        ("Facebook bị hack", "facebook bi hack"),
    ],
)
def test_normalise(typed: str, normalised: str) -> None:
    assert normalise(typed) == normalised


@pytest.mark.parametrize(
    ("word", "plain"),
    [("ddang", "dang"), ("kys", "ky"), ("nhaanj", "nhan"), ("tieenf", "tien"), ("otp", "otp")],
)
def test_untelex(word: str, plain: str) -> None:
    assert untelex(word) == plain
