"""The content model, loader and checker: lessons and quizzes as teachers write them."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
import unicodedata
from pathlib import Path

import pytest
import yaml
from pydantic import ValidationError

from bot.content import (
    PROJECT_TOPICS,
    TARGET_GROUPS,
    Card,
    ChoiceQuestion,
    Content,
    ContentError,
    Lesson,
    Option,
    Problem,
    Quiz,
    Source,
    TextQuestion,
    check_content,
    load_content,
)
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
