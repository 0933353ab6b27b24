"""Short codes people read aloud and type: invite codes, referral codes; no database here."""

from __future__ import annotations

import hashlib
import re
import secrets

__all__ = [
    "ASSISTED_CHANNEL",
    "CODE_ALPHABET",
    "INVITE_PREFIX",
    "invite_code_of",
    "invite_hash",
    "new_code",
]

# The channel of residents a volunteer created: they have no chat of their own.
ASSISTED_CHANNEL = "assisted"
# No 0/O, 1/I/L: codes are read aloud and typed on small keyboards.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
INVITE_PREFIX = "TNV"
_INVITE = re.compile(r"^\s*tnv[\s-]*([a-z0-9]{8})\s*$", re.IGNORECASE)


def new_code(length: int) -> str:
    """A random code from the unambiguous alphabet."""
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(length))


def invite_code_of(text: str) -> str | None:
    """The invite code in a typed message ("TNV-ABCD2345", "tnv abcd2345"), normalised."""
    found = _INVITE.match(text)
    return f"{INVITE_PREFIX}-{found.group(1).upper()}" if found else None


def invite_hash(code: str) -> str:
    """SHA-256 hex of a normalised invite code."""
    return hashlib.sha256(code.encode()).hexdigest()
