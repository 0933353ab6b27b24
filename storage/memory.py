"""An in-process repository with the same contract as the SQL one, for fast engine tests."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from storage.models import (
    CONSENT_METHODS,
    clean_raw_text,
    clean_start_payload,
    plain_data,
    utcnow,
)
from storage.records import (
    AskedQuestion,
    Changes,
    Consent,
    EventKind,
    LearnerKey,
    LearnerSnapshot,
    Profile,
    ProgressEvent,
    QuizAnswer,
)


@dataclass
class _Learner:
    key: LearnerKey
    profile: Profile
    state: str
    data: dict[str, Any]
    version: int
    created_at: datetime
    start_payload: str | None = None
    consents: list[Consent] = field(default_factory=list)
    events: list[ProgressEvent] = field(default_factory=list)
    answers: list[QuizAnswer] = field(default_factory=list)


class MemoryRepository:
    """`bot.engine.ports.Repository` kept in a dict; thread-safe, data lost on exit."""

    def __init__(self) -> None:
        """Start empty."""
        self._lock = threading.Lock()
        self._learners: dict[int, _Learner] = {}
        self._ids: dict[LearnerKey, int] = {}
        # Ids are never reused, as on the SQL backends, so a stale step cannot hit a newcomer.
        self._next_id = 1
        # (channel, update id) -> the learner whose step answered it.
        self._applied: dict[tuple[str, str], int] = {}
        self.questions: list[AskedQuestion] = []

    def load(self, key: LearnerKey) -> LearnerSnapshot | None:
        """Return the learner's snapshot, or None when this chat has never consented."""
        with self._lock:
            learner_id = self._ids.get(key)
            if learner_id is None:
                return None
            return self._snapshot(learner_id, self._learners[learner_id])

    def enrol(
        self,
        key: LearnerKey,
        consent: Consent,
        state: str,
        data: Mapping[str, Any],
        *,
        update_id: str | None = None,
        start_payload: str | None = None,
    ) -> LearnerSnapshot | None:
        """Create the learner, consent and conversation; None if the chat or update exists."""
        if consent.method not in CONSENT_METHODS:
            raise ValueError(f"unknown consent method: {consent.method!r}")
        stored = plain_data(data)
        with self._lock:
            if key in self._ids:
                return None
            if update_id is not None and (key.channel, update_id) in self._applied:
                return None
            learner_id = self._next_id
            self._next_id += 1
            learner = _Learner(
                key=key,
                profile=Profile(),
                state=state,
                data=stored,
                version=1,
                created_at=utcnow(),
                start_payload=clean_start_payload(start_payload),
                consents=[consent],
            )
            self._learners[learner_id] = learner
            self._ids[key] = learner_id
            if update_id is not None:
                self._applied[(key.channel, update_id)] = learner_id
            return self._snapshot(learner_id, learner)

    def apply(self, learner_id: int, expected_version: int, changes: Changes) -> bool:
        """Write a step atomically if the conversation is still at `expected_version`."""
        stored = plain_data(changes.data)
        events = [replace(event, kind=EventKind(event.kind)) for event in changes.events]
        answers = [
            replace(answer, raw_text=clean_raw_text(answer.raw_text)) for answer in changes.answers
        ]
        with self._lock:
            learner = self._learners.get(learner_id)
            if learner is None or learner.version != expected_version:
                return False
            update = None if changes.update_id is None else (learner.key.channel, changes.update_id)
            if update is not None:
                if update in self._applied:
                    return False
                self._applied[update] = learner_id
            learner.state = changes.state
            learner.data = stored
            learner.version += 1
            if changes.profile is not None:
                learner.profile = changes.profile
            if changes.start_payload is not None:
                learner.start_payload = clean_start_payload(changes.start_payload)
            learner.events.extend(events)
            learner.answers.extend(answers)
            if changes.asked is not None:
                # Anonymous on purpose: kept apart from the learner, survives their deletion.
                self.questions.append(changes.asked)
            return True

    def is_applied(self, key: LearnerKey, update_id: str) -> bool:
        """Whether a step answering this platform update (on this key's channel) was written."""
        with self._lock:
            return (key.channel, update_id) in self._applied

    def delete_learner(self, learner_id: int) -> None:
        """Erase the learner and everything stored about them."""
        with self._lock:
            learner = self._learners.pop(learner_id, None)
            if learner is not None:
                del self._ids[learner.key]
            self._applied = {
                update: owner for update, owner in self._applied.items() if owner != learner_id
            }

    def events(self, learner_id: int) -> list[ProgressEvent]:
        """Return the learner's progress events in order (for tests)."""
        with self._lock:
            learner = self._learners.get(learner_id)
            return list(learner.events) if learner else []

    def answers(self, learner_id: int) -> list[QuizAnswer]:
        """Return the learner's quiz answers in order, as stored (for tests)."""
        with self._lock:
            learner = self._learners.get(learner_id)
            return list(learner.answers) if learner else []

    def consents(self, learner_id: int) -> list[Consent]:
        """Return the learner's consents (for tests)."""
        with self._lock:
            learner = self._learners.get(learner_id)
            return list(learner.consents) if learner else []

    @staticmethod
    def _snapshot(learner_id: int, learner: _Learner) -> LearnerSnapshot:
        completed = frozenset(
            event.lesson_id for event in learner.events if event.kind is EventKind.QUIZ_PASSED
        )
        attempts: dict[str, int] = {}
        for event in learner.events:
            if event.kind is EventKind.QUIZ_STARTED:
                attempts[event.lesson_id] = attempts.get(event.lesson_id, 0) + 1
        return LearnerSnapshot(
            learner_id=learner_id,
            key=learner.key,
            profile=learner.profile,
            state=learner.state,
            # A copy, so a caller mutating the snapshot's data cannot change what is stored.
            data=plain_data(learner.data),
            version=learner.version,
            completed_lessons=completed,
            quiz_attempts=attempts,
            start_payload=learner.start_payload,
        )
