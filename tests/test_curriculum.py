"""The project's own curriculum meets the brief: coverage, quiz shape, paths, the answer bank."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from server import PROJECT

from bot.content import TARGET_GROUPS, ChoiceQuestion, Content, load_content
from bot.textnorm import fold

EVAL = PROJECT.parent / "shared" / "eval" / "questions-dev.yaml"
# Whom to ask when something goes wrong: every lesson ends by saying it.
HELPERS = re.compile(
    r"tổ công nghệ số|công an|ngân hàng|tổng đài|một cửa|tình nguyện viên|đoàn thanh niên|"
    r"bưu điện|giáo viên|thầy cô|111|113|115|156|ủy ban|trạm y tế|bảo hiểm xã hội|hỏi",
    re.IGNORECASE,
)
# A realistic situation: someone calls, texts or sends something, and the learner must act.
SITUATION = re.compile(
    r"có người|bạn nhận|bạn thấy|gọi|nhắn|gửi|tự xưng|người lạ|con bạn|bạn đang", re.IGNORECASE
)


@pytest.fixture(scope="module")
def content() -> Content:
    return load_content(PROJECT)


def test_at_least_30_lessons_cover_every_topic(content: Content) -> None:
    assert len(content.lessons) >= 30
    covered = {topic for lesson in content.lessons.values() for topic in lesson.topics}
    assert covered == set(content.topics)


def test_every_lesson_has_a_quiz_of_2_to_5_explained_questions(content: Content) -> None:
    for lesson in content.lessons.values():
        quiz = content.quiz_for(lesson.id)
        assert quiz is not None, lesson.id
        assert 2 <= len(quiz.questions) <= 5, lesson.id
        for question in quiz.questions:
            if isinstance(question, ChoiceQuestion):
                assert all(option.explanation for option in question.options)
            else:
                assert question.explanation


def test_every_safety_lesson_asks_about_a_realistic_situation(content: Content) -> None:
    for lesson in content.lessons.values():
        if any(topic.startswith("safe.") for topic in lesson.topics):
            quiz = content.quiz_for(lesson.id)
            assert quiz is not None
            assert any(SITUATION.search(q.text) and len(q.text) > 60 for q in quiz.questions), (
                lesson.id
            )


def test_every_lesson_ends_with_whom_to_ask_and_lists_sources(content: Content) -> None:
    for lesson in content.lessons.values():
        assert HELPERS.search(lesson.cards[-1].text), lesson.id
        assert lesson.sources, lesson.id


def test_a_learning_path_per_group_and_one_for_older_people(content: Content) -> None:
    plain = {path.group for path in content.paths if path.min_age is None}
    assert plain == set(TARGET_GROUPS)
    older = [path for path in content.paths if path.min_age is not None]
    assert [(p.group, p.min_age) for p in older] == [("adult", 60)]
    assert content.path_for("adult", 70) == older[0]


def test_the_answer_bank_has_200_sourced_entries_in_residents_styles(content: Content) -> None:
    answers = list(content.answers.values())
    assert len(answers) >= 200
    per_topic = {topic: 0 for topic in content.topics}
    for answer in answers:
        per_topic[answer.topic] += 1
        assert len(answer.answer) <= 600 and answer.sources
        assert len(answer.paraphrases) >= 2
        # At least one paraphrase typed without diacritics, as most residents type.
        assert any(
            p.lower() == fold(p) or fold(p) == p.lower().strip(" ?.!") for p in answer.paraphrases
        )
    assert min(per_topic.values()) >= 4


def test_no_wording_is_copied_from_the_evaluation_set(content: Content) -> None:
    if not EVAL.is_file():
        pytest.skip("../shared/eval is not beside the project")
    held_out = {fold(item["q"]) for item in yaml.safe_load(EVAL.read_text("utf-8"))["items"]}
    copied = [
        answer.id
        for answer in content.answers.values()
        for wording in (answer.question, *answer.paraphrases)
        if fold(wording) in held_out
    ]
    copied += [text for text in content.offtopic if fold(text) in held_out]
    assert copied == []


def test_the_catalogue_lists_every_lesson(content: Content, tmp_path: Path) -> None:
    from bot.catalog import catalog

    text = catalog(content, "md")
    assert all(lesson.title in text for lesson in content.lessons.values())
