"""Officials' API tokens and the audit trail of their requests.

A token is shown once, when it is made; only its SHA-256 hash is stored, so a copy of the
database lets nobody call the API.
"""

from __future__ import annotations

import builtins
import hashlib
import secrets
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, cast

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel

from storage.models import (
    AUDIT_METHOD_MAX,
    AUDIT_PATH_MAX,
    OFFICIAL_NAME_MAX,
    OFFICIAL_ROLES,
    AuditLogEntry,
    Official,
    storable_text,
    utcnow,
)

Role = Literal["admin", "viewer", "hamlet"]

# Leaked tokens are easy to recognise (in a chat, a paste, a secret scanner) by this prefix.
TOKEN_PREFIX = "hv_"
# token_urlsafe(32) gives 43 characters; anything much longer is not one of ours, and is
# refused before it is hashed.
_TOKEN_MAX = 128
AUDIT_LIMIT_MAX = 1000

_officials = SQLModel.metadata.tables[str(Official.__tablename__)]
_audit_log = SQLModel.metadata.tables[str(AuditLogEntry.__tablename__)]


@dataclass(frozen=True)
class OfficialRecord:
    """An official as the API sees them; never carries the token or its hash."""

    id: int
    name: str
    role: Role
    hamlet_id: str | None
    created_at: datetime
    revoked_at: datetime | None = None

    @property
    def revoked(self) -> bool:
        """Whether the token was revoked."""
        return self.revoked_at is not None


@dataclass(frozen=True)
class AuditRecord:
    """One audited API request."""

    id: int
    at: datetime
    official_id: int | None
    official_name: str | None
    role: Role | None
    method: str
    path: str
    status: int


def hash_token(token: str) -> str:
    """The SHA-256 hex digest under which a token is stored."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_token() -> str:
    """A fresh token: the prefix and 32 random bytes, URL-safe."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def normalise_name(name: str) -> str:
    """An official's name as stored: NFC, single spaces, no surrounding blanks."""
    return " ".join(unicodedata.normalize("NFC", name).split())


def check_role(role: str, hamlet_id: str | None) -> Role:
    """Return `role` if it is known and fits `hamlet_id`; raise ValueError saying why not."""
    if role not in OFFICIAL_ROLES:
        raise ValueError(f"role must be one of {', '.join(OFFICIAL_ROLES)}, not {role!r}")
    if role == "hamlet" and not hamlet_id:
        raise ValueError("role 'hamlet' needs a hamlet id")
    if role != "hamlet" and hamlet_id is not None:
        raise ValueError(f"role {role!r} reads every hamlet and takes no hamlet id")
    return cast(Role, role)


def _role(value: str | None) -> Role | None:
    # Rows are written through check_role; an unknown value means someone edited the table.
    if value is None:
        return None
    if value not in OFFICIAL_ROLES:
        raise ValueError(f"unknown role {value!r} in the database")
    return cast(Role, value)


def _official(row: sa.Row[Any]) -> OfficialRecord:
    role = _role(row.role)
    assert role is not None  # the column is NOT NULL
    return OfficialRecord(
        id=row.id,
        name=row.name,
        role=role,
        hamlet_id=row.hamlet_id,
        created_at=row.created_at,
        revoked_at=row.revoked_at,
    )


def _audit(row: sa.Row[Any]) -> AuditRecord:
    return AuditRecord(
        id=row.id,
        at=row.at,
        official_id=row.official_id,
        official_name=row.official_name,
        role=_role(row.role),
        method=row.method,
        path=row.path,
        status=row.status,
    )


class OfficialStore:
    """Officials' tokens (hashes only) and the audit log, on SQLite or PostgreSQL."""

    def __init__(self, engine: Engine, now: Callable[[], datetime] = utcnow) -> None:
        """Use an engine made by `storage.db.make_engine` and already migrated."""
        self._engine = engine
        self._now = now

    def add(self, name: str, role: str, hamlet_id: str | None = None) -> tuple[OfficialRecord, str]:
        """Create an official; return them and their token, which is never stored or shown again."""
        clean = normalise_name(name)
        if not clean:
            raise ValueError("the name must not be empty")
        if len(clean) > OFFICIAL_NAME_MAX:
            raise ValueError(
                f"the name is {len(clean)} characters long; the limit is {OFFICIAL_NAME_MAX}"
            )
        checked = check_role(role, hamlet_id)
        token = new_token()
        # IMMEDIATE on SQLite so two concurrent `add`s cannot both pass the name check. On
        # PostgreSQL that race stays possible; officials are added by hand, one at a time.
        engine = self._engine.execution_options(sqlite_immediate=True)
        with engine.begin() as connection:
            taken = connection.execute(
                sa.select(_officials.c.id).where(
                    _officials.c.name == clean, _officials.c.revoked_at.is_(None)
                )
            ).first()
            if taken is not None:
                raise ValueError(
                    f"an official named {clean!r} already has a token; revoke it first"
                )
            row = connection.execute(
                sa.insert(_officials)
                .values(
                    name=clean,
                    role=checked,
                    hamlet_id=hamlet_id,
                    token_hash=hash_token(token),
                    created_at=self._now(),
                    revoked_at=None,
                )
                .returning(*_officials.c)
            ).one()
        return _official(row), token

    def revoke(self, name: str) -> int:
        """Revoke the token of the official with this name; return how many were revoked."""
        with self._engine.begin() as connection:
            result = connection.execute(
                sa.update(_officials)
                .where(
                    _officials.c.name == normalise_name(name),
                    _officials.c.revoked_at.is_(None),
                )
                .values(revoked_at=self._now())
            )
        return result.rowcount

    def authenticate(self, token: str) -> OfficialRecord | None:
        """The official holding this token, or None if it is unknown or revoked."""
        if not token.startswith(TOKEN_PREFIX) or len(token) > _TOKEN_MAX:
            return None
        # Looked up by hash: response times can only tell an attacker about the hash, and
        # finding a token for a given hash is infeasible, so no constant-time compare is needed.
        with self._engine.connect() as connection:
            row = connection.execute(
                sa.select(_officials).where(
                    _officials.c.token_hash == hash_token(token),
                    _officials.c.revoked_at.is_(None),
                )
            ).first()
        return None if row is None else _official(row)

    def list(self) -> builtins.list[OfficialRecord]:
        """Every official, revoked ones included, oldest first."""
        with self._engine.connect() as connection:
            rows = connection.execute(sa.select(_officials).order_by(_officials.c.id)).all()
        return [_official(row) for row in rows]

    def record(
        self,
        official: OfficialRecord | None,
        method: str,
        path: str,
        status: int,
        *,
        at: datetime | None = None,
    ) -> None:
        """Add an entry to the audit log (`official` None: the caller was not authenticated)."""
        with self._engine.begin() as connection:
            connection.execute(
                sa.insert(_audit_log).values(
                    official_id=None if official is None else official.id,
                    official_name=None if official is None else official.name,
                    role=None if official is None else official.role,
                    method=storable_text(method, AUDIT_METHOD_MAX),
                    path=storable_text(path, AUDIT_PATH_MAX),
                    status=status,
                    at=self._now() if at is None else at,
                )
            )

    def audit(self, limit: int = 100) -> builtins.list[AuditRecord]:
        """The newest `limit` audit entries, newest first."""
        if not 1 <= limit <= AUDIT_LIMIT_MAX:
            raise ValueError(f"limit must be between 1 and {AUDIT_LIMIT_MAX}")
        with self._engine.connect() as connection:
            rows = connection.execute(
                sa.select(_audit_log)
                .order_by(_audit_log.c.at.desc(), _audit_log.c.id.desc())
                .limit(limit)
            ).all()
        return [_audit(row) for row in rows]
