"""The content model, loader and checker: lessons and quizzes as teachers write them."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
import unicodedata
from html.parser import HTMLParser
from pathlib import Path

import pytest
import yaml
from pydantic import ValidationError

from bot.catalog import catalog, catalog_html, catalog_markdown
from bot.content import (
    PROJECT_TOPICS,
    TARGET_GROUPS,
    Answer,
    Card,
    ChoiceQuestion,
    Content,
    ContentError,
    LearningPath,
    Lesson,
    Option,
    Problem,
    Quiz,
    Source,
    TextQuestion,
    check_content,
    load_content,
)
from bot.paths import core_path
from bot.yamlsource import YamlSyntaxError, parse_yaml

FIXTURES = Path(__file__).parent / "fixtures" / "content"
SHARED_TOPICS = Path(__file__).resolve().parents[2] / "shared" / "topics.yaml"

# Each broken fixture and exactly the problems it must produce: (file, line, key phrase).
BROKEN = {
    "yaml-syntax": [
        ("lessons/colon.yaml", 2, "must be in quotes"),
        ("lessons/tabs.yaml", 3, "not tabs"),
        ("quizzes/quote.yaml", 5, "a quote was opened and never closed"),
    ],
    "not-a-mapping": [
        ("lessons/empty.yaml", 1, "the file is empty"),
        ("lessons/list.yaml", 2, "must be fields (name: value), not a list"),
        ("quizzes/text.yaml", 1, "must be fields (name: value), not a text"),
    ],
    "unknown-fields": [
        (
            "lessons/qr.yaml",
            2,
            "unknown field 'titel' (did you mean 'title'?); allowed fields: id, title, topics,"
            " groups, order, cards, sources",
        ),
        ("lessons/qr.yaml", 8, "unknown field 'picture' in card 1; allowed fields: text, image"),
        ("lessons/qr.yaml", 11, "unknown field 'path'"),
        (
            "quizzes/qr.yaml",
            10,
            "unknown field 'hint' in option 1 of question q1; allowed fields: text, correct,"
            " explanation",
        ),
    ],
    "missing-fields": [
        ("lessons/qr.yaml", 1, "the lesson is missing the required field 'title'"),
        ("lessons/qr.yaml", 1, "the lesson is missing the required field 'cards'"),
        ("lessons/qr.yaml", 5, "source 1 is missing the required field 'title'"),
        ("quizzes/qr.yaml", 1, "the quiz is missing the required field 'pass_mark'"),
        ("quizzes/qr.yaml", 3, "question q1 is missing the required field 'text'"),
    ],
    "wrong-types": [
        ("lessons/qr.yaml", 2, "'title' is empty"),
        ("lessons/qr.yaml", 3, "'topics' must be a list"),
        ("lessons/qr.yaml", 5, "'order' must be a whole number, not a text"),
        ("lessons/qr.yaml", 7, 'card 1 must be text, not a number; put it in quotes: "2024"'),
        ("lessons/qr.yaml", 8, "card 2 must be a group of fields"),
        ("quizzes/qr.yaml", 6, "accepted answer 1 of question q1 must be text, not a number"),
        ("quizzes/qr.yaml", 12, "'correct' of option 1 of question q2 must be true or false"),
    ],
    "duplicate-lesson-ids": [
        ("lessons/b-qr-copy.yaml", 2, "lesson id 'qr' is already used by lessons/a-qr.yaml:1"),
    ],
    "duplicate-keys": [
        ("lessons/qr.yaml", 5, "'title' is written twice in the same place (also on line 2)"),
        ("lessons/qr.yaml", 8, "'text' is written twice in the same place (also on line 7)"),
    ],
    "duplicate-question-ids": [
        ("quizzes/qr.yaml", 8, "question id 'q1' is used twice in this file (first on line 4)"),
    ],
    "two-quizzes": [
        ("quizzes/b.yaml", 1, "lesson 'qr' already has a quiz in quizzes/a.yaml:1"),
    ],
    "unknown-topics-groups": [
        (
            "lessons/qr.yaml",
            5,
            "topic 2 is 'pay.qrcode', which is not a topic id in topics.yaml"
            " (did you mean 'pay.qr'?)",
        ),
        ("lessons/qr.yaml", 6, "group 2 is 'farmer', which is not a target group"),
    ],
    "missing-lesson": [
        (
            "quizzes/otp.yaml",
            2,
            "this quiz is for lesson 'qrr', but there is no lesson with that id"
            " (did you mean 'qr'?)",
        ),
    ],
    "choice-questions": [
        ("quizzes/qr.yaml", 6, "question none-correct has no option marked 'correct: true'"),
        ("quizzes/qr.yaml", 13, "question two-correct has 2 options marked 'correct: true'"),
        (
            "quizzes/qr.yaml",
            25,
            "option 1 of question no-explanation is missing the required field 'explanation'",
        ),
    ],
    "text-questions": [
        ("quizzes/qr.yaml", 4, "question no-accept is missing the required field 'accept'"),
        (
            "quizzes/qr.yaml",
            7,
            "question no-explanation is missing the required field 'explanation'",
        ),
        ("quizzes/qr.yaml", 12, "'accept' of question empty-accept needs at least 1"),
        ("quizzes/qr.yaml", 14, "question both has both 'options' and 'accept'"),
        ("quizzes/qr.yaml", 23, "question neither needs either 'options'"),
    ],
    "long-text": [
        ("lessons/qr.yaml", 14, "card 3 is 412 characters long; the limit is 350"),
        ("quizzes/qr.yaml", 7, "option 1 of question q1 is 84 characters long; the limit is 80"),
    ],
    "too-many": [
        ("lessons/qr.yaml", 5, "'cards' has 9 cards; the limit is 8"),
        ("lessons/qr.yaml", 15, "'sources' needs at least 1 source; it has 0"),
        ("quizzes/qr.yaml", 6, "'options' of question q1 has 5 options; the limit is 4"),
        ("quizzes/qr.yaml", 14, "'options' of question q2 needs at least 2 options; it has 1"),
    ],
    "pass-mark": [
        ("quizzes/otp.yaml", 2, "'pass_mark' is 0; it must be at least 1"),
        ("quizzes/qr.yaml", 2, "'pass_mark' is 3 but the quiz has only 2 question(s)"),
    ],
    "images-and-links": [
        ("lessons/qr.yaml", 9, "'images/missing.png', but there is no such file"),
        ("lessons/qr.yaml", 11, "'http://example.org/qr.png'; a picture must be an https://"),
        ("lessons/qr.yaml", 13, "'../secret.png'; a picture must be an https://"),
        ("lessons/qr.yaml", 16, "'url' of source 1 is 'nld.com.vn'; a link must start with"),
    ],
    "answers-entries": [
        (
            "answers/otp.yaml",
            10,
            "'paraphrases' of entry otp-02 needs at least 2 paraphrases; it has 1",
        ),
        ("answers/otp.yaml", 13, "entry otp-03 is missing the required field 'paraphrases'"),
        (
            "answers/otp.yaml",
            22,
            "'answer' of entry otp-04 is 620 characters long; the limit is 600",
        ),
        (
            "answers/otp.yaml",
            25,
            "'topic' of entry otp-05 is 'pay.otpp', which is not a topic id in topics.yaml"
            " (did you mean 'pay.otp'?)",
        ),
        (
            "answers/otp.yaml",
            35,
            "unknown field 'lessons' in entry otp-06 (did you mean 'lesson'?)",
        ),
        ("answers/otp.yaml", 40, "'paraphrases' of entry otp-07 must be a list"),
        ("answers/otp.yaml", 43, "'id' of entry OTP_08 is 'OTP_08'; an id may contain only"),
        ("answers/otp.yaml", 48, "paraphrase 2 of entry OTP_08 must be text, not a number; put it"),
        ("answers/otp.yaml", 50, "'sources' of entry OTP_08 needs at least 1 source; it has 0"),
        ("answers/otp.yaml", 51, "entry otp-09 is missing the required field 'sources'"),
    ],
    "answers-across": [
        (
            "answers/a-otp.yaml",
            13,
            "'lesson' of entry otp-02 is 'otpp', but there is no lesson with that id"
            " (did you mean 'otp'?)",
        ),
        ("answers/a-otp.yaml", 21, "answer id 'otp-01' is already used by answers/a-otp.yaml:1"),
        ("answers/b-qr.yaml", 2, "answer id 'otp-03' is already used by answers/a-otp.yaml:15"),
        (
            "answers/b-qr.yaml",
            12,
            "paraphrase 1 of entry qr-02 ('MA OTP LA GI!') is the same, ignoring accents and"
            " punctuation, as the question of entry otp-01 (answers/a-otp.yaml:3), which is about"
            " topic 'pay.otp', not 'pay.qr'",
        ),
        (
            "answers/b-qr.yaml",
            18,
            "paraphrase 2 of entry qr-03 ('mã otp dùng mấy lần') is the same, ignoring accents and"
            " punctuation, as the question of entry otp-03 (answers/a-otp.yaml:17)",
        ),
        (
            "answers/b-qr.yaml",
            24,
            "paraphrase 1 of entry qr-04 ('OTP là j') is the same, ignoring accents and"
            " punctuation, as paraphrase 2 of entry otp-01 (answers/a-otp.yaml:4)",
        ),
        ("answers/c-empty.yaml", 1, "the file has no entries"),
        ("answers/d-mapping.yaml", 1, "the top of the file must be a list of entries"),
    ],
    "answers-coverage": [
        ("topics.yaml", 6, "topic 'pay.qr' has no lesson; tag at least one lesson with it"),
        ("topics.yaml", 7, "topic 'pay.bills' has only 1 answer in answers/; it needs at least 4"),
        ("topics.yaml", 8, "topic 'safe.report' has no lesson"),
        ("topics.yaml", 8, "topic 'safe.report' has no answers in answers/; it needs at least 4"),
    ],
    "paths-broken": [
        ("paths.yaml", 2, "target group pupil (Học sinh) has no learning path without min_age"),
        ("paths.yaml", 2, "target group worker (Người lao động (doanh nghiệp, hợp tác xã)) has no"),
        (
            "paths.yaml",
            6,
            "core lesson 3 of path nguoi-dan is 'vneid-muc-2', which is already core lesson 1"
            " (line 6); a path lists each lesson once",
        ),
        (
            "paths.yaml",
            7,
            "optional lesson 1 of path nguoi-dan is 'otpp', but there is no lesson with that id"
            " (did you mean 'otp'?)",
        ),
        ("paths.yaml", 7, "optional lesson 2 of path nguoi-dan is 'otp', which is already core"),
        ("paths.yaml", 8, "path id 'nguoi-dan' is used twice in this file (first on line 3)"),
        (
            "paths.yaml",
            14,
            "path nguoi-dan-2 is for group adult with no min_age, like path nguoi-dan (line 3)",
        ),
        (
            "paths.yaml",
            23,
            "path cao-tuoi-2 is for group adult with min_age 60, like path cao-tuoi (line 16)",
        ),
        ("paths.yaml", 28, "'group' of path nong-dan is 'farmer', which is not a target group"),
        ("paths.yaml", 33, "'min_age' of path hoc-sinh is 0; it must be an age in years between"),
        ("paths.yaml", 34, "'core' of path hoc-sinh needs at least 1 core lesson; it has 0"),
        ("paths.yaml", 35, "'id' of path Hoc-Sinh-2 is 'Hoc-Sinh-2'; an id may contain only"),
        ("paths.yaml", 38, "'min_age' of path Hoc-Sinh-2 must be a whole number, not a text"),
        (
            "paths.yaml",
            39,
            "unknown field 'lessons' in path Hoc-Sinh-2; allowed fields: id, title, group,"
            " min_age, core, optional",
        ),
    ],
    "paths-answers-yaml": [
        ("answers/a-broken.yaml", 3, "YAML syntax error: mapping values are not allowed here"),
        (
            "answers/b-good.yaml",
            12,
            "'answer' is written twice in the same place (also on line 11)",
        ),
        ("paths.yaml", 3, "indent with spaces, not tabs"),
    ],
    "offtopic-broken": [
        ("offtopic.yaml", 4, "example 2 must be text, not a number; put it in quotes"),
        ("offtopic.yaml", 5, "example 3 is empty"),
        ("offtopic.yaml", 6, "unknown field 'example' (did you mean 'examples'?)"),
    ],
    "bad-topics-file": [
        ("lessons/qr.yaml", 3, "topic 2 is 'vneid.what', which is not a topic id"),
        ("topics.yaml", 3, "skill id 'pay' is used twice in this file (first on line 2)"),
        ("topics.yaml", 6, "topic id 'pay.qr' is used twice in this file (first on line 5)"),
        ("topics.yaml", 7, "names skill 'market', which is not under 'skills'"),
        ("topics.yaml", 8, "topic pay.otp is missing the required field 'skill'"),
    ],
}


@pytest.mark.parametrize("fixture", sorted(BROKEN))
def test_checker_reports_each_problem_at_its_line(fixture: str) -> None:
    problems = check_content(FIXTURES / fixture)
    expected = BROKEN[fixture]
    assert [(p.file, p.line) for p in problems] == [(f, line) for f, line, _ in expected], (
        "\n".join(map(str, problems))
    )
    for problem, (_, _, phrase) in zip(problems, expected, strict=True):
        assert phrase in problem.message, str(problem)


def test_load_content_raises_with_every_problem() -> None:
    with pytest.raises(ContentError) as caught:
        load_content(FIXTURES / "choice-questions")
    assert len(caught.value.problems) == 3
    assert "quizzes/qr.yaml:13: 'options' of question two-correct" in str(caught.value)


def test_problem_prints_as_file_line_message() -> None:
    problem = Problem("lessons/qr.yaml", 14, "card 3 is 412 characters long; the limit is 350")
    assert str(problem) == "lessons/qr.yaml:14: card 3 is 412 characters long; the limit is 350"


def test_valid_fixture_has_no_problems() -> None:
    assert check_content(FIXTURES / "valid") == []


def test_valid_fixture_loads_into_typed_models() -> None:
    content = load_content(FIXTURES / "valid")

    # Sorted by (order, id): two lessons share order 20, the third has the default 100.
    assert list(content.lessons) == ["lua-dao", "vneid-muc-2", "otp"]
    lesson = content.lessons["vneid-muc-2"]
    assert isinstance(lesson, Lesson)
    assert lesson.title == "Tài khoản VNeID mức 2"
    assert lesson.topics == ("vneid.level2", "vneid.what")
    assert lesson.groups == ("adult", "official")
    assert lesson.order == 20
    assert lesson.path == "lessons/vneid-muc-2.yaml"
    assert lesson.cards[0] == Card(
        text="Tài khoản mức 2 có giá trị như thẻ căn cước.", image="images/vneid.png"
    )
    assert lesson.cards[1].text == "Đăng ký mức 2 tại công an xã.\nKhông ai làm hộ được."
    assert lesson.cards[1].image is None
    assert lesson.sources == (Source(title="Cổng thông tin VNeID", url="https://vneid.gov.vn"),)
    assert content.lessons["otp"].order == 100
    assert content.lessons["otp"].sources[0].url is None

    quiz = content.quiz_for("vneid-muc-2")
    assert isinstance(quiz, Quiz)
    assert quiz.lesson_id == "vneid-muc-2"
    assert quiz.pass_mark == 2
    assert quiz.path == "quizzes/vneid-muc-2.yaml"
    choice, free = quiz.questions
    assert isinstance(choice, ChoiceQuestion)
    assert choice.correct_index == 0
    assert [option.correct for option in choice.options] == [True, False]
    assert isinstance(choice.options[1], Option)
    assert choice.options[1].explanation == "Sai: không ai đăng ký mức 2 qua link."
    assert isinstance(free, TextQuestion)
    assert free.accept == ("156", "5656")
    assert content.quiz_for("otp") is None
    assert set(content.quizzes) == {"vneid-muc-2"}

    # No topics.yaml in the fixture: the project's own taxonomy is used.
    assert content.topics["vneid.level2"].skill == "vneid"
    assert content.skills["pay"].title == "Thanh toán số"
    assert [lesson.id for lesson in content.lessons_for_skill("vneid")] == ["vneid-muc-2"]
    assert [lesson.id for lesson in content.lessons_for_skill("pay")] == ["otp"]
    assert content.lessons_for_skill("ai") == []


def test_models_and_content_are_immutable() -> None:
    content = load_content(FIXTURES / "valid")
    lesson = content.lessons["vneid-muc-2"]
    with pytest.raises(ValidationError):
        lesson.title = "Khác"  # type: ignore[misc]
    with pytest.raises(ValidationError):
        lesson.cards[0].text = "Khác"  # type: ignore[misc]
    quiz = content.quizzes["vneid-muc-2"]
    with pytest.raises(ValidationError):
        quiz.pass_mark = 1  # type: ignore[misc]
    assert isinstance(lesson.cards, tuple)  # not a list that could be appended to
    with pytest.raises(TypeError):
        content.lessons["new"] = lesson  # type: ignore[index]
    with pytest.raises(dataclasses.FrozenInstanceError):
        content.lessons = {}  # type: ignore[misc]
    assert isinstance(content, Content)


def test_content_folder_with_its_own_topics_file() -> None:
    content = load_content(FIXTURES / "own-topics")
    assert set(content.topics) == {"local.market", "pay.qr"}
    assert set(content.skills) == {"local", "pay"}
    assert [lesson.id for lesson in content.lessons_for_skill("local")] == ["cho-phien"]


def test_missing_folders_are_problems_not_exceptions(tmp_path: Path) -> None:
    assert check_content(tmp_path / "nowhere") == [
        Problem(str(tmp_path / "nowhere"), 0, "content folder not found")
    ]
    assert check_content(tmp_path) == [Problem("lessons/", 0, "folder not found")]
    (tmp_path / "lessons").mkdir()
    assert check_content(tmp_path) == []  # no quizzes folder is fine: quizzes are optional


def test_file_that_is_not_utf8(tmp_path: Path) -> None:
    (tmp_path / "lessons").mkdir()
    (tmp_path / "lessons" / "cp1258.yaml").write_bytes(b"id: qr\ntitle: \xd0\xe3\n")
    problems = check_content(tmp_path)
    assert [(p.file, p.line) for p in problems] == [("lessons/cp1258.yaml", 1)]
    assert "UTF-8" in problems[0].message


def test_card_length_counts_letters_not_combining_marks(tmp_path: Path) -> None:
    # 350 letters typed with decomposed diacritics (NFD) are more than 350 code points.
    text = unicodedata.normalize("NFD", "ế" * 350)
    assert len(text) > 350
    lesson = {
        "id": "dai",
        "title": "Dài",
        "topics": ["pay.qr"],
        "groups": ["adult"],
        "cards": [{"text": text}],
        "sources": [{"title": "x"}],
    }
    (tmp_path / "lessons").mkdir()
    (tmp_path / "lessons" / "dai.yaml").write_text(
        yaml.safe_dump(lesson, allow_unicode=True), encoding="utf-8"
    )
    assert check_content(tmp_path) == []
    assert load_content(tmp_path).lessons["dai"].cards[0].text == "ế" * 350


def test_models_built_in_code_skip_folder_checks() -> None:
    # The engine's tests build content in code: topics and image files are not looked up.
    lesson = Lesson(
        id="l",
        title="t",
        topics=("any.topic",),
        groups=("pupil",),
        cards=(Card(text="x", image="images/not-there.png"),),
        sources=(Source(title="s"),),
    )
    assert lesson.path == ""
    question = ChoiceQuestion(
        id="q",
        text="?",
        options=(
            Option(text="a", explanation="no"),
            Option(text="b", correct=True, explanation="yes"),
        ),
    )
    quiz = Quiz(lesson_id="l", pass_mark=1, questions=(question,))
    assert quiz.questions[0] == question
    assert question.correct_index == 1
    with pytest.raises(ValidationError, match="mark exactly one"):
        ChoiceQuestion(
            id="q",
            text="?",
            options=(Option(text="a", explanation="x"), Option(text="b", explanation="y")),
        )


def test_target_groups() -> None:
    assert TARGET_GROUPS == {
        "adult": "Người dân",
        "pupil": "Học sinh",
        "official": "Cán bộ, công chức",
        "worker": "Người lao động (doanh nghiệp, hợp tác xã)",
    }


def test_content_module_imports_no_chat_or_web_framework() -> None:
    code = (
        "import sys, bot.content; "
        "bad = {'telegram', 'fastapi', 'httpx', 'sqlmodel', 'sqlalchemy'} & set(sys.modules); "
        "print(sorted(bad))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"


def _topic_ids(path: Path) -> list[str]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return [topic["id"] for topic in data["topics"]]


def test_project_topics_match_the_shared_taxonomy() -> None:
    if not SHARED_TOPICS.is_file():
        pytest.skip(f"{SHARED_TOPICS} is not present beside the checkout")
    assert _topic_ids(PROJECT_TOPICS) == _topic_ids(SHARED_TOPICS)
    shared = yaml.safe_load(SHARED_TOPICS.read_text(encoding="utf-8"))
    project = yaml.safe_load(PROJECT_TOPICS.read_text(encoding="utf-8"))
    assert project == shared  # same ids, skills and titles


# --- the answer bank and learning paths ---

WITH_ANSWERS = FIXTURES / "answers-and-paths"


def test_content_with_answers_and_paths_has_no_problems() -> None:
    assert check_content(WITH_ANSWERS) == []


def test_answers_load_by_id_in_file_order() -> None:
    content = load_content(WITH_ANSWERS)
    # Files in name order (otp.yaml, vneid.yaml), entries in the order they are written.
    assert list(content.answers) == [
        "pay-otp-01",
        "pay-otp-02",
        "pay-otp-03",
        "pay-otp-04",
        "vneid-level2-01",
        "vneid-level2-02",
        "vneid-level2-03",
        "vneid-level2-04",
    ]
    answer = content.answers["pay-otp-01"]
    assert isinstance(answer, Answer)
    assert answer.topic == "pay.otp"
    assert answer.question == "Mã OTP là gì?"
    assert answer.paraphrases == (
        "ma otp la gi",
        "cái mã ngân hàng nhắn về là cái gì thế",
        "otp la j",
    )
    assert answer.wordings[0] == "Mã OTP là gì?"
    assert answer.answer.startswith("OTP là mã số ngân hàng gửi qua tin nhắn")
    assert answer.lesson == "otp"
    assert answer.sources == (Source(title="Ngân hàng Nhà nước", url="https://sbv.gov.vn"),)
    assert content.answers["pay-otp-04"].lesson is None
    with pytest.raises(ValidationError):
        answer.answer = "Khác"  # type: ignore[misc]
    with pytest.raises(TypeError):
        content.answers["new"] = answer  # type: ignore[index]


def test_paths_load_in_file_order() -> None:
    content = load_content(WITH_ANSWERS)
    assert [path.id for path in content.paths] == [
        "nguoi-dan",
        "nguoi-cao-tuoi",
        "hoc-sinh",
        "can-bo",
        "nguoi-lao-dong",
    ]
    older = content.paths[1]
    assert isinstance(older, LearningPath)
    assert (older.title, older.group, older.min_age) == ("Người cao tuổi", "adult", 60)
    assert older.core == ("otp", "vneid-muc-2", "otp-nang-cao")
    assert older.optional == ()
    assert content.paths[0].min_age is None
    assert content.paths[0].lessons == ("vneid-muc-2", "otp", "otp-nang-cao")
    assert isinstance(content.paths, tuple)


def test_content_without_answers_or_paths_is_still_valid() -> None:
    # Older trees have neither answers/ nor paths.yaml: no coverage check, empty collections.
    content = load_content(FIXTURES / "valid")
    assert dict(content.answers) == {}
    assert content.paths == ()
    assert content.path_for("adult", 70) is None


@pytest.mark.parametrize(
    ("group", "age", "expected"),
    [
        ("adult", 70, "nguoi-cao-tuoi"),
        ("adult", 60, "nguoi-cao-tuoi"),
        ("adult", 59, "nguoi-dan"),
        ("adult", None, "nguoi-dan"),
        ("pupil", 70, "hoc-sinh"),  # no min_age path for pupils: the plain one
        ("worker", 30, "nguoi-lao-dong"),
        (None, 70, None),
        ("farmer", 30, None),
    ],
)
def test_path_for_picks_the_most_specific_path(
    group: str | None, age: int | None, expected: str | None
) -> None:
    path = load_content(WITH_ANSWERS).path_for(group, age)
    assert (path.id if path else None) == expected


def test_path_for_prefers_the_highest_matching_min_age() -> None:
    def path(ident: str, min_age: int | None) -> LearningPath:
        return LearningPath(id=ident, title=ident, group="adult", min_age=min_age, core=("x",))

    content = dataclasses.replace(
        load_content(FIXTURES / "valid"),
        paths=(path("plain", None), path("seventy", 70), path("sixty", 60)),
    )

    def chosen(age: int) -> str | None:
        found = content.path_for("adult", age)
        return found.id if found else None

    assert [chosen(75), chosen(65), chosen(20)] == ["seventy", "sixty", "plain"]


def test_core_path_follows_paths_yaml_when_there_is_one() -> None:
    content = load_content(WITH_ANSWERS)
    # The plain path's core, not every lesson tagged with the group (that would add otp-nang-cao).
    assert core_path(content, "adult") == frozenset({"vneid-muc-2", "otp"})
    assert core_path(content, "pupil") == frozenset({"vneid-muc-2"})
    # Without paths.yaml: every lesson tagged with the group, as before.
    assert core_path(load_content(FIXTURES / "valid"), "pupil") == frozenset({"lua-dao", "otp"})


def test_answer_and_path_models_built_in_code_skip_folder_checks() -> None:
    answer = Answer(
        id="a",
        topic="any.topic",
        question="?",
        paraphrases=("x", "y"),
        answer="z",
        sources=(Source(title="s"),),
    )
    assert answer.lesson is None
    with pytest.raises(ValidationError, match="at least 2"):
        Answer(id="a", topic="t", question="?", paraphrases=("x",), answer="z", sources=())
    with pytest.raises(ValidationError, match="600"):
        Answer(
            id="a",
            topic="t",
            question="?",
            paraphrases=("x", "y"),
            answer="x" * 601,
            sources=(Source(title="s"),),
        )
    with pytest.raises(ValidationError, match="not a target group"):
        LearningPath(id="p", title="P", group="farmer", core=("x",))


# --- the printable catalogue ---


def test_catalog_markdown_shows_lessons_quizzes_answers_and_paths() -> None:
    text = catalog_markdown(load_content(WITH_ANSWERS))
    assert text.startswith("# Danh mục nội dung học\n")
    assert "### Bài 2. Mã OTP" in text  # a lesson title, in teaching order
    assert "**✔ Không đưa, tắt máy (đáp án đúng)**" in text  # the quiz's right answer
    assert "✘ Đọc mã cho họ" in text
    assert "Giải thích: Sai: ngân hàng không bao giờ hỏi mã OTP." in text
    assert "Chấp nhận: tin nhắn; sms" in text  # a free-text question's accepted answers
    assert "Ngân hàng Nhà nước: <https://sbv.gov.vn>" in text  # sources print their address
    # An answer of the bank, under its skill and topic, with its related lesson.
    assert "Đáp: Không. Ngân hàng không bao giờ hỏi mã OTP." in text
    assert text.index("### Thanh toán số") < text.index("#### Mã OTP: không bao giờ đưa cho ai")
    assert "Bài liên quan: Khi lỡ đưa mã OTP (`otp-nang-cao`)" in text
    # The paths, with the older residents' one.
    assert "### Người cao tuổi" in text
    assert "Dành cho: Người dân, từ 60 tuổi trở lên." in text
    # Markdown characters in content are escaped, lines of a card stay in its list item.
    assert "2. Mã OTP \\<b\\>không\\</b\\> đưa cho ai.  \n   Kể cả người xưng" in text


class _TagBalance(HTMLParser):
    """Check that every opened element is closed in order (void elements aside)."""

    VOID = frozenset({"meta", "br"})

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.errors: list[str] = []
        self.seen: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.seen.add(tag)
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack.pop() != tag:
            self.errors.append(tag)


def test_catalog_html_is_a_whole_page_and_escapes_content() -> None:
    page = catalog_html(load_content(WITH_ANSWERS))
    assert page.startswith('<!DOCTYPE html>\n<html lang="vi">')
    assert page.rstrip().endswith("</html>")
    assert "Mã OTP &lt;b&gt;không&lt;/b&gt; đưa cho ai.<br>" in page
    assert "<b>" not in page
    assert "<strong>✔ Không đưa, tắt máy (đáp án đúng)</strong>" in page
    assert '<a href="https://sbv.gov.vn">https://sbv.gov.vn</a>' in page
    assert "Ai gọi mời &quot;lên mức 3&quot; là kẻ lừa đảo." in page
    parser = _TagBalance()
    parser.feed(page)
    parser.close()
    assert parser.errors == [] and parser.stack == []
    assert {"html", "head", "body", "h1", "h2", "h3", "h4", "ol", "ul", "li"} <= parser.seen


def test_catalog_of_content_without_answers_or_paths() -> None:
    text = catalog(load_content(FIXTURES / "valid"), "md")
    assert "## Lộ trình học" not in text and "## Hỏi đáp" not in text
    assert "### Bài 1. Báo cáo lừa đảo" in text
    assert catalog(load_content(FIXTURES / "valid"), "html").startswith("<!DOCTYPE html>")
    with pytest.raises(ValueError, match="unknown catalogue format"):
        catalog(load_content(FIXTURES / "valid"), "pdf")


def _cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hocvuso.cli", *args],
        cwd=Path(__file__).resolve().parents[1],  # where the sample commune.yaml is
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_cli_writes_the_html_catalogue_of_the_configured_content(tmp_path: Path) -> None:
    out = tmp_path / "danh-muc.html"
    env = {"HOCVUSO_CONTENT_DIR": str(WITH_ANSWERS)}
    result = _cli("content", "catalog", "--format", "html", "--out", str(out), env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    assert out.read_text(encoding="utf-8") == catalog_html(load_content(WITH_ANSWERS))

    result = _cli("content", "catalog", str(WITH_ANSWERS), env={})
    assert result.returncode == 0, result.stderr
    assert result.stdout == catalog_markdown(load_content(WITH_ANSWERS))


def test_cli_catalogue_refuses_content_with_problems(tmp_path: Path) -> None:
    out = tmp_path / "danh-muc.md"
    result = _cli("content", "catalog", str(FIXTURES / "answers-across"), "--out", str(out), env={})
    assert result.returncode == 1
    assert "answers/c-empty.yaml:1: the file has no entries" in result.stderr
    assert not out.exists()


# --- the YAML reader with line numbers ---


def test_yaml_lines_of_keys_and_items() -> None:
    doc = parse_yaml("# comment\nid: a\ncards:\n  - text: x\n  - {text: y}\naccept: [156, '5']\n")
    assert doc.lines[()] == 2
    assert doc.lines[("id",)] == 2
    assert doc.lines[("cards", 1, "text")] == 5
    assert doc.line_of(("cards", 0, "missing", 3)) == 4
    assert doc.raw_scalars == {("accept", 0): "156"}


def test_yaml_duplicate_keys_keep_the_last_like_pyyaml() -> None:
    doc = parse_yaml("title: a\nid: x\ntitle: b\n")
    assert doc.data == {"title": "b", "id": "x"}
    assert [(d.key, d.line, d.first_line) for d in doc.duplicate_keys] == [("title", 3, 1)]


def test_yaml_merge_key_override_is_not_a_duplicate() -> None:
    doc = parse_yaml("base: &b {text: a, image: i}\ncard:\n  <<: *b\n  text: c\n")
    assert doc.data == {"base": {"text": "a", "image": "i"}, "card": {"text": "c", "image": "i"}}
    assert doc.duplicate_keys == ()


@pytest.mark.parametrize(
    ("text", "line"),
    [("a: b: c\n", 1), ("a: 1\n---\nb: 2\n", 2), ("a: &x [*x]\n", 1), ("x: !custom 1\n", 1)],
)
def test_yaml_errors_carry_a_line(text: str, line: int) -> None:
    with pytest.raises(YamlSyntaxError) as caught:
        parse_yaml(text)
    assert caught.value.line == line
