"""Certificate verification codes: random, short, and easy to read aloud or type.

Pure (no database), so the engine can make a code inside the step that issues it.
"""

from __future__ import annotations

import re
import secrets

# No 0/O, 1/I/L or U/V: a code read over the phone or copied from paper survives.
ALPHABET = "23456789ABCDEFGHJKMNPQRSTWXYZ"
CODE_LENGTH = 10
_SEPARATORS = re.compile(r"[\s\-_.·]+")


def new_code() -> str:
    """Return a fresh random code of CODE_LENGTH characters from ALPHABET."""
    return "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))


def normalise_code(typed: str) -> str | None:
    """Return the code as stored (upper case, no spaces or dashes), or None if it cannot be one."""
    code = _SEPARATORS.sub("", typed).upper()
    if len(code) != CODE_LENGTH or any(char not in ALPHABET for char in code):
        return None
    return code


def display_code(code: str) -> str:
    """Return the code in two groups of five ("ABCDE-FGHJK"), easier to read and copy."""
    half = len(code) // 2
    return f"{code[:half]}-{code[half:]}"
