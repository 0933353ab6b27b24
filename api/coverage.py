"""Coverage against the commune plan's targets, and the other officials' figures.

Pure functions turn counts from `storage.stats`, the commune file, the content and a date into
the response models of `api.schemas`; only `read_snapshot` touches the database.

Definitions (also in docs/metrics.md):

- population: from the commune file, per hamlet and target group; the commune's is the sum
  over its hamlets.
- enrolled: learners (a learner exists only after consent; deleted learners are gone) of the
  group, and of the hamlet for a hamlet's figures. Learners with no hamlet, or a hamlet that
  is not in the commune file, count commune-wide only.
- core path of a group: `bot.paths.core_path` (the group's plain learning path, or every
  lesson tagged with the group). core_completed: learners of the group who have a
  `quiz_passed` event for every lesson of the path (an empty path counts nobody).
- certified: core_completed for now (the certificate is awarded on completing the core path).
  vneid_confirmed: learners a volunteer recorded as confirmed on VNeID / the national
  "Bình dân học vụ số" platform (hands-on check `platform_confirmed`, signed by the as-of
  instant); hands_on_checked: learners with at least one other hands-on skill signed off.
- rate = certified / population (0.0 when the population is 0).
- per target of the group: needed_total is the smallest count that meets it, computed
  exactly from the share as written: ceil(share * population), or floor(share * population)
  + 1 when the plan says "strictly above". met: certified >= needed_total (always when the
  population is 0); missed: not met and the deadline (a Vietnam date) has passed; on_track:
  certified + pace * days_left >= needed_total, where pace = (certified now - certified
  PACE_DAYS days earlier) / PACE_DAYS per day and days_left = deadline - today; else behind.
  needed = max(0, needed_total - certified).
- lessons: started = distinct learners with lesson_started; finished = distinct learners with
  quiz_passed; pass_rate = quiz_passed / (quiz_passed + quiz_failed) events (None if none);
  average_attempts = quiz_started events / distinct learners with quiz_started (None if none).
- hardest questions: per (lesson, question) still in the content with at least `min_answers`
  answers, wrong_share = wrong answers / answers; the top HARDEST_LIMIT by wrong_share (ties:
  more answers first, then teaching order). wrong_options: for choice questions, every wrong
  option (as the quiz file now marks it) with its share of ALL answers to the question,
  numbered from 1.
- weekly trend: ISO weeks in Vietnam time; new learners (learner.created_at) and completions
  (quiz_passed events) per week, the last N weeks ending with the current one, oldest first.
- unanswered questions: question_log rows not answered, grouped by text, most asked first.
- public summary: commune level only; certified as "<5" when fewer than five; rate rounded to
  3 decimals; the group's next target whose deadline has not passed (or else its last one).
"""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from fractions import Fraction

from api.deps import VIETNAM, ApiContext
from api.schemas import (
    GroupCoverage,
    HamletCoverage,
    HamletList,
    HardQuestion,
    LessonReport,
    LessonStats,
    OptionShare,
    Overview,
    PublicGroup,
    PublicSummary,
    Status,
    TargetStatus,
    Trend,
    Unanswered,
    UnansweredQuestion,
    WeekPoint,
)
from bot.commune import Commune, Hamlet, Target
from bot.content import TARGET_GROUPS, ChoiceQuestion, Content
from bot.paths import core_path
from storage.stats import (
    CoverageCount,
    LessonFunnel,
    PeriodCount,
    QuestionAnswers,
    UnansweredCount,
    coverage_counts_at,
)

PACE_DAYS = 28
HARDEST_LIMIT = 10
PUBLIC_MIN_COUNT = 5


@dataclass(frozen=True)
class Tally:
    """Counts of one group in one area (the commune or a hamlet), now and PACE_DAYS earlier."""

    enrolled: int = 0
    certified: int = 0
    certified_before: int = 0
    hands_on: int = 0
    vneid_confirmed: int = 0


@dataclass(frozen=True)
class Snapshot:
    """Coverage counts as of an instant and PACE_DAYS before it, and the Vietnam date."""

    today: dt.date
    now: tuple[CoverageCount, ...]
    before: tuple[CoverageCount, ...]


def read_snapshot(context: ApiContext, as_of: dt.datetime | None = None) -> Snapshot:
    """Read the coverage counts as of `as_of` (default: the context's now) and pace days before."""
    at = context.now() if as_of is None else as_of
    paths = {group: core_path(context.content, group) for group in TARGET_GROUPS}
    now, before = coverage_counts_at(
        context.database, paths, (at, at - dt.timedelta(days=PACE_DAYS))
    )
    return Snapshot(today=at.astimezone(VIETNAM).date(), now=now, before=before)


def needed_total(target: Target, population: int) -> int:
    """The smallest number of certified people that meets the target."""
    # The share as the official wrote it (0.6 is 3/5, not the float just above it), so that
    # 0.6 of 5 needs 3 people, not 4.
    exact = Fraction(repr(target.share)) * population
    return math.floor(exact) + 1 if target.strictly_above else math.ceil(exact)


def rate_of(certified: int, population: int) -> float:
    """certified / population, 0.0 when the population is 0."""
    return certified / population if population else 0.0


def target_status(target: Target, population: int, tally: Tally, today: dt.date) -> TargetStatus:
    """How far one area is from one target on `today` (a Vietnam date)."""
    certified = tally.certified
    status: Status
    if population == 0:
        needed, status = 0, "met"
    else:
        total = needed_total(target, population)
        needed = max(0, total - certified)
        days_left = (target.deadline - today).days
        pace = Fraction(certified - tally.certified_before, PACE_DAYS)
        if certified >= total:
            status = "met"
        elif days_left < 0:
            status = "missed"
        elif certified + pace * days_left >= total:
            status = "on_track"
        else:
            status = "behind"
    return TargetStatus(
        deadline=target.deadline,
        target_share=target.share,
        strictly_above=target.strictly_above,
        rate=rate_of(certified, population),
        needed=needed,
        status=status,
    )


def group_coverage(
    commune: Commune, group: str, population: int, tally: Tally, today: dt.date
) -> GroupCoverage:
    """One group's figures in one area, with the status of each of its targets."""
    return GroupCoverage(
        group=group,
        label=TARGET_GROUPS[group],
        population=population,
        enrolled=tally.enrolled,
        core_completed=tally.certified,
        certified=tally.certified,
        vneid_confirmed=tally.vneid_confirmed,
        hands_on_checked=tally.hands_on,
        targets=[
            target_status(target, population, tally, today)
            for target in commune.targets
            if target.group == group
        ],
    )


def tallies(snapshot: Snapshot, hamlet_id: str | None) -> dict[str, Tally]:
    """Per group, the counts of one hamlet, or of the whole commune when `hamlet_id` is None."""
    enrolled: Counter[str] = Counter()
    certified: Counter[str] = Counter()
    before: Counter[str] = Counter()
    hands_on: Counter[str] = Counter()
    confirmed: Counter[str] = Counter()
    for count in snapshot.now:
        if hamlet_id is None or count.hamlet_id == hamlet_id:
            enrolled[count.group] += count.enrolled
            certified[count.group] += count.core_completed
            hands_on[count.group] += count.hands_on
            confirmed[count.group] += count.vneid_confirmed
    for count in snapshot.before:
        if hamlet_id is None or count.hamlet_id == hamlet_id:
            before[count.group] += count.core_completed
    return {
        group: Tally(
            enrolled[group], certified[group], before[group], hands_on[group], confirmed[group]
        )
        for group in enrolled.keys() | before.keys()
    }


def commune_population(commune: Commune, group: str) -> int:
    """The commune's population of a group: the sum over its hamlets."""
    return sum(hamlet.population.get(group, 0) for hamlet in commune.hamlets)


def overview(commune: Commune, snapshot: Snapshot) -> Overview:
    """Commune-wide coverage of every target group."""
    counts = tallies(snapshot, None)
    return Overview(
        commune=commune.commune.name,
        as_of=snapshot.today,
        groups=[
            group_coverage(
                commune,
                group,
                commune_population(commune, group),
                counts.get(group, Tally()),
                snapshot.today,
            )
            for group in TARGET_GROUPS
        ],
    )


def hamlet_coverage(commune: Commune, hamlet: Hamlet, snapshot: Snapshot) -> HamletCoverage:
    """Coverage of every target group in one hamlet."""
    counts = tallies(snapshot, hamlet.id)
    return HamletCoverage(
        hamlet=hamlet.id,
        name=hamlet.name,
        as_of=snapshot.today,
        groups=[
            group_coverage(
                commune,
                group,
                hamlet.population.get(group, 0),
                counts.get(group, Tally()),
                snapshot.today,
            )
            for group in TARGET_GROUPS
        ],
    )


def hamlet_list(commune: Commune, hamlets: Iterable[Hamlet], snapshot: Snapshot) -> HamletList:
    """Coverage in each of the given hamlets, in the commune file's order."""
    return HamletList(
        as_of=snapshot.today,
        hamlets=[hamlet_coverage(commune, hamlet, snapshot) for hamlet in hamlets],
    )


def next_target(commune: Commune, group: str, today: dt.date) -> Target | None:
    """The group's target with the nearest deadline not yet past, else its last one."""
    targets = sorted(
        (target for target in commune.targets if target.group == group),
        key=lambda target: target.deadline,
    )
    upcoming = [target for target in targets if target.deadline >= today]
    if upcoming:
        return upcoming[0]
    return targets[-1] if targets else None


def public_count(count: int) -> str:
    """A count fit to publish: "<5" when fewer than five, else the number."""
    return f"<{PUBLIC_MIN_COUNT}" if count < PUBLIC_MIN_COUNT else str(count)


def public_summary(commune: Commune, snapshot: Snapshot) -> PublicSummary:
    """Commune-level certified counts and rates, safe to publish."""
    counts = tallies(snapshot, None)
    groups = []
    for group, label in TARGET_GROUPS.items():
        population = commune_population(commune, group)
        certified = counts.get(group, Tally()).certified
        target = next_target(commune, group, snapshot.today)
        groups.append(
            PublicGroup(
                group=group,
                label=label,
                population=population,
                certified=public_count(certified),
                # A rate next to the population would give a hidden small count back.
                rate=(
                    None
                    if certified < PUBLIC_MIN_COUNT
                    else round(rate_of(certified, population), 3)
                ),
                target_share=None if target is None else target.share,
                deadline=None if target is None else target.deadline,
            )
        )
    return PublicSummary(commune=commune.commune.name, as_of=snapshot.today, groups=groups)


def lesson_report(
    content: Content,
    funnels: Iterable[LessonFunnel],
    answers: Iterable[QuestionAnswers],
    *,
    limit: int = HARDEST_LIMIT,
) -> LessonReport:
    """Every lesson's funnel in teaching order, and the questions most often answered wrong."""
    by_lesson = {funnel.lesson_id: funnel for funnel in funnels}
    lessons = []
    for lesson in content.lessons.values():
        funnel = by_lesson.get(lesson.id, LessonFunnel(lesson.id, 0, 0, 0, 0, 0, 0))
        finished_attempts = funnel.quiz_passed + funnel.quiz_failed
        lessons.append(
            LessonStats(
                lesson=lesson.id,
                title=lesson.title,
                started=funnel.started,
                finished=funnel.finished,
                pass_rate=funnel.quiz_passed / finished_attempts if finished_attempts else None,
                average_attempts=(
                    funnel.quiz_started / funnel.quiz_starters if funnel.quiz_starters else None
                ),
            )
        )
    return LessonReport(lessons=lessons, hardest=hardest_questions(content, answers, limit=limit))


def hardest_questions(
    content: Content, answers: Iterable[QuestionAnswers], *, limit: int = HARDEST_LIMIT
) -> list[HardQuestion]:
    """The questions still in the content with the highest share of wrong answers."""
    order = {lesson_id: index for index, lesson_id in enumerate(content.lessons)}
    ranked = []
    for counts in answers:
        quiz = content.quiz_for(counts.lesson_id)
        if quiz is None or counts.lesson_id not in order or counts.answers == 0:
            continue
        found = next(
            (
                (position, question)
                for position, question in enumerate(quiz.questions)
                if question.id == counts.question_id
            ),
            None,
        )
        if found is None:
            continue
        position, question = found
        share = Fraction(counts.wrong, counts.answers)
        key = (-share, -counts.answers, order[counts.lesson_id], position)
        ranked.append((key, counts, question))
    ranked.sort(key=lambda item: item[0])
    hardest = []
    for _, counts, question in ranked[:limit]:
        wrong_options = []
        if isinstance(question, ChoiceQuestion):
            picked = {option.option_index: option.answers for option in counts.options}
            wrong_options = [
                OptionShare(
                    option=index + 1,
                    text=option.text,
                    share=picked.get(index, 0) / counts.answers,
                )
                for index, option in enumerate(question.options)
                if not option.correct
            ]
        hardest.append(
            HardQuestion(
                lesson=counts.lesson_id,
                question=counts.question_id,
                text=question.text,
                answers=counts.answers,
                wrong_share=counts.wrong / counts.answers,
                wrong_options=wrong_options,
            )
        )
    return hardest


def week_starts(today: dt.date, weeks: int) -> list[dt.datetime]:
    """The UTC instants at which the last `weeks` ISO weeks (Vietnam time) begin, oldest first."""
    monday = today - dt.timedelta(days=today.weekday())
    return [
        dt.datetime.combine(
            monday - dt.timedelta(weeks=weeks - 1 - index), dt.time(), VIETNAM
        ).astimezone(dt.UTC)
        for index in range(weeks)
    ]


def trend(periods: Sequence[PeriodCount]) -> Trend:
    """Weekly counts as ISO weeks in Vietnam time, oldest first."""
    points = []
    for period in periods:
        start = period.start.astimezone(VIETNAM).date()
        year, week, _ = start.isocalendar()
        points.append(
            WeekPoint(
                week=f"{year}-W{week:02d}",
                start=start,
                new_learners=period.new_learners,
                completions=period.completions,
            )
        )
    return Trend(weeks=points)


def unanswered(rows: Iterable[UnansweredCount]) -> Unanswered:
    """Unanswered questions with how often they were asked and the (Vietnam) date last asked."""
    return Unanswered(
        questions=[
            UnansweredQuestion(
                text=row.text,
                count=row.count,
                last_asked=row.last_asked.astimezone(VIETNAM).date(),
            )
            for row in rows
        ]
    )
