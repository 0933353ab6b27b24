"""Volunteers: invite codes, joining, residents they help, and hands-on checks they sign off.

Invite codes are credentials (a volunteer can create profiles and sign off skills that the
officials' figures count), so only their SHA-256 is stored and the code is printed once.
The writes here run inside the step's transaction (`SqlRepository.apply` calls
`write_volunteer_changes`), so a step that loses the optimistic-locking race writes none.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from storage.codes import ASSISTED_CHANNEL, INVITE_PREFIX, invite_hash, new_code
from storage.models import (
    ConsentRecord,
    Conversation,
    HandsOnCheck,
    Learner,
    ProgressEventRecord,
    Volunteer,
    VolunteerInvite,
    plain_data,
    storable_text,
    utcnow,
)
from storage.records import (
    Changes,
    ResidentSummary,
    VolunteerInfo,
)
from storage.records import VolunteerInvite as InviteRecord

__all__ = [
    "create_invite",
    "find_invite",
    "load_volunteer",
    "residents_of",
    "write_volunteer_changes",
]

_learner = Learner.__table__  # type: ignore[attr-defined]
_consent = ConsentRecord.__table__  # type: ignore[attr-defined]
_conversation = Conversation.__table__  # type: ignore[attr-defined]
_event = ProgressEventRecord.__table__  # type: ignore[attr-defined]
_check = HandsOnCheck.__table__  # type: ignore[attr-defined]
_volunteer = Volunteer.__table__  # type: ignore[attr-defined]
_invite = VolunteerInvite.__table__  # type: ignore[attr-defined]


def create_invite(engine: Engine, org: str, days: int = 30) -> str:
    """Store a new invite code for `org`, valid for `days`; return the code (shown once)."""
    org = org.strip()
    if not org:
        raise ValueError("the organisation's name is empty")
    code = f"{INVITE_PREFIX}-{new_code(8)}"
    now = utcnow()
    with engine.begin() as connection:
        connection.execute(
            sa.insert(_invite).values(
                org=storable_text(org, 120),
                code_hash=invite_hash(code),
                created_at=now,
                expires_at=now + dt.timedelta(days=days),
            )
        )
    return code


def find_invite(engine: Engine, code: str) -> InviteRecord | None:
    """The organisation of a valid (known, unexpired, unrevoked) invite code."""
    now = utcnow()
    with engine.connect() as connection:
        row = connection.execute(
            sa.select(_invite.c.id, _invite.c.org).where(
                _invite.c.code_hash == invite_hash(code),
                _invite.c.revoked_at.is_(None),
                sa.or_(_invite.c.expires_at.is_(None), _invite.c.expires_at > now),
            )
        ).first()
    return InviteRecord(row.id, row.org) if row else None


def load_volunteer(connection: Connection, learner_id: int) -> VolunteerInfo | None:
    """The learner's volunteer record, if they joined as one."""
    row = connection.execute(
        sa.select(_volunteer.c.org, _volunteer.c.referral_code).where(
            _volunteer.c.learner_id == learner_id
        )
    ).first()
    return VolunteerInfo(row.org, row.referral_code) if row else None


def residents_of(engine: Engine, volunteer_id: int) -> list[ResidentSummary]:
    """The residents whose profiles this volunteer created, newest first, with progress."""
    with engine.connect() as connection:
        rows = connection.execute(
            sa.select(_learner.c.id, _learner.c.chat_id, _learner.c.nickname)
            .where(
                _learner.c.assisted_by == volunteer_id,
                _learner.c.channel == ASSISTED_CHANNEL,
            )
            .order_by(_learner.c.id.desc())
        ).all()
        summaries = []
        for row in rows:
            completed = connection.execute(
                sa.select(sa.func.count(sa.distinct(_event.c.lesson_id))).where(
                    _event.c.learner_id == row.id, _event.c.kind == "quiz_passed"
                )
            ).scalar_one()
            last = connection.execute(
                sa.select(sa.func.max(_event.c.created_at)).where(_event.c.learner_id == row.id)
            ).scalar_one()
            if isinstance(last, dt.datetime) and last.tzinfo is None:
                last = last.replace(tzinfo=dt.UTC)
            checks = connection.execute(
                sa.select(_check.c.check_id).where(_check.c.learner_id == row.id)
            ).scalars()
            summaries.append(
                ResidentSummary(
                    row.id, row.chat_id, row.nickname or "", completed, last, frozenset(checks)
                )
            )
    return summaries


def write_volunteer_changes(
    connection: Connection, learner_id: int, changes: Changes, now: dt.datetime
) -> None:
    """Write a step's volunteer changes inside its transaction."""
    if changes.volunteer_join is not None:
        exists = connection.execute(
            sa.select(_volunteer.c.learner_id).where(_volunteer.c.learner_id == learner_id)
        ).first()
        if exists is None:
            connection.execute(
                sa.insert(_volunteer).values(
                    learner_id=learner_id,
                    org=changes.volunteer_join.org,
                    invite_id=changes.volunteer_join.invite_id,
                    referral_code=_free_referral_code(connection),
                    joined_at=now,
                )
            )
    if changes.assisted_new is not None:
        _create_resident(connection, learner_id, changes, now)
    for signoff in changes.check_signoffs:
        # Only for a resident this volunteer created: a forged id signs nothing off.
        owned = connection.execute(
            sa.select(_learner.c.id).where(
                _learner.c.id == signoff.learner_id, _learner.c.assisted_by == learner_id
            )
        ).first()
        if owned is None:
            continue
        done = connection.execute(
            sa.select(_check.c.id).where(
                _check.c.learner_id == signoff.learner_id, _check.c.check_id == signoff.check_id
            )
        ).first()
        if done is None:
            connection.execute(
                sa.insert(_check).values(
                    learner_id=signoff.learner_id,
                    check_id=signoff.check_id,
                    signed_by=learner_id,
                    confirmed_on=signoff.confirmed_on,
                    signed_at=now,
                )
            )


def _free_referral_code(connection: Connection) -> str:
    while True:
        code = new_code(6)
        taken = connection.execute(
            sa.select(_volunteer.c.learner_id).where(_volunteer.c.referral_code == code)
        ).first()
        if taken is None:
            return code


def _create_resident(
    connection: Connection, volunteer_id: int, changes: Changes, now: dt.datetime
) -> None:
    new = changes.assisted_new
    assert new is not None
    values: dict[str, Any] = {
        "channel": ASSISTED_CHANNEL,
        "chat_id": new.token,
        "target_group": new.profile.target_group,
        "hamlet_id": new.profile.hamlet_id,
        "birth_year": new.profile.birth_year,
        "assisted_by": volunteer_id,
        "nickname": storable_text(new.nickname, 40),
        "created_at": now,
    }
    inserted = connection.execute(sa.insert(_learner).values(**values))
    primary_key = inserted.inserted_primary_key
    assert primary_key is not None
    resident_id = primary_key[0]
    # Consent given in person: the method says so, the resident row names the volunteer.
    connection.execute(
        sa.insert(_consent).values(
            learner_id=resident_id,
            version=new.consent_version,
            method="in_person",
            given_at=now,
        )
    )
    connection.execute(
        sa.insert(_conversation).values(
            learner_id=resident_id, state=new.state, data=plain_data({}), version=1, updated_at=now
        )
    )
