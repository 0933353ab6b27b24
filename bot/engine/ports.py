"""The engine's only view of storage: a small repository protocol.

Implementations: `storage.memory.MemoryRepository` (tests) and `storage.repository.SqlRepository`
(SQLite and PostgreSQL). The same contract tests run against all of them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from storage.records import Changes, Consent, LearnerKey, LearnerSnapshot


class Repository(Protocol):
    """Loads a learner's snapshot and applies a step's changes with optimistic locking."""

    def load(self, key: LearnerKey) -> LearnerSnapshot | None:
        """Return the learner's snapshot, or None when this chat has never consented."""
        ...

    def enrol(
        self, key: LearnerKey, consent: Consent, state: str, data: Mapping[str, Any]
    ) -> LearnerSnapshot | None:
        """Create the learner, their consent and conversation in one transaction.

        Returns None when the learner already exists (another worker enrolled them first).
        """
        ...

    def apply(self, learner_id: int, expected_version: int, changes: Changes) -> bool:
        """Write a step atomically if the conversation is still at `expected_version`.

        Returns False, writing nothing, when another worker has moved the conversation on.
        """
        ...

    def delete_learner(self, learner_id: int) -> None:
        """Erase the learner and everything stored about them."""
        ...
