"""Certificates for completing a core path: issued with the step, checked by code, withdrawn.

Issuing happens inside `SqlRepository.apply`, in the transaction of the step that completes
the core path (`issue_certificate`). Anyone holding a code can check it (`find_certificate`);
deleting a learner's data withdraws their certificate (`withdraw_certificates`): the row
stays, so the code answers "withdrawn" rather than "unknown", but nothing links it to the
learner any more.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlmodel import SQLModel

from storage.certcode import ALPHABET, CODE_LENGTH, display_code, new_code, normalise_code
from storage.models import Certificate, insert_ignoring_duplicates, storable_text, utcnow
from storage.records import CertificateIssue

__all__ = [
    "ALPHABET",
    "CODE_LENGTH",
    "CertificateRecord",
    "certificate_code_of",
    "display_code",
    "find_certificate",
    "issue_certificate",
    "new_code",
    "normalise_code",
    "withdraw_certificates",
]

INITIALS_MAX = 12
_certificate = SQLModel.metadata.tables[str(Certificate.__tablename__)]


@dataclass(frozen=True, slots=True)
class CertificateRecord:
    """A certificate as anyone checking its code may see it: never a learner id or chat."""

    code: str
    initials: str | None
    hamlet_id: str | None
    target_group: str
    issued_on: dt.date
    lessons: tuple[str, ...]
    withdrawn_at: dt.datetime | None = None

    @property
    def valid(self) -> bool:
        """Whether the certificate still stands (not withdrawn)."""
        return self.withdrawn_at is None


def certificate_code_of(connection: Connection, learner_id: int) -> str | None:
    """The code of the learner's certificate, or None when they have none."""
    return connection.execute(
        sa.select(_certificate.c.code)
        .where(_certificate.c.learner_id == learner_id)
        .order_by(_certificate.c.issued_on, _certificate.c.code)
        .limit(1)
    ).scalar_one_or_none()


def issue_certificate(connection: Connection, learner_id: int, issue: CertificateIssue) -> bool:
    """Insert the certificate in the caller's transaction; False if the learner or code has one."""
    # On False the caller rolls the step back and the engine decides again from a fresh read.
    if certificate_code_of(connection, learner_id) is not None:
        return False
    code = normalise_code(issue.code)
    if code is None:
        raise ValueError(f"not a certificate code: {issue.code!r}")
    initials = None if issue.initials is None else storable_text(issue.initials, INITIALS_MAX)
    statement = (
        insert_ignoring_duplicates(connection.dialect, _certificate, ("code",))
        .values(
            code=code,
            learner_id=learner_id,
            initials=initials or None,
            hamlet_id=issue.hamlet_id,
            target_group=issue.target_group,
            issued_on=issue.issued_on,
            lessons=list(issue.lessons),
        )
        .returning(_certificate.c.code)
    )
    return connection.execute(statement).first() is not None


def find_certificate(engine: Engine, typed_code: str) -> CertificateRecord | None:
    """The certificate with this code (any case, spaces or dashes), withdrawn or not."""
    code = normalise_code(typed_code)
    if code is None:
        return None
    with engine.connect() as connection:
        row = connection.execute(
            sa.select(
                _certificate.c.code,
                _certificate.c.initials,
                _certificate.c.hamlet_id,
                _certificate.c.target_group,
                _certificate.c.issued_on,
                _certificate.c.lessons,
                _certificate.c.withdrawn_at,
            ).where(_certificate.c.code == code)
        ).one_or_none()
    if row is None:
        return None
    return CertificateRecord(
        code=row.code,
        initials=row.initials,
        hamlet_id=row.hamlet_id,
        target_group=row.target_group,
        issued_on=row.issued_on,
        lessons=tuple(str(lesson) for lesson in row.lessons or ()),
        withdrawn_at=row.withdrawn_at,
    )


def withdraw_certificates(
    connection: Connection, learner_id: int, now: dt.datetime | None = None
) -> int:
    """Withdraw the learner's certificates and unlink them; return how many were withdrawn."""
    result = connection.execute(
        sa.update(_certificate)
        .where(_certificate.c.learner_id == learner_id)
        .values(learner_id=None, initials=None, withdrawn_at=now or utcnow())
    )
    return result.rowcount
