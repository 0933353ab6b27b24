"""Vietnamese text normalisation for matching what learners type.

Learners type with or without diacritics, in any case, with emoji and stray punctuation.
`fold` turns all of that into one comparable form: "Tiếp tục!! 👍" -> "tiep tuc".
"""

from __future__ import annotations

import re
import unicodedata

_NON_WORD = re.compile(r"[^\w\s]+", re.UNICODE)
_SPACES = re.compile(r"\s+")
# NFD splits "ế" into "e" + marks but leaves "đ" whole: map it by hand.
_SPECIAL = str.maketrans({"đ": "d", "Đ": "d", "_": " "})


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
