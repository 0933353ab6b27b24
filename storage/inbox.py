"""The inbox: raw platform updates, stored before anything else and processed at least once.

A webhook (or the long-polling loop) calls `add` first and only then answers the platform, so
a crash loses nothing and a redelivered update is recognised by the platform's own id. Workers
`claim_due` a batch, which leases it (no other worker or process takes it until the lease
ends), then report each item `done` or `failed`. An item whose worker crashed comes back when
its lease ends. Exactly-once effects are the repository's job (`applied_update`): the inbox
only promises that every update is handed out until someone reports it done or it dies.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel

from storage.models import (
    INBOX_STATUSES,
    LAST_ERROR_MAX,
    InboxUpdate,
    dump_json,
    insert_ignoring_duplicates,
    storable_text,
    utcnow,
)

_inbox = SQLModel.metadata.tables[str(InboxUpdate.__tablename__)]

PENDING = "pending"
DONE = "done"
DEAD = "dead"


@dataclass(frozen=True, slots=True)
class InboxItem:
    """One claimed update: its row id, where it came from, the raw update, failures so far."""

    id: int
    channel: str
    update_key: str
    payload: dict[str, Any]
    attempts: int


def encode_payload(payload: Mapping[str, Any]) -> str:
    """Serialise an update to JSON text that every backend can store (no NUL, valid UTF-8)."""
    # Readable Vietnamese in the table when possible; json.dumps always escapes NUL as \u0000,
    # but writes a lone surrogate (possible in JSON input) raw, which UTF-8 cannot encode, so
    # such an update falls back to all-ASCII escapes.
    text = dump_json(payload, ensure_ascii=False)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = dump_json(payload)
    if "\x00" in text:  # pragma: no cover - json.dumps escapes every control character
        raise ValueError("JSON text with NUL cannot be stored")
    return text


def _decode_payload(text: str) -> dict[str, Any]:
    payload = json.loads(text)
    if not isinstance(payload, dict):
        raise ValueError(f"inbox payload is not a JSON object: {type(payload).__name__}")
    return payload


class SqlInbox:
    """The inbox on a SQLAlchemy engine (SQLite or PostgreSQL), safe across processes."""

    def __init__(self, engine: Engine) -> None:
        """Use an engine made by `storage.db.make_engine` and already migrated."""
        self.engine = engine

    def add(self, channel: str, update_key: str, payload: Mapping[str, Any]) -> bool:
        """Store an update; False (and nothing stored) if this one was stored before."""
        return self._insert(channel, update_key, payload, lease_seconds=0.0) is not None

    def add_claimed(
        self, channel: str, update_key: str, payload: Mapping[str, Any], lease_seconds: float
    ) -> InboxItem | None:
        """Store an update already leased to the caller, who processes it at once.

        None (and nothing stored) if it was stored before. Should the caller die before it
        reports the item done, the item comes back to any worker when the lease ends, like a
        claimed one.
        """
        item_id = self._insert(channel, update_key, payload, lease_seconds=lease_seconds)
        if item_id is None:
            return None
        return InboxItem(item_id, channel, update_key, dict(payload), attempts=0)

    def _insert(
        self, channel: str, update_key: str, payload: Mapping[str, Any], *, lease_seconds: float
    ) -> int | None:
        text = encode_payload(payload)
        now = utcnow()
        with self.engine.begin() as connection:
            # ON CONFLICT DO NOTHING: a concurrent delivery of the same update (another
            # process, say) is waited for and then answered None, never with an error.
            inserted = connection.execute(
                insert_ignoring_duplicates(connection.dialect, _inbox, ("channel", "update_key"))
                .values(
                    channel=channel,
                    update_key=update_key,
                    payload=text,
                    status=PENDING,
                    attempts=0,
                    next_attempt_at=now + timedelta(seconds=lease_seconds),
                    received_at=now,
                )
                .returning(_inbox.c.id)
            ).first()
        return None if inserted is None else int(inserted.id)

    def claim_due(
        self, limit: int = 20, lease_seconds: float = 60.0, channel: str | None = None
    ) -> list[InboxItem]:
        """Lease up to `limit` due pending items, oldest first, for `lease_seconds`."""
        if limit <= 0:
            return []
        now = utcnow()
        due = (
            sa.select(_inbox.c.id)
            .where(_inbox.c.status == PENDING, _inbox.c.next_attempt_at <= now)
            .order_by(_inbox.c.id)
            .limit(limit)
            # PostgreSQL: rows another worker is claiming right now are skipped, not waited
            # for, and a row it has just leased is re-checked and dropped. SQLite renders no
            # FOR UPDATE; its single writer makes this one UPDATE atomic anyway.
            .with_for_update(skip_locked=True)
        )
        if channel is not None:
            due = due.where(_inbox.c.channel == channel)
        statement = (
            sa.update(_inbox)
            .where(_inbox.c.id.in_(due.scalar_subquery()))
            .values(next_attempt_at=now + timedelta(seconds=lease_seconds))
            .returning(
                _inbox.c.id,
                _inbox.c.channel,
                _inbox.c.update_key,
                _inbox.c.payload,
                _inbox.c.attempts,
            )
        )
        with self.engine.begin() as connection:
            rows = connection.execute(statement).all()
        # RETURNING promises no order.
        return [
            InboxItem(
                id=row.id,
                channel=row.channel,
                update_key=row.update_key,
                payload=_decode_payload(row.payload),
                attempts=row.attempts,
            )
            for row in sorted(rows, key=lambda row: int(row.id))
        ]

    def done(self, item_id: int) -> None:
        """Mark an item processed; it is never handed out again, and its payload is blanked.

        The raw update holds the sender's name and words; once its step is written only the
        (channel, update_key) pair is needed, to recognise a redelivery.
        """
        self.done_many([item_id])

    def done_many(self, item_ids: Sequence[int]) -> None:
        """Mark several items processed in one transaction (see `done`)."""
        if not item_ids:
            return
        with self.engine.begin() as connection:
            connection.execute(
                sa.update(_inbox)
                .where(_inbox.c.id.in_(list(item_ids)), _inbox.c.status != DONE)
                .values(status=DONE, processed_at=utcnow(), payload="{}")
            )

    def failed(self, item_id: int, error: str, retry_in: float, max_attempts: int = 8) -> None:
        """Count a failed attempt: retry after `retry_in` seconds, or dead at `max_attempts`."""
        now = utcnow()
        attempts = _inbox.c.attempts + 1
        gives_up = attempts >= max_attempts
        with self.engine.begin() as connection:
            # Only a pending item: a late report from a worker whose lease ran out must not
            # bring back an item another worker has finished meanwhile.
            connection.execute(
                sa.update(_inbox)
                .where(_inbox.c.id == item_id, _inbox.c.status == PENDING)
                .values(
                    attempts=attempts,
                    last_error=storable_text(error, LAST_ERROR_MAX),
                    next_attempt_at=now + timedelta(seconds=retry_in),
                    status=sa.case((gives_up, DEAD), else_=PENDING),
                    processed_at=sa.case(
                        (gives_up, sa.literal(now, _inbox.c.processed_at.type)), else_=sa.null()
                    ),
                )
            )

    def counts(self) -> dict[str, int]:
        """Return how many items are in each status (every status present, zero if none)."""
        with self.engine.connect() as connection:
            rows = connection.execute(
                sa.select(_inbox.c.status, sa.func.count()).group_by(_inbox.c.status)
            ).all()
        return dict.fromkeys(INBOX_STATUSES, 0) | {status: count for status, count in rows}

    def purge_done(self, older_than: timedelta) -> int:
        """Delete items processed more than `older_than` ago; return how many went."""
        with self.engine.begin() as connection:
            deleted = connection.execute(
                sa.delete(_inbox).where(
                    _inbox.c.status == DONE, _inbox.c.processed_at < utcnow() - older_than
                )
            )
        return deleted.rowcount

    def next_due_in(self) -> float | None:
        """Seconds until the earliest pending item is due (0 if overdue); None if none pending."""
        with self.engine.connect() as connection:
            earliest: datetime | None = connection.execute(
                sa.select(sa.func.min(_inbox.c.next_attempt_at)).where(_inbox.c.status == PENDING)
            ).scalar_one()
        if earliest is None:
            return None
        return max(0.0, (earliest - utcnow()).total_seconds())
