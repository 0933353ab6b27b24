"""Referrals: which volunteer brought a learner, by the volunteer's referral code.

A resident arrives through a volunteer's Telegram link (`/start ref-<code>`) or types the
code on Zalo; `learner.referred_by` then holds the volunteer's learner id. The write runs
inside the step's transaction and only fills an empty `referred_by`: the first referral
wins, and nobody refers themself.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from storage.models import Learner, Volunteer

_learner = Learner.__table__  # type: ignore[attr-defined]
_volunteer = Volunteer.__table__  # type: ignore[attr-defined]

# Codes are stored in upper case; residents type them in any case, with spaces or dashes.
_NOISE = str.maketrans("", "", " -_")


def normalise_referral_code(code: str) -> str:
    """A typed referral code as stored: upper case, without spaces or dashes."""
    return code.translate(_NOISE).upper()


def find_referrer(engine: Engine, code: str) -> int | None:
    """The learner id of the volunteer whose referral code this is, or None."""
    normalised = normalise_referral_code(code)
    if not normalised:
        return None
    with engine.connect() as connection:
        return connection.execute(
            sa.select(_volunteer.c.learner_id).where(_volunteer.c.referral_code == normalised)
        ).scalar_one_or_none()


def write_referral(connection: Connection, learner_id: int, referrer_id: int) -> bool:
    """Record the referrer if none is recorded yet, it is not the learner, and still a volunteer."""
    if referrer_id == learner_id:
        return False
    still_volunteer = sa.exists().where(_volunteer.c.learner_id == referrer_id)
    updated = connection.execute(
        sa.update(_learner)
        .where(
            _learner.c.id == learner_id,
            _learner.c.referred_by.is_(None),
            still_volunteer,
        )
        .values(referred_by=referrer_id)
    )
    return bool(updated.rowcount)
