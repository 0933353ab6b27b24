"""An in-process repository with the same contract as the SQL one, for fast engine tests."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from storage.certificates import INITIALS_MAX, CertificateRecord, normalise_code
from storage.codes import ASSISTED_CHANNEL, new_code
from storage.deidentify import DELETED_CHANNEL, anonymous_chat_id
from storage.models import (
    CONSENT_METHODS,
    clean_raw_text,
    clean_start_payload,
    plain_data,
    utcnow,
)
from storage.records import (
    AskedQuestion,
    CertificateIssue,
    Changes,
    Consent,
    EventKind,
    LearnerKey,
    LearnerSnapshot,
    Profile,
    ProgressEvent,
    QuizAnswer,
    ResidentSummary,
    Review,
    VolunteerInfo,
    VolunteerInvite,
    ordered,
    replay,
)
from storage.referrals import normalise_referral_code
from storage.reviews import checked_changes


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
    reviews: dict[tuple[str, str], Review] = field(default_factory=dict)
    # Volunteers: the learner's own volunteer record, or who assisted them and as whom.
    volunteer: VolunteerInfo | None = None
    assisted_by: int | None = None
    nickname: str | None = None
    helpers: list[int | None] = field(default_factory=list)  # per event, the helper
    checks: dict[str, tuple[int, dt.date | None]] = field(default_factory=dict)
    certificate_code: str | None = None
    reminder_at: datetime | None = None
    referred_by: int | None = None


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
        # Deleted learners, de-identified: out of reach of load and apply, kept for counting.
        self._deidentified: dict[int, _Learner] = {}
        self._invites: dict[str, VolunteerInvite] = {}
        # code -> certificate; withdrawn ones stay, unlinked, as in the SQL table.
        self._certificates: dict[str, CertificateRecord] = {}

    def load(self, key: LearnerKey, update_id: str | None = None) -> LearnerSnapshot | None:
        """Return the learner's snapshot, or None when this chat has never consented."""
        with self._lock:
            learner_id = self._ids.get(key)
            if learner_id is None:
                return None
            snapshot = self._snapshot(learner_id, self._learners[learner_id])
            if update_id is not None and (key.channel, update_id) in self._applied:
                snapshot = replace(snapshot, update_applied=True)
            return snapshot

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
            if referred_by is not None:
                self._refer(learner_id, learner, referred_by)
            return self._snapshot(learner_id, learner)

    def apply(self, learner_id: int, expected_version: int, changes: Changes) -> bool:
        """Write a step atomically if the conversation is still at `expected_version`."""
        stored = plain_data(changes.data)
        events = [replace(event, kind=EventKind(event.kind)) for event in changes.events]
        answers = [
            replace(answer, raw_text=clean_raw_text(answer.raw_text)) for answer in changes.answers
        ]
        reviews = checked_changes(changes.reviews)
        reminder_at = _reminder_time(changes)
        with self._lock:
            learner = self._learners.get(learner_id)
            if learner is None or learner.version != expected_version:
                return False
            if changes.certificate is not None and not self._can_issue(
                learner, changes.certificate
            ):
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
            if changes.reminder is not None:
                learner.reminder_at = reminder_at
            learner.events.extend(events)
            learner.helpers.extend(changes.helper_id for _ in events)
            learner.answers.extend(answers)
            replay(learner.reviews, reviews)
            self._apply_volunteer_changes(learner_id, learner, changes)
            if changes.referred_by is not None:
                self._refer(learner_id, learner, changes.referred_by)
            if changes.certificate is not None:
                self._issue(learner, changes.certificate)
            if changes.asked is not None:
                # Anonymous on purpose: kept apart from the learner, survives their deletion.
                self.questions.append(changes.asked)
            return True

    def find_referrer(self, code: str) -> int | None:
        """The learner id of the volunteer whose referral code this is (any case), or None."""
        wanted = normalise_referral_code(code)
        with self._lock:
            return next(
                (
                    learner_id
                    for learner_id, learner in self._learners.items()
                    if learner.volunteer is not None and learner.volunteer.referral_code == wanted
                ),
                None,
            )

    def add_volunteer(
        self, learner_id: int, referral_code: str, org: str = "Đoàn Thanh niên"
    ) -> None:
        """Make a learner a volunteer with this referral code (tests)."""
        with self._lock:
            self._learners[learner_id].volunteer = VolunteerInfo(org, referral_code)

    def _refer(self, learner_id: int, learner: _Learner, referrer_id: int) -> None:
        """As `storage.referrals.write_referral`: first referral wins, never oneself."""
        referrer = self._learners.get(referrer_id)
        if (
            learner.referred_by is None
            and referrer_id != learner_id
            and referrer is not None
            and referrer.volunteer is not None
        ):
            learner.referred_by = referrer_id

    def add_invite(self, code: str, org: str) -> None:
        """Make an invite code valid (tests; the SQL store is `storage.volunteers`)."""
        with self._lock:
            self._invites[code] = VolunteerInvite(len(self._invites) + 1, org)

    def find_invite(self, code: str) -> VolunteerInvite | None:
        """The organisation of a valid volunteer invite code."""
        with self._lock:
            return self._invites.get(code)

    def residents_of(self, volunteer_id: int) -> list[ResidentSummary]:
        """The residents whose profiles this volunteer created, newest first."""
        with self._lock:
            return [
                ResidentSummary(
                    learner_id,
                    learner.key.chat_id,
                    learner.nickname or "",
                    len({e.lesson_id for e in learner.events if e.kind is EventKind.QUIZ_PASSED}),
                    learner.created_at if learner.events else None,
                    frozenset(learner.checks),
                )
                for learner_id, learner in sorted(self._learners.items(), reverse=True)
                if learner.assisted_by == volunteer_id
            ]

    def helpers(self, learner_id: int) -> list[int | None]:
        """The helper of each of the learner's events, in order (for tests)."""
        with self._lock:
            learner = self._learners.get(learner_id)
            return list(learner.helpers) if learner else []

    def checks(self, learner_id: int) -> dict[str, tuple[int, dt.date | None]]:
        """The learner's signed-off checks: check id -> (volunteer id, confirmed on)."""
        with self._lock:
            learner = self._learners.get(learner_id)
            return dict(learner.checks) if learner else {}

    def _apply_volunteer_changes(
        self, learner_id: int, learner: _Learner, changes: Changes
    ) -> None:
        if changes.volunteer_join is not None and learner.volunteer is None:
            taken = {v.volunteer.referral_code for v in self._learners.values() if v.volunteer}
            code = new_code(6)
            while code in taken:
                code = new_code(6)
            learner.volunteer = VolunteerInfo(changes.volunteer_join.org, code)
        new = changes.assisted_new
        if new is not None:
            key = LearnerKey(ASSISTED_CHANNEL, new.token)
            resident_id = self._next_id
            self._next_id += 1
            self._learners[resident_id] = _Learner(
                key=key,
                profile=new.profile,
                state=new.state,
                data={},
                version=1,
                created_at=utcnow(),
                consents=[Consent(new.consent_version, "in_person")],
                assisted_by=learner_id,
                nickname=new.nickname[:40],
            )
            self._ids[key] = resident_id
        for signoff in changes.check_signoffs:
            resident = self._learners.get(signoff.learner_id)
            if resident is None or resident.assisted_by != learner_id:
                continue
            resident.checks.setdefault(signoff.check_id, (learner_id, signoff.confirmed_on))

    def _can_issue(self, learner: _Learner, issue: CertificateIssue) -> bool:
        code = normalise_code(issue.code)
        if code is None:
            raise ValueError(f"not a certificate code: {issue.code!r}")
        return learner.certificate_code is None and code not in self._certificates

    def _issue(self, learner: _Learner, issue: CertificateIssue) -> None:
        code = normalise_code(issue.code)
        assert code is not None  # checked by _can_issue
        initials = (issue.initials or "")[:INITIALS_MAX] or None
        self._certificates[code] = CertificateRecord(
            code=code,
            initials=initials,
            hamlet_id=issue.hamlet_id,
            target_group=issue.target_group,
            issued_on=issue.issued_on,
            lessons=tuple(issue.lessons),
        )
        learner.certificate_code = code

    def certificate(self, code: str) -> CertificateRecord | None:
        """The certificate with this code (any case, spaces or dashes), withdrawn or not."""
        normalised = normalise_code(code)
        with self._lock:
            return None if normalised is None else self._certificates.get(normalised)

    def withdraw_certificate(self, learner_id: int) -> int:
        """Withdraw the learner's certificate and unlink it; return how many were withdrawn."""
        with self._lock:
            return self._withdraw(learner_id)

    def _withdraw(self, learner_id: int) -> int:
        learner = self._learners.get(learner_id)
        if learner is None or learner.certificate_code is None:
            return 0
        code, learner.certificate_code = learner.certificate_code, None
        self._certificates[code] = replace(
            self._certificates[code], initials=None, withdrawn_at=utcnow()
        )
        return 1

    def is_applied(self, key: LearnerKey, update_id: str) -> bool:
        """Whether a step answering this platform update (on this key's channel) was written."""
        with self._lock:
            return (key.channel, update_id) in self._applied

    def delete_learner(self, learner_id: int) -> None:
        """Erase the learner's personal data; the counts stay (de-identified), as in SQL."""
        # What goes and what stays is storage/deidentify.py's list; this mirrors it.
        with self._lock:
            self._withdraw(learner_id)
            learner = self._learners.pop(learner_id, None)
            if learner is not None:
                del self._ids[learner.key]
                self._deidentified[learner_id] = replace(
                    learner,
                    key=LearnerKey(DELETED_CHANNEL, anonymous_chat_id()),
                    profile=replace(learner.profile, birth_year=None),
                    state="",
                    data={},
                    start_payload=None,
                    nickname=None,
                    consents=[],
                    answers=[replace(answer, raw_text=None) for answer in learner.answers],
                    reviews={},
                    volunteer=None,
                    reminder_at=None,
                )
            self._applied = {
                update: owner for update, owner in self._applied.items() if owner != learner_id
            }

    def events(self, learner_id: int) -> list[ProgressEvent]:
        """Return the learner's progress events in order, deleted learners' too (for tests)."""
        with self._lock:
            learner = self._learners.get(learner_id) or self._deidentified.get(learner_id)
            return list(learner.events) if learner else []

    def answers(self, learner_id: int) -> list[QuizAnswer]:
        """Return the learner's quiz answers in order, as stored, deleted ones' too (for tests)."""
        with self._lock:
            learner = self._learners.get(learner_id) or self._deidentified.get(learner_id)
            return list(learner.answers) if learner else []

    def deidentified(self, learner_id: int) -> tuple[LearnerKey, Profile] | None:
        """The anonymous key and profile left by a deleted learner, or None (for tests)."""
        with self._lock:
            learner = self._deidentified.get(learner_id)
            return None if learner is None else (learner.key, learner.profile)

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
            volunteer=learner.volunteer,
            nickname=learner.nickname,
            reviews=ordered(learner.reviews),
            certificate_code=learner.certificate_code,
            reminder_at=learner.reminder_at,
            referred_by=learner.referred_by,
        )


def _reminder_time(changes: Changes) -> datetime | None:
    """The reminder's due time in UTC, refusing naive times as the SQL column does."""
    if changes.reminder is None or changes.reminder.next_at is None:
        return None
    at = changes.reminder.next_at
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError("naive datetime: use datetime.now(UTC)")
    return at.astimezone(dt.UTC)
