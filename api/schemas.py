"""Response models of the officials' API. No model carries a learner's id, name or chat."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, Field

Status = Literal["met", "on_track", "behind", "missed"]
Role = Literal["admin", "viewer", "hamlet"]


class TargetStatus(BaseModel):
    """One target of the plan for one group, and how far the commune is from it."""

    deadline: dt.date
    target_share: float = Field(description="share of the group that must be certified")
    strictly_above: bool = Field(description="the plan says 'over' the share, not 'at least'")
    rate: float = Field(description="certified / population")
    needed: int = Field(description="more people to certify to meet the target (0 if met)")
    status: Status


class GroupCoverage(BaseModel):
    """Coverage of one target group (commune-wide or in one hamlet)."""

    group: str
    label: str
    population: int
    enrolled: int
    core_completed: int
    certified: int
    vneid_confirmed: int = Field(
        description="recorded by a volunteer as confirmed on VNeID / the national platform"
    )
    hands_on_checked: int = Field(
        0, description="learners a volunteer saw do at least one hands-on skill"
    )
    targets: list[TargetStatus]


class Overview(BaseModel):
    """Commune-wide coverage against the plan's targets."""

    commune: str
    as_of: dt.date
    groups: list[GroupCoverage]


class HamletCoverage(BaseModel):
    """Coverage in one hamlet."""

    hamlet: str
    name: str
    as_of: dt.date
    groups: list[GroupCoverage]


class HamletList(BaseModel):
    """Coverage in every hamlet the caller may see."""

    as_of: dt.date
    hamlets: list[HamletCoverage]


class OptionShare(BaseModel):
    """How often one wrong option of a question was chosen."""

    option: int = Field(description="1-based position of the option in the quiz file")
    text: str
    share: float = Field(description="share of all answers to the question")


class HardQuestion(BaseModel):
    """A quiz question learners often get wrong."""

    lesson: str
    question: str
    text: str
    answers: int
    wrong_share: float
    wrong_options: list[OptionShare]


class LessonStats(BaseModel):
    """The funnel of one lesson."""

    lesson: str
    title: str
    started: int
    finished: int
    pass_rate: float | None = Field(description="passed quiz attempts / all finished attempts")
    average_attempts: float | None = Field(description="quiz attempts per learner who tried")


class LessonReport(BaseModel):
    """Every lesson's funnel, and the hardest questions."""

    lessons: list[LessonStats]
    hardest: list[HardQuestion]


class WeekPoint(BaseModel):
    """One ISO week (Vietnam time)."""

    week: str = Field(examples=["2026-W47"])
    start: dt.date
    new_learners: int
    completions: int


class Trend(BaseModel):
    """Weekly new learners and lesson completions, oldest first."""

    weeks: list[WeekPoint]


class UnansweredQuestion(BaseModel):
    """A question the assistant could not answer, as typed (folded), with how often."""

    text: str
    count: int
    last_asked: dt.date


class Unanswered(BaseModel):
    """What content authors should write next."""

    questions: list[UnansweredQuestion]


class PublicGroup(BaseModel):
    """One group's progress for the commune's website; small counts are hidden."""

    group: str
    label: str
    population: int
    certified: str = Field(description="a number, or '<5' when fewer than five")
    rate: float | None = Field(description="certified / population; null when fewer than five")
    target_share: float | None
    deadline: dt.date | None


class PublicSummary(BaseModel):
    """Commune-level rates only, safe to publish."""

    commune: str
    as_of: dt.date
    groups: list[PublicGroup]


class AuditEntry(BaseModel):
    """Who called what, when, and how it went."""

    at: dt.datetime
    official: str | None
    role: Role | None
    method: str
    path: str
    status: int


class AuditLog(BaseModel):
    """The newest audit entries first."""

    entries: list[AuditEntry]


class PublicCertificate(BaseModel):
    """A certificate as anyone holding its code may check it: no name, id or chat."""

    initials: str | None = Field(description="initials, when the learner has any on record")
    hamlet: str | None = Field(description="the hamlet's name from the commune file")
    group: str = Field(description="the target group, in Vietnamese")
    issued_on: dt.date
    lessons: list[str] = Field(description="titles of the core lessons completed")
    valid: bool
