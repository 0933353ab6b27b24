"""The engine's only view of storage: a small repository protocol.

Implementations: `storage.memory.MemoryRepository` (tests) and `storage.repository.SqlRepository`
(SQLite and PostgreSQL). The same contract tests run against all of them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from storage.records import (
    Changes,
    Consent,
    LearnerKey,
    LearnerSnapshot,
    ResidentSummary,
    VolunteerInvite,
)


class Repository(Protocol):
    """Loads a learner's snapshot and applies a step's changes with optimistic locking."""

    def load(self, key: LearnerKey, update_id: str | None = None) -> LearnerSnapshot | None:
        """Return the learner's snapshot, or None when this chat has never consented.

        With `update_id`, `update_applied` says whether a step answering it was written.
        """
        ...

    def enrol(
        self,
        key: LearnerKey,
        consent: Consent,
        state: str,
        data: Mapping[str, Any],
        *,
        update_id: str | None = None,
        start_payload: str | None = None,
        referred_by: int | None = None,
    ) -> LearnerSnapshot | None:
        """Create the learner, their consent and conversation in one transaction.

        Records `update_id` as applied and `start_payload` on the learner in that transaction,
        and `referred_by` if that learner is (still) a volunteer.
        Returns None when the learner already exists (another worker enrolled them first) or
        the update was already applied.
        """
        ...

    def apply(self, learner_id: int, expected_version: int, changes: Changes) -> bool:
        """Write a step atomically if the conversation is still at `expected_version`.

        Also records `changes.update_id` (if any) as applied, in the same transaction.
        Returns False, writing nothing, when another worker has moved the conversation on or
        that update was already applied.
        """
        ...

    def is_applied(self, key: LearnerKey, update_id: str) -> bool:
        """Whether a step answering this platform update (on this key's channel) was written."""
        ...

    def find_referrer(self, code: str) -> int | None:
        """The learner id of the volunteer whose referral code this is (any case), or None."""
        ...

    def find_invite(self, code: str) -> VolunteerInvite | None:
        """The organisation of a valid volunteer invite code, or None."""
        ...

    def residents_of(self, volunteer_id: int) -> list[ResidentSummary]:
        """The residents whose profiles this volunteer created, with their progress."""
        ...

    def delete_learner(self, learner_id: int) -> None:
        """Erase the learner and everything stored about them."""
        ...
