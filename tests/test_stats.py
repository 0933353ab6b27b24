"""Statistics against figures counted by hand from tests/stats_fixture.py, on every SQL backend.

The comments next to each assertion show the hand count; the dataset's docstring lists who
did what and when. "Now" is 2026-11-25 10:00 UTC (17:00 in Vietnam); pace compares with 28
days earlier, 2026-10-28 10:00 UTC.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from stats_fixture import (
    NOW,
    at,
    build_dataset,
    load_stats_commune,
    load_stats_content,
)

from api.coverage import (
    PACE_DAYS,
    Snapshot,
    Tally,
    hamlet_coverage,
    hardest_questions,
    lesson_report,
    needed_total,
    next_target,
    overview,
    public_count,
    public_summary,
    read_snapshot,
    target_status,
    trend,
    unanswered,
    week_starts,
)
from api.deps import ApiContext
from api.report import (
    COLUMNS,
    STATUS_LABELS,
    Quarter,
    parse_quarter,
    quarter_of,
    quarterly_report,
    report_as_of,
    target_label,
    to_csv,
)
from api.schemas import GroupCoverage, TargetStatus
from bot.commune import Commune, Target
from bot.content import TARGET_GROUPS, Content
from bot.paths import core_path
from storage.stats import (
    CoverageCount,
    LessonFunnel,
    OptionCount,
    QuestionAnswers,
    answer_counts,
    coverage_counts,
    coverage_counts_at,
    lesson_funnels,
    period_counts,
    unanswered_questions,
)

TODAY = dt.date(2026, 11, 25)
ADULT, PUPIL, OFFICIAL, WORKER = (
    TARGET_GROUPS[g] for g in ("adult", "pupil", "official", "worker")
)


@pytest.fixture(scope="module")
def content() -> Content:
    """The three-lesson content of the dataset."""
    return load_stats_content()


@pytest.fixture(scope="module")
def commune() -> Commune:
    """The two-hamlet commune of the dataset."""
    return load_stats_commune()


@pytest.fixture
def engine(migrated_engine: Engine) -> Iterator[Engine]:
    """A migrated database (SQLite, PostgreSQL) holding the dataset."""
    build_dataset(migrated_engine)
    yield migrated_engine


@pytest.fixture
def context(engine: Engine, content: Content, commune: Commune) -> ApiContext:
    """The API context on the dataset, with a fixed now."""
    return ApiContext(engine, content, commune, now=lambda: NOW)


def _paths(content: Content) -> dict[str, frozenset[str]]:
    return {group: core_path(content, group) for group in TARGET_GROUPS}


def _targets(group: GroupCoverage) -> list[tuple[dt.date, int, str]]:
    return [(t.deadline, t.needed, t.status) for t in group.targets]


# --- core paths and raw counts ---


def test_core_path_is_every_lesson_of_the_group(content: Content) -> None:
    assert core_path(content, "adult") == {"a-otp", "b-qr"}
    assert core_path(content, "worker") == {"a-otp", "b-qr"}
    assert core_path(content, "official") == {"a-otp", "c-vneid"}
    assert core_path(content, "pupil") == frozenset()


def test_coverage_counts_now(engine: Engine, content: Content) -> None:
    counts = coverage_counts(engine, _paths(content), NOW)

    assert counts == (
        # A5 (no hamlet): b-qr only.
        CoverageCount("adult", None, 1, 0),
        # X1 (hamlet not in the commune file): nothing done.
        CoverageCount("adult", "thon-cu", 1, 0),
        # A3 passed a-otp and b-qr.
        CoverageCount("adult", "thon-hai", 1, 1),
        # A1, A2 passed both; A4 only a-otp; F1 is created after now.
        CoverageCount("adult", "thon-mot", 3, 2),
        # O2 failed c-vneid twice.
        CoverageCount("official", "thon-hai", 1, 0),
        # O1 passed a-otp and c-vneid.
        CoverageCount("official", "thon-mot", 1, 1),
        # P1: the pupils' core path is empty, so nobody completes it.
        CoverageCount("pupil", "thon-mot", 1, 0),
        # W1, W2 passed both; W3 only started.
        CoverageCount("worker", "thon-hai", 3, 2),
    )


def test_coverage_counts_at_several_instants_equal_one_at_a_time(
    engine: Engine, content: Content
) -> None:
    # One pass for several instants (the API's now and pace) must give each instant's own
    # figures, including instants where some (group, hamlet) has nothing yet.
    instants = (
        NOW,
        NOW - dt.timedelta(days=PACE_DAYS),
        at("2026-09-30 16:59:59"),
        at("2026-03-01 00:00:00"),
        at("2027-01-01 00:00:00"),
    )
    together = coverage_counts_at(engine, _paths(content), instants)

    assert together == tuple(coverage_counts(engine, _paths(content), i) for i in instants)
    assert coverage_counts_at(engine, _paths(content), ()) == ()


def test_coverage_counts_28_days_earlier(engine: Engine, content: Content) -> None:
    counts = coverage_counts(engine, _paths(content), NOW - dt.timedelta(days=PACE_DAYS))

    assert counts == (
        CoverageCount("adult", None, 1, 0),  # A5 (09-05)
        CoverageCount("adult", "thon-cu", 1, 0),  # X1 (10-10)
        # A3 is created 11-01, after 10-28: no row for thon-hai.
        # A1, A2 created; only A1 had passed b-qr (A2's b-qr is 11-22).
        CoverageCount("adult", "thon-mot", 2, 1),
        CoverageCount("official", "thon-hai", 1, 0),
        CoverageCount("official", "thon-mot", 1, 1),
        # W1 created 10-20, b-qr passed only on 11-15.
        CoverageCount("worker", "thon-hai", 1, 0),
    )


def test_as_of_cuts_off_at_the_instant(engine: Engine, content: Content) -> None:
    # A1 passed b-qr (completing the adult path) at 2026-09-30 16:59:59 UTC.
    before = coverage_counts(engine, _paths(content), at("2026-09-30 16:59:58"))
    on_time = coverage_counts(engine, _paths(content), at("2026-09-30 16:59:59"))

    # A1 and A2 (created 09-25) in thon-mot; A2 has only a-otp.
    assert CoverageCount("adult", "thon-mot", 2, 0) in before
    assert CoverageCount("adult", "thon-mot", 2, 1) in on_time


def test_learner_rows_removed_outright_are_gone(engine: Engine, content: Content) -> None:
    # Not what deleting one's data does (that keeps every figure: tests/test_deletion.py):
    # a row removed by hand, e.g. by an operator, takes its events with it.
    dataset_a2 = _learner_id(engine, "chat-A2-7f3a9c")
    with engine.begin() as connection:
        connection.execute(sa.text("DELETE FROM learner WHERE id = :id"), {"id": dataset_a2})

    counts = coverage_counts(engine, _paths(content), NOW)

    # thon-mot adults were A1, A2 (both certified) and A4: now A1 and A4.
    assert CoverageCount("adult", "thon-mot", 2, 1) in counts


def _learner_id(engine: Engine, chat_id: str) -> int:
    with engine.connect() as connection:
        found: int = connection.execute(
            sa.text("SELECT id FROM learner WHERE chat_id = :chat"), {"chat": chat_id}
        ).scalar_one()
    return found


def test_no_core_paths_counts_enrolment_only(engine: Engine) -> None:
    counts = coverage_counts(engine, {"adult": frozenset()}, NOW)

    assert sum(count.core_completed for count in counts) == 0
    # 6 adults + 3 workers + 2 officials + 1 pupil by now; G0 has no group, F1 is later.
    assert sum(count.enrolled for count in counts) == 12


# --- coverage against targets ---


def test_overview_now(context: ApiContext, commune: Commune) -> None:
    result = overview(commune, read_snapshot(context))

    assert result.commune == "Xã Thống Kê"
    assert result.as_of == TODAY
    adult, pupil, official, worker = result.groups
    assert [g.group for g in result.groups] == ["adult", "pupil", "official", "worker"]
    assert (adult.label, pupil.label, official.label, worker.label) == (
        ADULT,
        PUPIL,
        OFFICIAL,
        WORKER,
    )

    # Adults: population 6 + 4 = 10; enrolled A1 A2 A3 A4 A5 X1 = 6; certified A1 A2 A3 = 3;
    # 28 days ago only A1, so pace = 2/28 per day.
    assert (adult.population, adult.enrolled, adult.core_completed, adult.certified) == (
        10,
        6,
        3,
        3,
    )
    assert adult.vneid_confirmed == 0
    assert [t.rate for t in adult.targets] == [0.3, 0.3]  # 3 / 10
    assert _targets(adult) == [
        # 20% of 10 = 2 people; 3 >= 2: met (even though the deadline has passed).
        (dt.date(2026, 9, 30), 0, "met"),
        # over 50% of 10: 6 people; 3 + 2/28 * 36 days left = 5.57 < 6: behind; 6 - 3 = 3.
        (dt.date(2026, 12, 31), 3, "behind"),
    ]
    assert adult.targets[1].strictly_above is True
    assert adult.targets[1].target_share == 0.5

    # Pupils: population 3 + 0; P1 enrolled; the empty core path certifies nobody.
    assert (pupil.population, pupil.enrolled, pupil.certified) == (3, 1, 0)
    # 50% of 3 = 1.5 -> 2 people; pace 0, so 0 < 2: behind.
    assert _targets(pupil) == [(dt.date(2027, 6, 30), 2, "behind")]
    assert pupil.targets[0].rate == 0.0

    # Officials: population 2 + 1 = 3; O1 and O2 enrolled; O1 certified.
    assert (official.population, official.enrolled, official.certified) == (3, 2, 1)
    # 100% of 3 = 3 people; deadline 2026-06-30 has passed: missed, 3 - 1 = 2 needed.
    assert _targets(official) == [(dt.date(2026, 6, 30), 2, "missed")]
    assert official.targets[0].rate == pytest.approx(1 / 3)

    # Workers: population 0 + 5; W1 W2 W3 enrolled; W1 W2 certified, none 28 days ago.
    assert (worker.population, worker.enrolled, worker.certified) == (5, 3, 2)
    # 60% of 5 = 3 exactly (not 4, as 0.6 * 5 in floats would round up);
    # 2 + 2/28 * 36 = 4.57 >= 3: on track; 3 - 2 = 1 needed.
    assert _targets(worker) == [(dt.date(2026, 12, 31), 1, "on_track")]
    assert worker.targets[0].rate == 0.4


def test_hamlet_coverage_now(context: ApiContext, commune: Commune) -> None:
    snapshot = read_snapshot(context)
    thon_mot = commune.hamlet("thon-mot")
    thon_hai = commune.hamlet("thon-hai")
    assert thon_mot is not None and thon_hai is not None

    mot = {g.group: g for g in hamlet_coverage(commune, thon_mot, snapshot).groups}
    hai = {g.group: g for g in hamlet_coverage(commune, thon_hai, snapshot).groups}

    # thon-mot adults: population 6; A1 A2 A4 enrolled; A1 A2 certified; A1 28 days ago.
    assert (mot["adult"].population, mot["adult"].enrolled, mot["adult"].certified) == (6, 3, 2)
    assert _targets(mot["adult"]) == [
        # 20% of 6 = 1.2 -> 2 people: met.
        (dt.date(2026, 9, 30), 0, "met"),
        # over 50% of 6: 4 people; 2 + 1/28 * 36 = 3.29 < 4: behind; 4 - 2 = 2.
        (dt.date(2026, 12, 31), 2, "behind"),
    ]
    assert mot["adult"].targets[0].rate == pytest.approx(2 / 6)
    # thon-mot officials: population 2, O1 certified: 2 needed by 06-30, missed, 1 more.
    assert (mot["official"].enrolled, mot["official"].certified) == (1, 1)
    assert _targets(mot["official"]) == [(dt.date(2026, 6, 30), 1, "missed")]
    # thon-mot workers: population 0: met, nothing needed, rate 0.0.
    assert _targets(mot["worker"]) == [(dt.date(2026, 12, 31), 0, "met")]
    assert mot["worker"].targets[0].rate == 0.0
    # thon-mot pupils: P1, population 3: 2 needed, behind.
    assert (mot["pupil"].enrolled, mot["pupil"].certified) == (1, 0)
    assert _targets(mot["pupil"]) == [(dt.date(2027, 6, 30), 2, "behind")]

    # thon-hai adults: population 4; A3 enrolled and certified (after the 28-day mark).
    assert (hai["adult"].population, hai["adult"].enrolled, hai["adult"].certified) == (4, 1, 1)
    assert _targets(hai["adult"]) == [
        # 20% of 4 = 0.8 -> 1 person: met.
        (dt.date(2026, 9, 30), 0, "met"),
        # over 50% of 4: 3 people; 1 + 1/28 * 36 = 2.29 < 3: behind; 2 more.
        (dt.date(2026, 12, 31), 2, "behind"),
    ]
    # thon-hai workers are all the commune's workers: on track, 1 more.
    assert (hai["worker"].enrolled, hai["worker"].certified) == (3, 2)
    assert _targets(hai["worker"]) == [(dt.date(2026, 12, 31), 1, "on_track")]
    # thon-hai officials: O2 not certified, population 1: missed, 1 more.
    assert _targets(hai["official"]) == [(dt.date(2026, 6, 30), 1, "missed")]
    # thon-hai pupils: population 0: met.
    assert _targets(hai["pupil"]) == [(dt.date(2027, 6, 30), 0, "met")]
    # A5 (no hamlet) and X1 (unknown hamlet) count commune-wide only: 3 + 1 + 2 = 6.
    assert mot["adult"].enrolled + hai["adult"].enrolled == 4


def _target(share: float, deadline: str = "2026-12-31", strictly_above: bool = False) -> Target:
    return Target(
        group="adult",
        share=share,
        deadline=dt.date.fromisoformat(deadline),
        strictly_above=strictly_above,
    )


def _status(target: Target, population: int, tally: Tally, today: dt.date = TODAY) -> TargetStatus:
    return target_status(target, population, tally, today)


def test_needed_total_is_exact() -> None:
    # 0.6 * 5 is 3.0000000000000004 in floats; the plan means exactly 3.
    assert needed_total(_target(0.6), 5) == 3
    # 0.9 of 820 = 738 exactly; "over 90%" needs 739.
    assert needed_total(_target(0.9), 820) == 738
    assert needed_total(_target(0.9, strictly_above=True), 820) == 739
    # over 50% of 7 = 3.5: 4 people (floor + 1), and at least 50% of 7 also 4 (ceil).
    assert needed_total(_target(0.5, strictly_above=True), 7) == 4
    assert needed_total(_target(0.5), 7) == 4
    # 80% of 12 = 9.6 -> 10.
    assert needed_total(_target(0.8), 12) == 10


def test_target_status_cases() -> None:
    # Population 0: met, nothing needed, rate 0.0.
    empty = _status(_target(0.8), 0, Tally(0, 0, 0))
    assert (empty.status, empty.needed, empty.rate) == ("met", 0, 0.0)
    # Exactly at the share: met with "at least", not with "strictly above".
    assert _status(_target(0.5), 10, Tally(5, 5, 5)).status == "met"
    above = _status(_target(0.5, strictly_above=True), 10, Tally(5, 5, 5))
    assert (above.status, above.needed) == ("behind", 1)
    # 100% "strictly above" can never be met; it is reported, not hidden.
    impossible = _status(_target(1.0, strictly_above=True), 4, Tally(4, 4, 4))
    assert (impossible.status, impossible.needed) == ("behind", 1)
    # On the deadline day itself the target is not yet missed: 0 days left, pace irrelevant.
    due_today = _status(_target(0.5, "2026-11-25"), 10, Tally(4, 4, 0))
    assert (due_today.status, due_today.needed) == ("behind", 1)
    # The day after: missed.
    late = _status(_target(0.5, "2026-11-24"), 10, Tally(4, 4, 0))
    assert (late.status, late.needed) == ("missed", 1)
    # Pace exactly enough: 4 certified, 2 more in 28 days -> 1/14 a day; 14 days left:
    # 4 + 14/14 = 5 >= 5 needed: on track.
    assert _status(_target(0.5, "2026-12-09"), 10, Tally(6, 4, 2)).status == "on_track"
    # One day less: 4 + 13/14 < 5: behind.
    assert _status(_target(0.5, "2026-12-08"), 10, Tally(6, 4, 2)).status == "behind"
    # More certified than the population (estimates): met, rate above 1.
    over = _status(_target(1.0), 2, Tally(3, 3, 0))
    assert (over.status, over.needed, over.rate) == ("met", 0, 1.5)


def test_pace_can_be_negative_after_deletions() -> None:
    # 5 certified now, 8 a month ago (learners deleted their data): pace -3/28.
    result = _status(_target(0.5), 10, Tally(5, 5, 8))
    assert result.status == "met"
    result = _status(_target(0.6), 10, Tally(5, 5, 8))
    assert (result.status, result.needed) == ("behind", 1)


# --- public summary ---


def test_public_summary_now(context: ApiContext, commune: Commune) -> None:
    result = public_summary(commune, read_snapshot(context))

    assert result.commune == "Xã Thống Kê"
    assert result.as_of == TODAY
    assert [
        (g.group, g.population, g.certified, g.rate, g.target_share, g.deadline)
        for g in result.groups
    ] == [
        # 3 certified of 10: "<5", and the rate hidden with it (0.3 x 10 would give 3 back);
        # next target not past: over 50% by 2026-12-31.
        ("adult", 10, "<5", None, 0.5, dt.date(2026, 12, 31)),
        ("pupil", 3, "<5", None, 0.5, dt.date(2027, 6, 30)),
        # 1 of 3: hidden; its only target is past, so it is the one shown.
        ("official", 3, "<5", None, 1.0, dt.date(2026, 6, 30)),
        ("worker", 5, "<5", None, 0.6, dt.date(2026, 12, 31)),
    ]
    assert [g.label for g in result.groups] == [ADULT, PUPIL, OFFICIAL, WORKER]


def test_public_counts_under_five_are_hidden(commune: Commune) -> None:
    assert [public_count(n) for n in (0, 1, 4, 5, 6, 120)] == ["<5", "<5", "<5", "5", "6", "120"]
    snapshot = Snapshot(
        TODAY,
        now=(CoverageCount("adult", "thon-mot", 9, 7), CoverageCount("worker", "thon-hai", 4, 4)),
        before=(),
    )

    groups = {g.group: g for g in public_summary(commune, snapshot).groups}

    # 7 of 10 adults: shown, 0.7; 4 of 5 workers: hidden.
    assert (groups["adult"].certified, groups["adult"].rate) == ("7", 0.7)
    # 4 of 5 would be 0.8: hidden with the count, or 0.8 x 5 gives the 4 back.
    assert (groups["worker"].certified, groups["worker"].rate) == ("<5", None)


def test_next_target(commune: Commune) -> None:
    # Adult targets: 20% by 2026-09-30, over 50% by 2026-12-31.
    first = next_target(commune, "adult", dt.date(2026, 9, 30))
    assert first is not None and first.share == 0.2  # due today: not yet past
    later = next_target(commune, "adult", dt.date(2026, 10, 1))
    assert later is not None and later.share == 0.5
    last = next_target(commune, "adult", dt.date(2030, 1, 1))
    assert last is not None and last.share == 0.5
    no_targets = commune.model_copy(update={"targets": ()})
    assert next_target(no_targets, "adult", TODAY) is None
    summary = public_summary(no_targets, Snapshot(TODAY, (), ()))
    assert all(g.target_share is None and g.deadline is None for g in summary.groups)


# --- lessons and questions ---


def test_lesson_funnels(engine: Engine) -> None:
    funnels = {f.lesson_id: f for f in lesson_funnels(engine, NOW)}

    # a-otp started by A1 A2 A3 A4 W1 W2 W3 O1 O2 P1 = 10; passed by all of them but W3 = 9;
    # 9 passes, 2 fails (A3, A4 first tries); 11 quiz starts by 9 learners. F1 is later.
    assert funnels["a-otp"] == LessonFunnel("a-otp", 10, 9, 9, 2, 11, 9)
    # b-qr started by A1 A2 A3 A4 A5 W1 W2 = 7; passed by all but A4 = 6; fails A3, W2.
    assert funnels["b-qr"] == LessonFunnel("b-qr", 7, 6, 6, 2, 8, 6)
    # c-vneid: O1 passed; O2 failed twice.
    assert funnels["c-vneid"] == LessonFunnel("c-vneid", 2, 1, 1, 2, 3, 2)
    # A lesson since removed is still counted here; the report drops it.
    assert funnels["old-lesson"] == LessonFunnel("old-lesson", 1, 1, 1, 0, 0, 0)


def test_lesson_report(engine: Engine, content: Content) -> None:
    report = lesson_report(
        content, lesson_funnels(engine, NOW), answer_counts(engine, NOW, min_answers=5)
    )

    assert [
        (s.lesson, s.started, s.finished, s.pass_rate, s.average_attempts) for s in report.lessons
    ] == [
        # pass_rate 9 / (9 + 2); attempts 11 / 9.
        ("a-otp", 10, 9, 9 / 11, 11 / 9),
        # 6 / 8; 8 / 6.
        ("b-qr", 7, 6, 0.75, 8 / 6),
        # 1 / 3; 3 / 2.
        ("c-vneid", 2, 1, 1 / 3, 1.5),
    ]
    assert report.lessons[0].title == "Giữ bí mật mã OTP"


def test_lesson_without_events_has_no_rates(content: Content) -> None:
    report = lesson_report(content, [], [])

    assert [(s.started, s.finished, s.pass_rate, s.average_attempts) for s in report.lessons] == [
        (0, 0, None, None)
    ] * 3
    assert report.hardest == []


def test_answer_counts(engine: Engine) -> None:
    counts = {(c.lesson_id, c.question_id): c for c in answer_counts(engine, NOW, min_answers=5)}

    # a-otp/q1: 11 answers (A1, A2, A3 x2, A4 x2, W1, W2, O1, O2, P1); wrong: A2 o0, A3 o2,
    # A4 o0, W2 o0, P1 o2 = 5; option 0 picked 3 times, option 1 (right) 6, option 2 twice.
    assert counts["a-otp", "q1"] == QuestionAnswers(
        "a-otp", "q1", 11, 5, (OptionCount(0, 3), OptionCount(1, 6), OptionCount(2, 2))
    )
    # a-otp/q2 (typed): wrong A3 x2, A4 first try, O2 = 4 of 11; no options.
    assert counts["a-otp", "q2"] == QuestionAnswers("a-otp", "q2", 11, 4, ())
    # b-qr/q1: 8 answers; wrong A3 o3, W2 o2.
    assert counts["b-qr", "q1"] == QuestionAnswers(
        "b-qr", "q1", 8, 2, (OptionCount(0, 6), OptionCount(2, 1), OptionCount(3, 1))
    )
    # c-vneid/q1 has only 3 answers: under the minimum of 5.
    assert ("c-vneid", "q1") not in counts
    # Removed content is still counted here (5 and 6 answers); the report drops it.
    assert counts["a-otp", "q-old"].answers == 5
    assert counts["old-lesson", "q1"].answers == 6


def test_hardest_questions(engine: Engine, content: Content) -> None:
    hardest = hardest_questions(content, answer_counts(engine, NOW, min_answers=5))

    assert [(h.lesson, h.question, h.answers, h.wrong_share) for h in hardest] == [
        ("a-otp", "q1", 11, 5 / 11),  # 0.4545
        ("a-otp", "q2", 11, 4 / 11),  # 0.3636
        ("b-qr", "q1", 8, 2 / 8),  # 0.25
        ("b-qr", "q2", 8, 1 / 8),  # 0.125 (W2's first try)
    ]
    q1 = hardest[0]
    assert q1.text == "Có người gọi xin mã OTP. Bạn làm gì?"
    # Wrong options of a-otp/q1 are options 1 and 3: picked 3 and 2 times of 11 answers.
    assert [(o.option, o.text, o.share) for o in q1.wrong_options] == [
        (1, "Đọc mã cho họ", 3 / 11),
        (3, "Gửi mã qua Zalo", 2 / 11),
    ]
    # A typed question has no options.
    assert hardest[1].wrong_options == []
    # b-qr/q1: options 2, 3, 4 are wrong; option 2 was never picked.
    assert [(o.option, o.share) for o in hardest[2].wrong_options] == [
        (2, 0.0),
        (3, 1 / 8),
        (4, 1 / 8),
    ]


def test_hardest_questions_minimum_and_limit(engine: Engine, content: Content) -> None:
    hardest = hardest_questions(content, answer_counts(engine, NOW, min_answers=3))

    # c-vneid/q1 now qualifies with 3 answers, 2 wrong (O2 twice): 0.667, the hardest.
    assert [(h.lesson, h.question) for h in hardest][:2] == [("c-vneid", "q1"), ("a-otp", "q1")]
    assert hardest[0].wrong_share == pytest.approx(2 / 3)
    assert [(o.option, o.share) for o in hardest[0].wrong_options] == [(1, pytest.approx(2 / 3))]
    # With 9 answers required, only the two a-otp questions (11 answers) remain.
    nine = hardest_questions(content, answer_counts(engine, NOW, min_answers=9))
    assert [(h.lesson, h.question) for h in nine] == [("a-otp", "q1"), ("a-otp", "q2")]
    assert len(hardest_questions(content, answer_counts(engine, NOW), limit=2)) == 2


def test_hardest_ties_prefer_more_answers_then_teaching_order(content: Content) -> None:
    answers = [
        QuestionAnswers("b-qr", "q2", 10, 5, ()),
        QuestionAnswers("b-qr", "q1", 10, 5, ()),
        QuestionAnswers("a-otp", "q1", 4, 2, ()),
        QuestionAnswers("a-otp", "q2", 20, 10, ()),
    ]

    ranked = hardest_questions(content, answers)

    assert [(h.lesson, h.question) for h in ranked] == [
        ("a-otp", "q2"),  # 0.5 with 20 answers
        ("b-qr", "q1"),  # 0.5 with 10, first in the quiz
        ("b-qr", "q2"),
        ("a-otp", "q1"),  # 0.5 with 4
    ]


# --- weekly trend ---


def test_week_starts_are_vietnam_mondays() -> None:
    starts = week_starts(TODAY, 2)

    # Mondays 16 and 23 November, 00:00 in Vietnam = 17:00 UTC the day before.
    assert starts == [at("2026-11-15 17:00"), at("2026-11-22 17:00")]


def test_weekly_trend_across_a_vietnam_week_boundary(engine: Engine) -> None:
    result = trend(period_counts(engine, week_starts(TODAY, 5), NOW))

    assert [(w.week, w.start, w.new_learners, w.completions) for w in result.weeks] == [
        # New: A3, W2 (11-01). Completions: none.
        ("2026-W44", dt.date(2026, 10, 26), 2, 0),
        # Completions: A3 a-otp 11-02, W2 a-otp 11-02, W2 b-qr 11-04, A3 b-qr 11-05.
        ("2026-W45", dt.date(2026, 11, 2), 0, 4),
        # W1 b-qr at 2026-11-15 16:59:59 UTC = Sunday 23:59:59 in Vietnam.
        ("2026-W46", dt.date(2026, 11, 9), 0, 1),
        # New: A4 (11-20), G0 (11-22 16:30 UTC = Sunday 23:30 in Vietnam).
        # Completion: A2 b-qr at 11-22 16:00 UTC = Sunday 23:00 in Vietnam.
        ("2026-W47", dt.date(2026, 11, 16), 2, 1),
        # New: W3 (2026-11-22 18:00 UTC = Monday 01:00 in Vietnam), P1 (11-24); F1 is later.
        # Completions: A4 a-otp at 11-22 18:00 UTC (Monday in Vietnam), P1 a-otp 11-24.
        ("2026-W48", dt.date(2026, 11, 23), 2, 2),
    ]


def test_weekly_trend_zero_weeks_and_year_boundary(engine: Engine) -> None:
    # Saturday 2 January 2027 is in ISO week 53 of 2026 (2026 starts on a Thursday).
    starts = week_starts(dt.date(2027, 1, 2), 3)

    result = trend(period_counts(engine, starts, at("2027-01-02 03:00")))

    # Every row of the dataset is older than these weeks: zero weeks are listed all the same.
    assert [(w.week, w.start, w.new_learners, w.completions) for w in result.weeks] == [
        ("2026-W51", dt.date(2026, 12, 14), 0, 0),
        ("2026-W52", dt.date(2026, 12, 21), 0, 0),
        ("2026-W53", dt.date(2026, 12, 28), 0, 0),
    ]


def test_period_counts_need_increasing_starts(engine: Engine) -> None:
    with pytest.raises(ValueError, match="increase"):
        period_counts(engine, [NOW, NOW], NOW)
    assert period_counts(engine, [], NOW) == ()


# --- unanswered questions ---


def test_unanswered_questions(engine: Engine) -> None:
    result = unanswered(unanswered_questions(engine, NOW, 20))

    assert [(q.text, q.count, q.last_asked) for q in result.questions] == [
        # 3 times, last 11-24; the one answered time does not count.
        ("mat khau vneid", 3, dt.date(2026, 11, 24)),
        # also 3 times, but last asked earlier (11-05).
        ("hoc phi", 3, dt.date(2026, 11, 5)),
        # once, at 2026-11-10 18:30 UTC = 11 November in Vietnam.
        ("cach nop phat nguoi", 1, dt.date(2026, 11, 11)),
    ]
    # "otp la gi" was always answered; "cau hoi tuong lai" is asked after now.
    assert [q.text for q in unanswered(unanswered_questions(engine, NOW, 2)).questions] == [
        "mat khau vneid",
        "hoc phi",
    ]


# --- the quarterly report ---


def test_quarters() -> None:
    q4 = parse_quarter("2026Q4")
    assert q4 == Quarter(2026, 4)
    assert str(q4) == "2026Q4"
    assert (q4.first_day, q4.last_day, q4.due_date) == (
        dt.date(2026, 10, 1),
        dt.date(2026, 12, 31),
        dt.date(2026, 11, 15),
    )
    # The end is the last microsecond of 31 December in Vietnam.
    assert q4.end == at("2026-12-31 16:59:59.999999")
    q1 = parse_quarter("2027Q1")
    assert (q1.last_day, q1.due_date) == (dt.date(2027, 3, 31), dt.date(2027, 2, 15))
    assert quarter_of(dt.date(2026, 9, 30)) == Quarter(2026, 3)
    for bad in ("2026Q5", "2026q4", "26Q1", "2026-Q4", "", "0000Q1", " 2026Q4"):
        with pytest.raises(ValueError):
            parse_quarter(bad)


def test_report_as_of() -> None:
    # A past quarter: its end; the current and future ones: now.
    assert report_as_of(Quarter(2026, 3), NOW) == at("2026-09-30 16:59:59.999999")
    assert report_as_of(Quarter(2026, 4), NOW) == NOW
    assert report_as_of(Quarter(2027, 1), NOW) == NOW
    # 31 December 18:00 UTC is already 1 January in Vietnam: 2026Q4 is over.
    new_year = at("2026-12-31 18:00")
    assert report_as_of(Quarter(2026, 4), new_year) == at("2026-12-31 16:59:59.999999")


def test_target_labels() -> None:
    assert target_label(0.8, False) == "Ít nhất 80%"
    assert target_label(0.9, True) == "Trên 90%"
    assert target_label(1.0, False) == "Ít nhất 100%"
    assert target_label(0.125, False) == "Ít nhất 12.5%"


def test_quarterly_report_for_a_past_quarter(context: ApiContext, commune: Commune) -> None:
    quarter = Quarter(2026, 3)
    snapshot = read_snapshot(context, report_as_of(quarter, NOW))

    report = quarterly_report(commune, quarter, snapshot)

    assert report.header == (
        ("Báo cáo kết quả phong trào “Bình dân học vụ số”",),
        ("Đơn vị", "Xã Thống Kê, Tỉnh Mẫu"),
        ("Quý", "2026Q3"),
        ("Số liệu tính đến ngày", dt.date(2026, 9, 30)),
        ("Hạn nộp báo cáo", dt.date(2026, 8, 15)),
    )
    titles = [title for title, _ in report.blocks]
    assert titles == ["Toàn xã: Xã Thống Kê", "Thôn Một", "Thôn Hai"]
    whole, mot, hai = (rows for _, rows in report.blocks)
    behind, missed, met, on_track = (
        STATUS_LABELS[s] for s in ("behind", "missed", "met", "on_track")
    )
    d = dt.date.fromisoformat
    # As of the end of 30 September in Vietnam: adults A1 A2 A5 enrolled (X1 is 10-10);
    # A1 certified at 16:59:59 UTC that day; nobody 28 days before, so pace 1/28 a day.
    assert whole == (
        # O1, O2 enrolled; O1 certified; 100% of 3 by 06-30: missed.
        (OFFICIAL, d("2026-06-30"), "Ít nhất 100%", 3, 2, 1, 0.333, missed),
        # 20% of 10 = 2 by today, the deadline: 1 + 0 days * pace < 2: behind (not missed).
        (ADULT, d("2026-09-30"), "Ít nhất 20%", 10, 3, 1, 0.1, behind),
        # over 50% of 10 = 6: 1 + 92/28 = 4.29 < 6: behind.
        (ADULT, d("2026-12-31"), "Trên 50%", 10, 3, 1, 0.1, behind),
        # no worker yet (W1 is 10-20).
        (WORKER, d("2026-12-31"), "Ít nhất 60%", 5, 0, 0, 0.0, behind),
        (PUPIL, d("2027-06-30"), "Ít nhất 50%", 3, 0, 0, 0.0, behind),
    )
    assert mot == (
        # O1: 1 of 2.
        (OFFICIAL, d("2026-06-30"), "Ít nhất 100%", 2, 1, 1, 0.5, missed),
        # A1, A2 enrolled, A1 certified: 1/6 = 0.167; 20% of 6 -> 2: behind on the last day.
        (ADULT, d("2026-09-30"), "Ít nhất 20%", 6, 2, 1, 0.167, behind),
        # over 50% of 6 = 4: 1 + 92/28 = 4.29 >= 4: on track.
        (ADULT, d("2026-12-31"), "Trên 50%", 6, 2, 1, 0.167, on_track),
        # population 0: met.
        (WORKER, d("2026-12-31"), "Ít nhất 60%", 0, 0, 0, 0.0, met),
        (PUPIL, d("2027-06-30"), "Ít nhất 50%", 3, 0, 0, 0.0, behind),
    )
    assert hai == (
        # O2 enrolled, not certified.
        (OFFICIAL, d("2026-06-30"), "Ít nhất 100%", 1, 1, 0, 0.0, missed),
        (ADULT, d("2026-09-30"), "Ít nhất 20%", 4, 0, 0, 0.0, behind),
        (ADULT, d("2026-12-31"), "Trên 50%", 4, 0, 0, 0.0, behind),
        (WORKER, d("2026-12-31"), "Ít nhất 60%", 5, 0, 0, 0.0, behind),
        # population 0: met.
        (PUPIL, d("2027-06-30"), "Ít nhất 50%", 0, 0, 0, 0.0, met),
    )


def test_quarterly_csv_layout(context: ApiContext, commune: Commune) -> None:
    quarter = Quarter(2026, 4)
    report = quarterly_report(commune, quarter, read_snapshot(context, NOW))

    body = to_csv(report)

    assert body.startswith(b"\xef\xbb\xbf")
    lines = body.decode("utf-8-sig").splitlines()
    assert lines[4] == "Hạn nộp báo cáo,2026-11-15"
    assert lines[3] == "Số liệu tính đến ngày,2026-11-25"
    assert lines[5] == ""
    assert lines[6] == "Toàn xã: Xã Thống Kê"
    assert lines[7] == ",".join(COLUMNS)
    # Now: the worker target is on track (see test_overview_now).
    assert lines[11] == f'"{WORKER}",2026-12-31,Ít nhất 60%,5,3,2,0.4,{STATUS_LABELS["on_track"]}'
