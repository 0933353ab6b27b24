"""Vietnamese text normalisation for matching what learners type.

Learners type with or without diacritics, in any case, with emoji and stray punctuation, in
abbreviations and teen-code ("ko dc", "sdt"), and sometimes with Telex keystrokes the phone
did not turn into letters ("ddang kys"). Two levels:

- `fold`: one comparable form for choices and answers: "Tiếp tục!! 👍" -> "tiep tuc".
- `normalise`: `fold`, then Telex leftovers, stretched letters and abbreviations expanded:
  "đk tk vneid ko dc" -> "dang ky tai khoan vneid khong duoc". Used by the assistant on both
  the question bank and the learner's question, so the two always meet in the same form.
"""

from __future__ import annotations

import re
import unicodedata

_NON_WORD = re.compile(r"[^\w\s]+", re.UNICODE)
_SPACES = re.compile(r"\s+")
# NFD splits "ế" into "e" + marks but leaves "đ" whole: map it by hand.
_SPECIAL = str.maketrans({"đ": "d", "Đ": "d", "_": " "})

# Abbreviations and teen-code, on folded tokens. Ambiguous ones ("bn": bạn or bao nhiêu?,
# "tt": thanh toán or thông tin?) are left alone on purpose.
ABBREVIATIONS: dict[str, str] = {
    "ko": "khong",
    "k": "khong",
    "kh": "khong",
    "khg": "khong",
    "kg": "khong",
    "hok": "khong",
    "hong": "khong",
    "hk": "khong",
    "hem": "khong",
    "dc": "duoc",
    "dk": "dang ky",
    "dky": "dang ky",
    "j": "gi",
    "ji": "gi",
    "lm": "lam",
    "ntn": "nhu the nao",
    "tk": "tai khoan",
    "stk": "so tai khoan",
    "sdt": "so dien thoai",
    "dt": "dien thoai",
    "dthoai": "dien thoai",
    "pass": "mat khau",
    "vs": "voi",
    "ng": "nguoi",
    "r": "roi",
    "oy": "roi",
    "cx": "cung",
    "z": "vay",
    "trc": "truoc",
    "ns": "noi",
    "nt": "nhan tin",
    "nv": "nhan vien",
    "ck": "chuyen khoan",
    "bh": "bao gio",
    "bgio": "bao gio",
    "bjo": "bao gio",
    "mn": "moi nguoi",
    "cccd": "can cuoc",
    "cmnd": "can cuoc",
    "gplx": "giay phep lai xe",
    "bhyt": "bao hiem y te",
    "dvc": "dich vu cong",
    "app": "ung dung",
    "apps": "ung dung",
    "zl": "zalo",
    "fb": "facebook",
    "ad": "admin",
    "vid": "video",
    "clip": "video",
    "tn": "tin nhan",
    "sms": "tin nhan",
    "nhiu": "nhieu",
    "hnay": "hom nay",
    "wa": "qua",
    "ui": "oi",
    "mik": "minh",
    "mjk": "minh",
    "bik": "biet",
    "bit": "biet",
    "ik": "di",
    "lun": "luon",
    "iu": "yeu",
    "thik": "thich",
}

# Vietnamese syllables never end in these letters; at the end of a word they are Telex tone
# keys the phone left as letters ("kys" = "ký", "vieejt" = "việt").
_TELEX_TONE_END = re.compile(r"^(.*[aeiouy](?:ch|ng|nh|[cmnpt])?)[sfrxj]$")
_TELEX_TONE_INSIDE = re.compile(r"(?<=[aeiouy])[sfrxj](?=(?:ch|ng|nh|[cmnpt])$)")
_TELEX_DOUBLES = (
    ("dd", "d"),
    ("aa", "a"),
    ("ee", "e"),
    ("oo", "o"),
    ("aw", "a"),
    ("ow", "o"),
    ("uw", "u"),
)
_STRETCHED = re.compile(r"(\w)\1{2,}")


def strip_diacritics(text: str) -> str:
    """Remove Vietnamese tone and vowel marks, including đ -> d."""
    decomposed = unicodedata.normalize("NFD", text.translate(_SPECIAL))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def fold(text: str) -> str:
    """Lower-case, strip diacritics, punctuation and emoji, collapse spaces."""
    text = unicodedata.normalize("NFC", text).lower()
    text = strip_diacritics(text)
    text = _NON_WORD.sub(" ", text)
    return _SPACES.sub(" ", text).strip()


def untelex(token: str) -> str:
    """Undo Telex keystrokes left in a folded word: "ddang" -> "dang", "kys" -> "ky"."""
    if not token.isalpha() or len(token) < 2:
        return token
    for double, single in _TELEX_DOUBLES:
        token = token.replace(double, single)
    token = _TELEX_TONE_INSIDE.sub("", token)
    return _TELEX_TONE_END.sub(r"\1", token)


# "mk" is "mình" after a person or a thing ("đt mk", "bà mk"), otherwise "mật khẩu".
_MK_MEANS_MINE_AFTER = frozenset(
    [
        "thoai",
        "ba",
        "me",
        "bo",
        "ong",
        "con",
        "nha",
        "chau",
        "em",
        "anh",
        "chi",
        "cua",
        "ban",
        "vo",
        "chong",
        "may",
        "xe",
    ]
)


def normalise(text: str) -> str:
    """`fold`, then squash stretched letters, undo Telex, expand abbreviations."""
    words: list[str] = []
    for token in fold(text).split():
        if token not in ABBREVIATIONS:  # "cccd" is an abbreviation, not a stretched "cd"
            token = _STRETCHED.sub(r"\1", token)
        if token == "mk":
            after_owner = bool(words) and words[-1].split()[-1] in _MK_MEANS_MINE_AFTER
            words.append("minh" if after_owner else "mat khau")
            continue
        token = ABBREVIATIONS.get(token, token)
        if " " not in token and token not in ABBREVIATIONS.values():
            token = ABBREVIATIONS.get(untelex(token), untelex(token))
        words.append(token)
    return " ".join(words)
